#!/usr/bin/env bash
# `npm test`: lint, unit tests (pure + Pulumi mocks), the stand-ins' Go tests,
# the real Pulumi engine (preview, the whole lifecycle, switch, the plugin
# schemas), the Kubernetes test cluster (kwok's fake GPU nodes) and the
# kubernetes plugin's schema, and integration tests against a real dockerd
# with the stand-in GPU runtime. Sets up what it needs (Node 22, dockerd, the
# stand-in image, the test cluster, the Pulumi CLI and the docker, command and
# kubernetes plugins) and reuses caches.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=toolchain.sh
source scripts/toolchain.sh
toolchain_node

echo "== lint (eslint with @pulumi/eslint-plugin, tsc --noEmit)"
npx eslint .
npx tsc --noEmit -p .

echo "== unit tests (pure helpers, config schema, Pulumi mocks)"
node --import tsx --test --test-concurrency=2 \
  'components/**/*.test.ts' 'tools/**/*.test.ts' 'test/*.test.ts'

echo "== stand-ins (vLLM, the command plugin): go test"
(cd standin && go test ./...)
(cd standin/command && go test ./...)

# The engine suites and the integration tests both need the daemon and the images.
bash scripts/dockerd.sh start
bash scripts/build-standin.sh --pinned >/dev/null
echo "== the stand-in host's GPU memory: two models on the same GPUs fail as on the real box"
bash standin/gpumem.sh
# The gateway: the real Caddy the stacks pin, built offline (caddy:<version>).
bash scripts/build-gateway.sh >/dev/null
# The remote GPU host of the ssh suite: Debian's sshd on 127.0.0.1:2222, its own config and keys.
bash scripts/sshd.sh start
# The Kubernetes test cluster: etcd, the control plane and kwok's fake GPU
# nodes on 127.0.0.1:16443, built from the Go module proxy (~15-20 min the first time).
bash scripts/k8s.sh start
# Its real node: a kubelet on its own containerd, to run the stand-in image for real.
bash scripts/k8s.sh node start

echo "== real Pulumi engine (the CLI built from the Go module proxy, cached after the first run)"
toolchain_pulumi
# Official plugins where installed or downloadable, else our offline builds;
# without plugins the engine suites cannot run, and that is a failure.
toolchain_plugins || { for m in "${_tc_missing[@]}"; do echo "MISSING $m" >&2; done; exit 1; }
# The real Compose v2, which `npm run import` parses the old files with.
# shellcheck source=compose.sh
source scripts/compose.sh
toolchain_compose || { for m in "${_tc_missing[@]}"; do echo "MISSING $m" >&2; done; exit 1; }
node --import tsx --test --test-concurrency=1 'test/engine/*.test.ts'

echo "== kubernetes: the test cluster (kwok's GPU nodes) and the kubernetes plugin against @pulumi/kubernetes"
node --import tsx --test --test-concurrency=1 'test/k8s/*.test.ts'

# Before the integration tests, so the test runner's summary closes the run.
echo "== bench, short mode (1 run, D = 2 s, L = 2 s): it must run; timings never fail it"
node --import tsx tools/bench.ts --short

echo "== integration: real dockerd, stand-in image, real HTTP"
node --import tsx --test --test-concurrency=1 'test/integration/*.test.ts'

#!/usr/bin/env bash
# `npm run demo`: the main job on a local stand-in GPU host, through the Pulumi
# engine. Sets up Node 22, dockerd with the stand-in GPU runtime, the stand-in
# vLLM image, the Pulumi CLI and the docker and command plugins, then runs
# tools/demo.ts. `npm run demo -- --down` destroys its stacks, keeping caches.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=toolchain.sh
source scripts/toolchain.sh
toolchain_node
[ -d node_modules ] || npm ci --no-audit --no-fund
case " $* " in *" --help "*|*" -h "*) exec node --import tsx tools/demo.ts "$@" ;; esac
bash scripts/dockerd.sh start
bash scripts/build-standin.sh --pinned >/dev/null
# The gateway: the real Caddy the stacks pin, built offline (caddy:<version>).
bash scripts/build-gateway.sh >/dev/null
toolchain_pulumi || { echo "demo: the pulumi CLI could not be had" >&2; exit 1; }
toolchain_plugins || { for m in "${_tc_missing[@]}"; do echo "demo: MISSING $m" >&2; done; exit 1; }
# The fake nvidia-smi answers the host probe, as nvidia-smi would on the GPU host.
export PATH="$PWD/standin/nvidia:$PATH" MYIA_NVIDIA_SMI_SCENARIO=${MYIA_NVIDIA_SMI_SCENARIO:-rtx4090x2-idle}
exec node --import tsx tools/demo.ts "$@"

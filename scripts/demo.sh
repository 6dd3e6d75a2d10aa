#!/usr/bin/env bash
# `npm run demo`: the main job on a local stand-in GPU host. Sets up Node 22,
# dockerd with the stand-in GPU runtime and the stand-in vLLM image, then runs
# tools/demo.ts. `npm run demo -- --down` removes what it made except caches.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=toolchain.sh
source scripts/toolchain.sh
toolchain_node
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/dockerd.sh start
bash scripts/build-standin.sh --pinned >/dev/null
# The fake nvidia-smi answers the host probe, as nvidia-smi would on the GPU host.
export PATH="$PWD/standin/nvidia:$PATH" MYIA_NVIDIA_SMI_SCENARIO=${MYIA_NVIDIA_SMI_SCENARIO:-rtx4090x2-idle}
exec node --import tsx tools/demo.ts "$@"

#!/usr/bin/env bash
# Two models on the same GPUs of the stand-in host now fail as on the real box
# (standin/vllm/gpumem, the GPU hook of scripts/dockerd.sh, the fake nvidia-smi):
#
#   bash standin/gpumem.sh
#
# 1. A (0.11.0, 0.9, GPUs 0,1, tp 2) starts; nvidia-smi shows its booking under its host pid.
# 2. B (0.34.0, 0.9, same GPUs) is refused with vLLM's ValueError, exit 1.
# 3. A stops; B starts. Then medium's and medium-vl's utilizations (0.95, 0.85)
#    each start alone, and the second is refused while the first runs.
# 4. Sleep mode: C (0.34.0, 0.6, dev mode, --enable-sleep-mode) sleeps: D (0.5)
#    then fits; C's wake_up fails while D holds the memory, succeeds once D is gone.
# 5. SIGKILL: a killed stand-in's booking stops counting at once.
#
# Runs on a ledger of its own (MYIA_GPU_HOST=gpumem-test-<pid>) and on images of
# its own (myia/vllm-standin-gpumem:v<version>), so it never meets the tests of
# someone else on the same dockerd. Host ports 5102 and 5104. Removes what it creates.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
gpuhost="gpumem-test-$$"
ledger=/run/myia-vllm/gpu/$gpuhost
names=()
p="gpumem-$$-" # container names
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
cleanup() {
  local n
  for n in "${names[@]}"; do docker rm -f "$n" >/dev/null 2>&1 || true; done
  rm -rf "$ledger"
}
trap cleanup EXIT

bash "$repo/scripts/dockerd.sh" start
hook=${MYIA_CACHE:-$HOME/.cache/myia-vllm}/docker/bin/nvidia-container-runtime-hook
if ! grep -q myia-gpu-grant "$hook" 2>/dev/null; then
  echo "gpumem: the GPU hook at $hook is the old no-op one; install the ledger hook (no restart): bash scripts/dockerd.sh hook" >&2
  exit 1
fi
for v in 0.11.0 0.34.0; do
  STANDIN_IMAGE="myia/vllm-standin-gpumem:v$v" nice -n 10 bash "$repo/scripts/build-standin.sh" "$v" >/dev/null
done

smi() { MYIA_GPU_HOST=$gpuhost bash "$here/nvidia/nvidia-smi" "$@"; }
# run NAME VERSION PORT ARGS...: starts a GPU container as the Pulumi program does (device request, runtime nvidia)
run() {
  local name=$p$1 v=$2 port=$3
  shift 3
  names+=("$name")
  docker run -d --name "$name" --runtime nvidia --gpus '"device=0,1"' -p "127.0.0.1:$port:$port" \
    -e MYIA_GPU_HOST="$gpuhost" -e STANDIN_LOAD_SECONDS=0.2 -e STANDIN_DOWNLOAD_SECONDS=0 \
    -e STANDIN_SLEEP_SECONDS=0.2 -e STANDIN_WAKE_SECONDS=0.2 -e VLLM_SERVER_DEV_MODE=1 \
    "myia/vllm-standin-gpumem:v$v" Org/M --port "$port" -tp 2 "$@" >/dev/null
}
# healthy PORT: /health answers within 15 s
healthy() {
  local i
  for i in $(seq 1 60); do
    curl -fs "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  return 1
}
# refused NAME: the container exited 1 with vLLM's message
# (docker wait can return before dockerd has copied the last lines to the log: retry the grep)
refused() {
  local code i
  code=$(docker wait "$p$1")
  [ "$code" = 1 ] || { echo "# $1 exited $code" >&2; return 1; }
  for i in $(seq 1 20); do
    docker logs "$p$1" 2>&1 | grep -q "is less than desired GPU memory utilization" && return 0
    sleep 0.1
  done
  echo "# $1's log: $(docker logs "$p$1" 2>&1 | tail -3)" >&2
  return 1
}
used() { smi --query-gpu=memory.used --format=csv,noheader,nounits | paste -sd' '; }
hostpid() { docker inspect -f '{{.State.Pid}}' "$p$1"; }

# 1-2
run a 0.11.0 5102 --gpu-memory-utilization 0.9
healthy 5102 && ok "A (0.11.0, 0.9) starts on GPUs 0,1" || bad "A did not start: $(docker logs "$p"a 2>&1 | tail -5)"
[ "$(used)" = "21909 21909" ] && ok "nvidia-smi: memory.used 21909 MiB on both GPUs (1 + ceil(0.9 x 24564) - 200 left unused)" || bad "memory.used: $(used)"
apps=$(smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits | paste -sd' ')
[ "$apps" = "$(hostpid a), 21908 $(hostpid a), 21908" ] && ok "nvidia-smi --query-compute-apps: A's host pid (what docker top shows), 21908 MiB per GPU" || bad "compute apps: $apps"
run b 0.34.0 5104 --gpu-memory-utilization 0.9
if refused b; then
  ok "B (0.34.0, 0.9) on the same GPUs is refused: $(docker logs "$p"b 2>&1 | grep '^ValueError' | head -1)"
else
  bad "B was not refused: $(docker logs "$p"b 2>&1 | tail -5)"
fi
# stderr only: docker logs interleaves the two streams in no fixed order
docker logs "$p"b 2>&1 >/dev/null | tail -1 | grep -q "^RuntimeError: Engine core initialization failed" && ok "B's stderr ends with EngineCore's RuntimeError" || bad "B's last stderr line: $(docker logs "$p"b 2>&1 >/dev/null | tail -1)"

# 3
docker stop -t 5 "$p"a >/dev/null
docker rm -f "$p"b >/dev/null
run b 0.34.0 5104 --gpu-memory-utilization 0.9
healthy 5104 && ok "after A stops, B starts" || bad "B did not start after A stopped: $(docker logs "$p"b 2>&1 | tail -5)"
docker rm -f "$p"a "$p"b >/dev/null
run m 0.11.0 5102 --gpu-memory-utilization 0.95
healthy 5102 && ok "medium's 0.95 fits the default scenario alone" || bad "0.95 alone: $(docker logs "$p"m 2>&1 | tail -3)"
run vl 0.34.0 5104 --gpu-memory-utilization 0.85
refused vl && ok "medium-vl's 0.85 is refused while medium runs" || bad "0.85 beside 0.95 was not refused"
docker stop -t 5 "$p"m >/dev/null
docker rm -f "$p"vl >/dev/null
run vl 0.34.0 5104 --gpu-memory-utilization 0.85
healthy 5104 && ok "medium-vl's 0.85 starts once medium is stopped (the takeover's order)" || bad "0.85 after stop: $(docker logs "$p"vl 2>&1 | tail -3)"
docker rm -f "$p"m "$p"vl >/dev/null

# 4
run c 0.34.0 5102 --gpu-memory-utilization 0.6 --enable-sleep-mode
healthy 5102 || bad "C did not start: $(docker logs "$p"c 2>&1 | tail -3)"
run d 0.34.0 5104 --gpu-memory-utilization 0.5
refused d && ok "D (0.5) is refused beside an awake C (0.6)" || bad "D was not refused beside an awake C"
docker rm -f "$p"d >/dev/null
body=$(curl -s -X POST "http://127.0.0.1:5102/sleep?level=1")
[ "$body" = '{"level":1,"status":"sleeping"}' ] && ok "C: POST /sleep?level=1 -> $body" || bad "sleep: $body"
[ "$(used)" = "1281 1281" ] && ok "asleep, C holds only its leftover: memory.used 1281 MiB" || bad "memory.used asleep: $(used)"
[ "$(curl -s http://127.0.0.1:5102/is_sleeping)" = '{"is_sleeping":true}' ] && ok "C: /is_sleeping true" || bad "is_sleeping"
run d 0.34.0 5104 --gpu-memory-utilization 0.5
healthy 5104 && ok "D (0.5) starts beside a sleeping C" || bad "D beside a sleeping C: $(docker logs "$p"d 2>&1 | tail -3)"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:5102/wake_up")
[ "$code" = 500 ] && ok "C: /wake_up is a 500 while D holds the memory" || bad "wake_up beside D: $code"
docker rm -f "$p"d >/dev/null
body=$(curl -s -X POST "http://127.0.0.1:5102/wake_up")
[ "$body" = '{"status":"awake","tags":null}' ] && ok "C: /wake_up once D is gone -> $body" || bad "wake_up: $body"
[ "$(used)" = "14540 14540" ] && ok "awake again: memory.used 14540 MiB" || bad "memory.used awake: $(used)"

# 5
docker kill -s KILL "$p"c >/dev/null
docker wait "$p"c >/dev/null
[ "$(used)" = "1 1" ] && ok "SIGKILLed, C's booking no longer counts: memory.used 1 MiB" || bad "after SIGKILL: $(used)"

echo "gpumem: $pass passed, $fail failed"
[ "$fail" = 0 ]

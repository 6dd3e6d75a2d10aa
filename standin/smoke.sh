#!/usr/bin/env bash
# Smoke test of the stand-in vllm/vllm-openai image on the local Docker daemon,
# run the way the Pulumi program runs the real one (nvidia runtime, published
# port, mounted HF cache, API key, curl healthcheck).
#
#   bash standin/smoke.sh            # vLLM 0.11.0; STANDIN_VERSION=0.20.0 for another
#
# Starts the daemon (scripts/dockerd.sh) and builds the image
# (scripts/build-standin.sh) if needed; uses standin/testdata/flags-sample.json
# when components/vllm/flags/v<version>.json does not exist yet.
# Needs bash, curl and docker on the host. Removes what it creates.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
version=${STANDIN_VERSION:-0.11.0}
image="vllm/vllm-openai:v$version"
model="Qwen/Qwen2.5-VL-3B-Instruct"
key="smoke-key-$$-$RANDOM"
run_id="myia-standin-smoke-$$"
names=()
hf=""

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

cleanup() {
  local n
  for n in "${names[@]}"; do docker rm -f "$n" >/dev/null 2>&1 || true; done
  [ -n "$hf" ] && rm -rf "$hf"
}
trap cleanup EXIT

command -v curl >/dev/null || { echo "smoke: needs curl on the host" >&2; exit 1; }
bash "$repo/scripts/dockerd.sh" start

if [ -z "${STANDIN_FLAGS_FILE:-}" ] && [ ! -f "$repo/components/vllm/flags/v$version.json" ]; then
  export STANDIN_FLAGS_FILE="$repo/standin/testdata/flags-sample.json"
  echo "smoke: no components/vllm/flags/v$version.json; using the sample table" >&2
fi
t=$(now)
image_id=$(bash "$repo/scripts/build-standin.sh" "$version")
echo "# image $image ($image_id) ready in $(since "$t")s"

hf=$(mktemp -d "${TMPDIR:-/tmp}/standin-smoke-hf.XXXXXX")

# 64x64 red and 32x32 blue PNGs
RED="iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+aJAAAAT0lEQVR42u3PQQkAAAgEsAtx/ZMZxgi+hcEKLNO+FgEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQGBywKqxUDxqh7TUQAAAABJRU5ErkJggg=="
BLUE="iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAIAAAD8GO2jAAAAKklEQVR42mMQ0bhDU8QwasGoBaMWjFowasGoBaMWjFowasGoBaMWDBULAHncYD2v4JFYAAAAAElFTkSuQmCC"
img() { printf '{"type":"image_url","image_url":{"url":"data:image/png;base64,%s"}}' "$1"; }
chat_body() { # chat_body IMG...
  local parts='{"type":"text","text":"What is in the picture?"}' i
  for i in "$@"; do parts="$parts,$(img "$i")"; done
  printf '{"model":"%s","messages":[{"role":"user","content":[%s]}],"max_tokens":64}' "$model" "$parts"
}

# start NAME [extra docker args...] -- [vllm args...]
start() {
  local name=$1; shift
  local dargs=() vargs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do dargs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  vargs=("$@")
  names+=("$name")
  docker run -d --name "$name" \
    --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=0,1 \
    -p 127.0.0.1::8000 \
    -v "$hf:/root/.cache/huggingface" \
    -e VLLM_API_KEY="$key" \
    -e STANDIN_DOWNLOAD_SECONDS=2 -e STANDIN_LOAD_SECONDS=3 \
    --health-cmd 'curl -fsS http://localhost:8000/health' \
    --health-interval 1s --health-timeout 2s --health-retries 60 \
    "${dargs[@]}" "$image" "${vargs[@]}" >/dev/null
}

host_port() { docker port "$1" 8000/tcp | head -n 1 | sed 's/.*://'; }

wait_healthy() { # wait_healthy NAME TIMEOUT
  local i s
  for i in $(seq 1 $(($2 * 4))); do
    s=$(docker inspect -f '{{.State.Health.Status}}' "$1" 2>/dev/null || echo gone)
    [ "$s" = healthy ] && return 0
    [ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null)" = true ] || return 1
    sleep 0.25
  done
  return 1
}

code() { # code URL [curl args...]: prints the HTTP status (000 on no answer)
  local url=$1; shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# ---- first start: download, load, serve ----
t=$(now)
start "$run_id-a" -- "$model" --limit-mm-per-prompt '{"image":3}' --max-model-len 32k --served-model-name "$model"
port=$(host_port "$run_id-a")
base="http://127.0.0.1:$port"
check "/health fails while the model loads" test "$(code "$base/health")" != 200
check "container is not healthy while loading" test "$(docker inspect -f '{{.State.Health.Status}}' "$run_id-a")" != healthy
if wait_healthy "$run_id-a" 60; then
  ok "container became healthy in $(since "$t")s (download 2s + load 3s + healthcheck interval)"
else
  bad "container never became healthy"; docker logs "$run_id-a" 2>&1 | tail -n 20
fi
check "/health passes after load" test "$(code "$base/health")" = 200
table_version=$(docker image inspect -f '{{index .Config.Labels "org.myia.standin.vllm"}}' "$image")
check "/version answers without key ({\"version\":\"$table_version\"})" test "$(curl -s "$base/version")" = "{\"version\":\"$table_version\"}"
check "/metrics has vllm:num_requests_running" bash -c "curl -s '$base/metrics' | grep -q '^vllm:num_requests_running{'"
check "/v1/models is 401 without the key" test "$(code "$base/v1/models")" = 401
check "/v1/models 401 body is {\"error\":\"Unauthorized\"}" test "$(curl -s "$base/v1/models")" = '{"error":"Unauthorized"}'
check "/v1/models is 200 with the key" test "$(code "$base/v1/models" -H "Authorization: Bearer $key")" = 200
check "/v1/models lists the model" bash -c "curl -s '$base/v1/models' -H 'Authorization: Bearer $key' | grep -q '\"id\":\"$model\"'"

reply=$(curl -s --max-time 10 "$base/v1/chat/completions" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' -d "$(chat_body "$RED")")
check "chat with 1 image: '[vllm stand-in] 1 image: 64x64, mostly red'" grep -q '\[vllm stand-in\] 1 image: 64x64, mostly red' <<<"$reply"
reply=$(curl -s --max-time 10 "$base/v1/chat/completions" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' -d "$(chat_body "$RED" "$BLUE")")
check "chat with 2 images describes them" grep -q '\[vllm stand-in\] 2 images: 64x64, mostly red; 32x32, mostly blue' <<<"$reply"
check "chat reply is a chat.completion" grep -q '"object":"chat.completion"' <<<"$reply"

over=$(mktemp)
c4=$(curl -s -o "$over" -w '%{http_code}' --max-time 10 "$base/v1/chat/completions" -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' -d "$(chat_body "$RED" "$RED" "$BLUE" "$BLUE")")
check "4 images with a limit of 3 is a 400" test "$c4" = 400
check "  ... saying 'At most 3 image(s) may be provided in one prompt.'" grep -q 'At most 3 image(s) may be provided in one prompt.' "$over"
rm -f "$over"
check "first start logged the download" bash -c "docker logs '$run_id-a' 2>&1 | grep -q 'Downloading weights for $model'"
check "first start logged exactly one STANDIN listening line" test "$(docker logs "$run_id-a" 2>&1 | grep -c '^STANDIN listening at ')" = 1
check "the API key is not in the logs" bash -c "! docker logs '$run_id-a' 2>&1 | grep -q '$key'"
t=$(now)
docker stop -t 10 "$run_id-a" >/dev/null
stop_s=$(since "$t")
check "docker stop: exit code 0 (SIGTERM handled)" test "$(docker inspect -f '{{.State.ExitCode}}' "$run_id-a")" = 0
check "docker stop took ${stop_s}s (< 2s)" awk -v s="$stop_s" 'BEGIN{exit !(s < 2)}'

# ---- second start: the HF cache is reused ----
t=$(now)
start "$run_id-b" -- "$model" --limit-mm-per-prompt.image 3
if wait_healthy "$run_id-b" 60; then ok "second start healthy in $(since "$t")s"; else bad "second start never healthy"; fi
check "second start logged the cache hit" bash -c "docker logs '$run_id-b' 2>&1 | grep -q 'Using cached weights'"
check "second start did not download" bash -c "! docker logs '$run_id-b' 2>&1 | grep -q 'Downloading weights'"
docker rm -f "$run_id-b" >/dev/null

# ---- an unknown flag: exit 2 with argparse's message ----
start "$run_id-c" -- "$model" --swap-space 16
rc=$(timeout 30 docker wait "$run_id-c" || echo timeout)
check "unknown flag: container exits 2 (got $rc)" test "$rc" = 2
check "unknown flag: argparse's message in docker logs" bash -c \
  "docker logs '$run_id-c' 2>&1 | grep -qx 'vllm: error: unrecognized arguments: --swap-space 16'"
check "unknown flag: usage line in docker logs" bash -c "docker logs '$run_id-c' 2>&1 | grep -q '^usage: vllm '"

# ---- GPU device requests start too ----
check "docker run --gpus all starts the image" bash -c "docker run --rm --gpus all '$image' --help >/dev/null 2>&1"

echo "# $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]

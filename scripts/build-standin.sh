#!/usr/bin/env bash
# Builds the stand-in for the vllm/vllm-openai image, offline (no pulls):
#
#   bash scripts/build-standin.sh 0.11.0
#   bash scripts/build-standin.sh --pinned     # every release the stacks pin
#
# tags it myia/vllm-standin:v0.11.0 AND vllm/vllm-openai:v0.11.0, and prints
# the image id on stdout (everything else goes to stderr).
#
# The image holds one static Go binary (standin/cmd/vllm-standin) at
# /usr/local/bin/vllm, also reachable as /usr/bin/curl, /bin/sh and
# /usr/bin/python3 (it acts by argv[0]), the flag table of that vLLM release at /etc/vllm-standin/flags.json,
# /tmp and /root/.cache. The table is components/vllm/flags/v<version>.json,
# or the file named by STANDIN_FLAGS_FILE (e.g. standin/testdata/flags-sample.json).
# STANDIN_IMAGE=name:tag builds and tags only that image (e.g. to try a branch's
# stand-in on a shared dockerd without replacing the vllm/vllm-openai tags).
#
# Idempotent: when an image with the same content hash (binary + table +
# layout) already carries the tag, nothing is rebuilt.
# Needs: go (>= 1.26), docker with a daemon (bash scripts/dockerd.sh start), tar.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
log() { echo "build-standin: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ $# -eq 1 ] || { echo "usage: bash scripts/build-standin.sh <vllm-version, e.g. 0.11.0> | --pinned" >&2; exit 2; }
# --pinned: every release the committed stacks pin (what the demo and the tests run).
if [ "$1" = --pinned ]; then
  for v in $(cd "$repo" && node --import tsx -e 'import("./tools/lib/stacks.ts").then(m => console.log(m.pinnedVersions().join(" ")))'); do
    bash "$here/build-standin.sh" "$v"
  done
  exit 0
fi
version=${1#v}
[[ $version =~ ^[0-9]+(\.[0-9]+)*([a-z0-9.+-]*)$ ]] || die "not a version: $1"

# Bump when the rootfs layout changes, so old images are rebuilt.
LAYOUT=4

flags=${STANDIN_FLAGS_FILE:-$repo/components/vllm/flags/v$version.json}
if [ ! -f "$flags" ]; then
  die "no flag table at $flags. Generate it, or build with the sample table:
  STANDIN_FLAGS_FILE=$repo/standin/testdata/flags-sample.json bash scripts/build-standin.sh $version"
fi
table_version=$(sed -n 's/^[[:space:]]*"vllm"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$flags" | head -n 1)
if [ "$table_version" != "$version" ]; then
  log "warning: $flags describes vLLM ${table_version:-?}, not $version; the image will report ${table_version:-?} at /version"
fi

command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && PATH=/usr/local/go/bin:$PATH; }
command -v go >/dev/null || die "go is not on PATH"
docker info >/dev/null 2>&1 || die "no Docker daemon answers; run: bash scripts/dockerd.sh start"

work=$(mktemp -d "${TMPDIR:-/tmp}/build-standin.XXXXXX")
trap 'rm -rf "$work"' EXIT

t0=$(date +%s.%N)
log "building the stand-in binary (static, CGO_ENABLED=0)"
(cd "$repo/standin" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -buildvcs=false -ldflags "-s -w" \
  -o "$work/vllm" ./cmd/vllm-standin) || die "go build failed"

hash=$({ echo "layout $LAYOUT"; sha256sum <"$work/vllm"; sha256sum <"$flags"; } | sha256sum | cut -c1-64)
own_tag="myia/vllm-standin:v$version"
real_tag="vllm/vllm-openai:v$version"
# STANDIN_IMAGE=name:tag: that tag only (a branch's build beside the images others use).
if [ -n "${STANDIN_IMAGE:-}" ]; then own_tag=$STANDIN_IMAGE real_tag=$STANDIN_IMAGE; fi

existing=$(docker image inspect -f '{{index .Config.Labels "org.myia.standin.hash"}}' "$own_tag" 2>/dev/null || true)
if [ "$existing" = "$hash" ]; then
  id=$(docker image inspect -f '{{.Id}}' "$own_tag")
  real_id=$(docker image inspect -f '{{.Id}}' "$real_tag" 2>/dev/null || true)
  [ "$real_id" = "$id" ] || docker tag "$own_tag" "$real_tag"
  log "$own_tag is up to date (hash ${hash:0:12}); tagged $real_tag too"
  echo "$id"
  exit 0
fi

log "making the rootfs"
root="$work/rootfs"
mkdir -p "$root/usr/local/bin" "$root/usr/bin" "$root/bin" "$root/tmp" "$root/root/.cache/huggingface" \
  "$root/etc/vllm-standin" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
install -m 0755 "$work/vllm" "$root/usr/local/bin/vllm"
ln -s /usr/local/bin/vllm "$root/usr/bin/curl"
ln -s /usr/local/bin/vllm "$root/bin/sh"
ln -s /usr/local/bin/vllm "$root/usr/bin/python3"
install -m 0644 "$flags" "$root/etc/vllm-standin/flags.json"
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
cat >"$root/etc/vllm-standin/README" <<EOF
myia-vllm stand-in for vllm/vllm-openai:v$version (no GPU, no model).
/usr/local/bin/vllm: vllm serve; as /usr/bin/curl a minimal curl; as /bin/sh a minimal sh -c; as /usr/bin/python3 only snapshot_download.
flags.json: the accepted command line (vLLM ${table_version:-?}).
content hash: $hash
EOF
# Reproducible tar: fixed owner, mode and mtime, sorted names.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00:00Z' \
  -C "$root" -cf "$work/rootfs.tar" .

old_id=$(docker image inspect -f '{{.Id}}' "$own_tag" 2>/dev/null || true)
log "importing into Docker as $own_tag"
id=$(docker import \
  --change 'ENTRYPOINT ["/usr/local/bin/vllm","serve"]' \
  --change 'LABEL org.myia.standin=true' \
  --change "LABEL org.myia.standin.hash=$hash" \
  --change "LABEL org.myia.standin.vllm=${table_version:-$version}" \
  --change 'ENV HF_HOME=/root/.cache/huggingface' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'EXPOSE 8000/tcp' \
  --message "myia-vllm stand-in for vllm/vllm-openai:v$version" \
  "$work/rootfs.tar" "$own_tag")
docker tag "$own_tag" "$real_tag"
id=$(docker image inspect -f '{{.Id}}' "$own_tag")
if [ -n "$old_id" ] && [ "$old_id" != "$id" ]; then
  # the previous build is now untagged; drop it unless a container still uses it
  docker rmi "$old_id" >/dev/null 2>&1 || true
fi
log "built $own_tag and $real_tag ($id) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
echo "$id"

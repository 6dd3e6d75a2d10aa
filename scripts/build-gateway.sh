#!/usr/bin/env bash
# Builds the gateway image offline: the real Caddy, the same release the
# stacks pin (caddy:<CADDY_VERSION>), from the Go module proxy, for a machine
# with no container registry:
#
#   bash scripts/build-gateway.sh        # prints the image id on stdout
#
# This is not a stand-in: the binary is Caddy's own main package, built the
# way upstream's release builds it (see below), with the standard modules the
# official image has and no code of ours. The image mirrors the official one where the
# program depends on it: /usr/bin/caddy, the same CMD, XDG_CONFIG_HOME=/config,
# XDG_DATA_HOME=/data, /etc/caddy/Caddyfile. It lacks the official image's
# Alpine userland (sh, wget), which the program never uses: the gateway's
# gate and healthcheck go through the vLLM container (components/docker/gateway/).
# On a host with a registry, RemoteImage pulls the official caddy:<version>.
#
# Tags it myia/caddy:<version> AND caddy:<version>. Idempotent: when the
# image with the same content hash already carries the tag, nothing is rebuilt.
# Needs: go (>= 1.25), docker with a daemon (bash scripts/dockerd.sh start), tar.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
log() { echo "build-gateway: $*" >&2; }
die() { log "error: $*"; exit 1; }
[ $# -eq 0 ] || { echo "usage: bash scripts/build-gateway.sh   (builds caddy:$CADDY_VERSION from the Go module proxy)" >&2; exit 2; }

cache=${MYIA_CACHE:-$HOME/.cache/myia-vllm}
bin=$cache/caddy-$CADDY_VERSION/caddy
command -v go >/dev/null || { [ -x /usr/local/go/bin/go ] && PATH=/usr/local/go/bin:$PATH; }
command -v go >/dev/null || die "go is not on PATH"
docker info >/dev/null 2>&1 || die "no Docker daemon answers; run: bash scripts/dockerd.sh start"

t0=$(date +%s.%N)
if [ ! -x "$bin" ]; then
  log "building Caddy v$CADDY_VERSION from the Go module proxy (a few minutes the first time)"
  mkdir -p "$(dirname "$bin")"
  src=$(mktemp -d "${TMPDIR:-/tmp}/build-caddy.XXXXXX")
  # As upstream's release does (.goreleaser.yml): a module named caddy holding
  # upstream's own cmd/caddy/main.go, requiring caddy at the tag, tidied, then
  # built with the release's flags and tags. Built as a dependency, Caddy
  # knows its version (`caddy version`); nothing of ours is compiled in.
  (
    cd "$src"
    export GOFLAGS=-mod=mod CGO_ENABLED=0
    go mod init caddy >/dev/null 2>&1
    go mod download -json "github.com/caddyserver/caddy/v2@v$CADDY_VERSION" >mod.json
    dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' mod.json)
    install -m 0644 "$dir/cmd/caddy/main.go" main.go
    go mod edit -require="github.com/caddyserver/caddy/v2@v$CADDY_VERSION"
    go mod tidy >/dev/null 2>&1
    GOFLAGS=-mod=readonly go build -trimpath -tags nobadger,nomysql,nopgx -ldflags "-s -w" -o "$bin" .
  ) || { rm -rf "$src"; die "building caddy v$CADDY_VERSION failed"; }
  rm -rf "$src"
fi
got=$("$bin" version | awk '{print $1}')
[ "$got" = "v$CADDY_VERSION" ] || die "$bin says it is $got, not v$CADDY_VERSION"

# Bump when the rootfs layout changes, so old images are rebuilt.
LAYOUT=1
hash=$({ echo "layout $LAYOUT"; sha256sum <"$bin"; } | sha256sum | cut -c1-64)
own_tag="myia/caddy:$CADDY_VERSION"
real_tag="caddy:$CADDY_VERSION"
existing=$(docker image inspect -f '{{index .Config.Labels "org.myia.gateway.hash"}}' "$own_tag" 2>/dev/null || true)
if [ "$existing" = "$hash" ]; then
  id=$(docker image inspect -f '{{.Id}}' "$own_tag")
  [ "$(docker image inspect -f '{{.Id}}' "$real_tag" 2>/dev/null || true)" = "$id" ] || docker tag "$own_tag" "$real_tag"
  log "$own_tag is up to date (hash ${hash:0:12}); tagged $real_tag too"
  echo "$id"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/build-gateway.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root/usr/bin" "$root/etc/caddy" "$root/etc/ssl/certs" "$root/config/caddy" "$root/data/caddy" "$root/srv" "$root/tmp"
install -m 0755 "$bin" "$root/usr/bin/caddy"
chmod 1777 "$root/tmp"
# Upstream's image answers on :80 with a placeholder page until a config is mounted; so does this one.
printf ':80 {\n\trespond "caddy %s (myia-vllm offline build)"\n}\n' "$CADDY_VERSION" >"$root/etc/caddy/Caddyfile"
[ -f /etc/ssl/certs/ca-certificates.crt ] && install -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2000-01-01 00:00:00Z' -C "$root" -cf "$work/rootfs.tar" .

old_id=$(docker image inspect -f '{{.Id}}' "$own_tag" 2>/dev/null || true)
log "importing into Docker as $own_tag"
docker import \
  --change 'CMD ["caddy","run","--config","/etc/caddy/Caddyfile","--adapter","caddyfile"]' \
  --change 'ENV XDG_CONFIG_HOME=/config' \
  --change 'ENV XDG_DATA_HOME=/data' \
  --change 'ENV PATH=/usr/bin' \
  --change 'WORKDIR /srv' \
  --change 'EXPOSE 80/tcp 443/tcp 2019/tcp' \
  --change "LABEL org.myia.gateway.hash=$hash" \
  --change "LABEL org.opencontainers.image.version=v$CADDY_VERSION" \
  --change "LABEL org.myia.gateway.source=\"github.com/caddyserver/caddy/v2@v$CADDY_VERSION, Go module proxy\"" \
  --message "Caddy v$CADDY_VERSION built from the Go module proxy (myia-vllm, offline)" \
  "$work/rootfs.tar" "$own_tag" >/dev/null
docker tag "$own_tag" "$real_tag"
id=$(docker image inspect -f '{{.Id}}' "$own_tag")
if [ -n "$old_id" ] && [ "$old_id" != "$id" ]; then docker rmi "$old_id" >/dev/null 2>&1 || true; fi
log "built $own_tag and $real_tag ($id) in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s"
echo "$id"

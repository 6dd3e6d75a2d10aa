#!/usr/bin/env bash
# Puts the project's toolchain on PATH: Node.js >= 22 and the pulumi CLI; and
# resolves the docker, command and kubernetes plugins (official where installed
# or downloadable, else our offline builds, put in Pulumi's plugin cache:
# scripts/plugins.sh).
#
#   source scripts/toolchain.sh        # sets PATH and Pulumi's offline env in this shell
#   bash scripts/toolchain.sh          # just builds/caches, prints what it found
#
# Idempotent. Everything is cached under $MYIA_CACHE (default ~/.cache/myia-vllm),
# outside the repo. Order of attempts for each piece: what is already installed,
# then the official download (short timeout), then a build from the Go module proxy.
set -uo pipefail
_tc_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$_tc_here/versions.env"
MYIA_CACHE=${MYIA_CACHE:-$HOME/.cache/myia-vllm}
_tc_bin="$MYIA_CACHE/bin"
mkdir -p "$_tc_bin" "$MYIA_CACHE/go"
export GOPATH="$MYIA_CACHE/go" GOCACHE="$MYIA_CACHE/go-build" GOFLAGS=-mod=mod CGO_ENABLED=0

_tc_log() { echo "toolchain: $*" >&2; }

_tc_node() {
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 22 ]; then return 0; fi
  local dir="$MYIA_CACHE/node-$NODE_VERSION"
  if [ ! -x "$dir/node_modules/node/bin/node" ]; then
    _tc_log "system node is $(node --version 2>/dev/null || echo absent); installing node@$NODE_VERSION from the npm registry"
    mkdir -p "$dir" && (cd "$dir" && npm install --no-save --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >/dev/null) || return 1
  fi
  ln -sf "$dir/node_modules/node/bin/node" "$_tc_bin/node"
}

# Official installer, tried first with a short timeout; harmless where it is blocked.
_tc_official() {
  [ -x "$_tc_bin/pulumi" ] && return 0
  command -v curl >/dev/null || return 1
  local tgz="$MYIA_CACHE/pulumi-v$PULUMI_CLI_VERSION.tgz"
  curl -fsSL --max-time 15 -o "$tgz" \
    "https://get.pulumi.com/releases/sdk/pulumi-v$PULUMI_CLI_VERSION-linux-x64.tar.gz" 2>/dev/null || { rm -f "$tgz"; return 1; }
  tar -xzf "$tgz" -C "$MYIA_CACHE" && cp "$MYIA_CACHE"/pulumi/pulumi* "$_tc_bin/"
}

_tc_cli_from_go() {
  [ -x "$_tc_bin/pulumi" ] && return 0
  local w="$MYIA_CACHE/wrap-pulumi"
  mkdir -p "$w"
  cat >"$w/go.mod" <<MOD
module myia.local/wrap-pulumi

go 1.26

require (
	github.com/pulumi/pulumi/pkg/v3 v$PULUMI_CLI_VERSION
	github.com/pulumi/pulumi/sdk/v3 v$PULUMI_CLI_VERSION
)

replace github.com/atotto/clipboard => ${PULUMI_CLIPBOARD_FORK/@/ }
MOD
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n' >"$w/tools.go"
  _tc_log "building pulumi v$PULUMI_CLI_VERSION from the Go module proxy (tens of minutes the first time)"
  (cd "$w" && go mod tidy && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_CLI_VERSION" \
    -o "$_tc_bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
}

# Records why a piece could not be had, for the summary and the test output.
_tc_missing=()
_tc_blocked() { _tc_missing+=("$1: $2"); }

# Only the module proxy can be tried for a plugin; say exactly what it answered.
_tc_proxy_check() {
  local mv=$1 out
  out=$(go mod download -json "$mv" 2>&1 | grep -m1 '"Error"' | sed 's/.*"Error": "//; s/\\n.*//; s/",\?$//')
  [ -z "$out" ] && return 0
  echo "$out"
  return 1
}

# The nodejs language host: the official one comes with the CLI on a
# connected host. Offline it cannot be had (the proxy refuses its module), and
# only Automation API inline programs run, which is how our tools and tests
# drive the program; say so once.
_tc_language_host() {
  command -v pulumi-language-nodejs >/dev/null 2>&1 && return 0
  local mv="github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@$LANGUAGE_NODEJS_PSEUDO" why
  if ! why=$(_tc_proxy_check "$mv"); then
    _tc_log "note: no pulumi-language-nodejs: the Go module proxy refuses $mv ($why); only Automation API inline programs run here (our tools and tests use those)"
  fi
}

toolchain_node() { _tc_node || { _tc_log "could not get Node.js $NODE_VERSION"; return 1; }; }

toolchain_pulumi() {
  if [ -x "$_tc_bin/pulumi" ]; then return 0; fi
  if command -v pulumi >/dev/null 2>&1 && [ "$(pulumi version 2>/dev/null)" = "v$PULUMI_CLI_VERSION" ]; then return 0; fi
  _tc_official || _tc_cli_from_go || { _tc_blocked "pulumi $PULUMI_CLI_VERSION" "build failed"; return 1; }
}

# shellcheck source=plugins.sh
. "$_tc_here/plugins.sh"

# No update check. Plugins are resolved by toolchain_plugins (official first,
# installed explicitly), so the engine never downloads one behind our back.
export PATH="$_tc_bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  toolchain_node && _tc_log "node $(node --version)"
  toolchain_pulumi && _tc_log "pulumi $(pulumi version)"
  _tc_language_host
  toolchain_plugins
  for m in "${_tc_missing[@]}"; do _tc_log "MISSING $m"; done
  [ ${#_tc_missing[@]} -eq 0 ]
fi

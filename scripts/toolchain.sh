#!/usr/bin/env bash
# Puts the project's toolchain on PATH: Node.js >= 22, the pulumi CLI, a nodejs
# language host, and (where they can be had) the docker and command plugins.
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

# A Go build from the module proxy: wrapper module in the cache, one main package.
#   _tc_go_build <binary> <main package> <ldflags> <go.mod requires/replaces...>
_tc_go_build() {
  local bin=$1 pkg=$2 ldflags=$3 modbody=$4
  local w="$MYIA_CACHE/wrap-$bin"
  mkdir -p "$w"
  printf 'module myia.local/wrap-%s\n\ngo 1.26\n\n%s\n' "$bin" "$modbody" >"$w/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$w/tools.go"
  (cd "$w" && go mod tidy >"$w/build.log" 2>&1 && go build -trimpath -ldflags "-s -w $ldflags" -o "$_tc_bin/$bin" "$pkg" >>"$w/build.log" 2>&1)
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

_tc_plugin() {
  local name=$1 version=$2 mv=$3 pkg=$4 ldflags=$5 modbody=$6
  local bin="pulumi-resource-$name"
  [ "$name" = nodejs ] && bin=pulumi-language-nodejs
  if [ -x "$_tc_bin/$bin" ] || command -v "$bin" >/dev/null 2>&1; then return 0; fi
  local why
  if ! why=$(_tc_proxy_check "$mv"); then
    _tc_blocked "$bin $version" "the Go module proxy refuses $mv ($why)"
    return 1
  fi
  _tc_log "building $bin $version from the Go module proxy"
  _tc_go_build "$bin" "$pkg" "$ldflags" "$modbody" || { _tc_blocked "$bin $version" "build failed, see $MYIA_CACHE/wrap-$bin/build.log"; return 1; }
}

toolchain_node() { _tc_node || { _tc_log "could not get Node.js $NODE_VERSION"; return 1; }; }

toolchain_pulumi() {
  if [ -x "$_tc_bin/pulumi" ]; then return 0; fi
  if command -v pulumi >/dev/null 2>&1 && [ "$(pulumi version 2>/dev/null)" = "v$PULUMI_CLI_VERSION" ]; then return 0; fi
  _tc_official || _tc_cli_from_go || { _tc_blocked "pulumi $PULUMI_CLI_VERSION" "build failed"; return 1; }
}

toolchain_plugins() {
  local sdk="github.com/pulumi/pulumi/sdk/v3 v$PULUMI_CLI_VERSION"
  local pkgreq="github.com/pulumi/pulumi/pkg/v3 v$PULUMI_CLI_VERSION"
  _tc_plugin nodejs "$PULUMI_CLI_VERSION" \
    "github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3@$LANGUAGE_NODEJS_PSEUDO" \
    github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_CLI_VERSION" \
    "require (
	github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 $LANGUAGE_NODEJS_PSEUDO
	$sdk
	$pkgreq
)
replace github.com/atotto/clipboard => ${PULUMI_CLIPBOARD_FORK/@/ }"
  _tc_plugin command "$COMMAND_PLUGIN_VERSION" \
    "github.com/pulumi/pulumi-command/provider@$COMMAND_PROVIDER_PSEUDO" \
    github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command \
    "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_PLUGIN_VERSION" \
    "require github.com/pulumi/pulumi-command/provider $COMMAND_PROVIDER_PSEUDO"
  # The docker provider (4.11.0) also needs its generated schema-embed.json and a
  # shim module around the Terraform provider; its module is checked first, and
  # the proxy refuses it today, so that recipe is not attempted.
  local why
  if ! command -v pulumi-resource-docker >/dev/null 2>&1 && [ ! -x "$_tc_bin/pulumi-resource-docker" ]; then
    if ! why=$(_tc_proxy_check "github.com/pulumi/pulumi-docker/provider/v4@$DOCKER_PROVIDER_PSEUDO"); then
      _tc_blocked "pulumi-resource-docker $DOCKER_PLUGIN_VERSION" "the Go module proxy refuses github.com/pulumi/pulumi-docker/provider/v4@$DOCKER_PROVIDER_PSEUDO ($why)"
    elif ! why=$(_tc_proxy_check "github.com/kreuzwerker/terraform-provider-docker@$DOCKER_TF_PSEUDO"); then
      _tc_blocked "pulumi-resource-docker $DOCKER_PLUGIN_VERSION" "the Go module proxy refuses github.com/kreuzwerker/terraform-provider-docker@$DOCKER_TF_PSEUDO ($why)"
    else
      _tc_blocked "pulumi-resource-docker $DOCKER_PLUGIN_VERSION" "modules are served again: the wrapper build (shim + schema-embed.json) is still to be written"
    fi
  fi
}

# Pulumi offline: local state, no update check, no plugin downloads.
export PATH="$_tc_bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  toolchain_node && _tc_log "node $(node --version)"
  toolchain_pulumi && _tc_log "pulumi $(pulumi version)"
  toolchain_plugins
  for m in "${_tc_missing[@]}"; do _tc_log "MISSING $m"; done
  [ ${#_tc_missing[@]} -eq 0 ]
fi

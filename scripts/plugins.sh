#!/usr/bin/env bash
# The docker, command and kubernetes Pulumi plugins, resolved in one place.
# Sourced by scripts/toolchain.sh (`toolchain_plugins`). For each plugin, in order:
#   1. the official plugin, already installed at the pinned version: on PATH,
#      or in Pulumi's plugin cache (`pulumi plugin ls`), unless what the cache
#      holds is our own build (step 3 records the sha256 of what it installs);
#   2. the official plugin, downloaded: `pulumi plugin install resource <name>
#      <version>`, with a short timeout (it fails fast where the download is
#      blocked);
#   3. our offline build, cached under $MYIA_CACHE/plugins (outside the repo):
#      docker: plugins/docker, the Terraform bridge serving the upstream
#        provider, built from the Go module proxy;
#      command: standin/command, a stand-in that says so when it starts;
#      kubernetes: plugins/kubernetes, the official provider's own code
#        (provider/v4 at the v4.25.0 tag's commit) with the schema it embeds
#        generated from the module's schema.json.
#    The build is installed in Pulumi's plugin cache (`pulumi plugin install
#    resource <name> <version> --file <binary>`), where plain `pulumi` finds it
#    as it would an official one, with no "using pulumi-resource-<name> from
#    $PATH" warning. Only where there is no pulumi CLI to install it with is its
#    folder put on PATH instead.
# Each choice is printed and recorded in $MYIA_CACHE/plugins/resolved.tsv
# (name, version, source, path), which the engine runs read
# (tools/lib/plugins.ts) to say which plugin they used.

_pl_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_pl_dir="$MYIA_CACHE/plugins"
_pl_log() { echo "plugins: $*" >&2; }

# Where Pulumi's plugin cache keeps a resource plugin's binary.
_pl_cached() { echo "${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$1-v$2/pulumi-resource-$1"; }

# What we installed in the plugin cache: the sha256 of that binary.
_pl_mark() { echo "$_pl_dir/$1-$2.installed"; }

# True when the plugin cache holds the build we installed there (not an official plugin).
_pl_ours_cached() {
  local bin mark
  bin=$(_pl_cached "$1" "$2") mark=$(_pl_mark "$1" "$2")
  [ -x "$bin" ] && [ -s "$mark" ] && [ "$(sha256sum "$bin" | cut -d' ' -f1)" = "$(cat "$mark")" ]
}

# The official plugin, where the engine would find it; prints its path.
_pl_official() {
  local name=$1 version=$2 p
  p=$(command -v "pulumi-resource-$name" 2>/dev/null)
  if [ -n "$p" ] && [[ $p != "$_pl_dir"/* ]]; then echo "$p"; return 0; fi
  command -v pulumi >/dev/null 2>&1 || return 1
  _pl_ours_cached "$name" "$version" && return 1
  pulumi plugin ls --json 2>/dev/null | node -e '
    const [name, version, cached] = process.argv.slice(1);
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      const hit = (JSON.parse(s || "[]") || []).find((p) => p.kind === "resource" && p.name === name && p.version === version);
      if (!hit) process.exit(1);
      console.log(hit.path || cached);
    });' "$name" "$version" "$(_pl_cached "$name" "$version")"
}

# A hash of what an offline build is made of, so a change rebuilds it.
_pl_hash() {
  (cd "$1" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) ! -name schema-embed.json | LC_ALL=C sort | xargs sha256sum; go version) | sha256sum | cut -c1-16
}

# docker: the bridge's generator writes the schema, which the plugin embeds.
_pl_build_docker() {
  local version=$1 out=$2 w=$3
  local ld="-s -w -X myia.local/plugins/docker/version.Version=$version"
  cp -r "$_pl_root/plugins/docker/." "$w/"
  (cd "$w" && go build -ldflags "$ld" -o "$w/pulumi-tfgen-docker" ./cmd/pulumi-tfgen-docker) || return 1
  "$w/pulumi-tfgen-docker" schema --out "$w/cmd/pulumi-resource-docker" || return 1
  mv "$w/cmd/pulumi-resource-docker/schema.json" "$w/cmd/pulumi-resource-docker/schema-embed.json"
  (cd "$w" && go vet ./... && go build -ldflags "$ld" -o "$out/pulumi-resource-docker" ./cmd/pulumi-resource-docker)
}

# kubernetes: the provider's own main embeds two files its module zip lacks;
# cmd/embed-schema makes them from the module's schema.json and
# terraform-mapping.json, as the provider's generate.go does at release time.
_pl_build_kubernetes() {
  local version=$1 out=$2 w=$3 mod
  cp -r "$_pl_root/plugins/kubernetes/." "$w/"
  mod=$(cd "$w" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4) || return 1
  (cd "$w" && go run ./cmd/embed-schema -src "$mod/cmd/pulumi-resource-kubernetes" -out cmd/pulumi-resource-kubernetes -version "$version") || return 1
  (cd "$w" && go vet ./... && go build -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$version" \
    -o "$out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes)
}

_pl_build_command() {
  local version=$1 out=$2 w=$3
  cp -r "$_pl_root/standin/command/." "$w/"
  (cd "$w" && go vet ./... && go build -ldflags "-s -w -X main.version=$version" -o "$out/pulumi-resource-command" .)
}

# Builds (or reuses) the offline plugin; prints the folder holding the binary.
_pl_offline() {
  local name=$1 version=$2 src
  case $name in docker) src="$_pl_root/plugins/docker" ;; command) src="$_pl_root/standin/command" ;; kubernetes) src="$_pl_root/plugins/kubernetes" ;; esac
  local dir="$_pl_dir/$name-$version" hash
  hash=$(_pl_hash "$src")
  if [ -x "$dir/bin/pulumi-resource-$name" ] && [ "$(cat "$dir/hash" 2>/dev/null)" = "$hash" ]; then echo "$dir/bin"; return 0; fi
  _pl_log "building the offline $name plugin $version from the Go module proxy (minutes the first time; log: $dir/build.log)"
  rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/src"
  # -trimpath for every step (vet too), so they share the build cache.
  if ! GOFLAGS="${GOFLAGS:-} -trimpath" "_pl_build_$name" "$version" "$dir/bin" "$dir/src" >"$dir/build.log" 2>&1; then
    tail -n 20 "$dir/build.log" >&2
    return 1
  fi
  echo "$hash" >"$dir/hash"
  echo "$dir/bin"
}

# `pulumi plugin install`, with a short timeout. A failed download is not
# tried again for a day (MYIA_PLUGIN_RETRY=1 forces it), so every run does
# not wait on a download that cannot happen here.
_pl_download() {
  local name=$1 version=$2 log="$_pl_dir/install-$1-$2.log" failed="$_pl_dir/install-$1-$2.failed"
  command -v pulumi >/dev/null 2>&1 || return 1
  if [ -z "${MYIA_PLUGIN_RETRY:-}" ] && [ -n "$(find "$failed" -mmin -1440 2>/dev/null)" ]; then
    _pl_log "$name $version: the official download failed at $(date -r "$failed" '+%F %T') ($(tail -n 1 "$log" | cut -c1-160)); not retried for a day (MYIA_PLUGIN_RETRY=1 to retry)"
    return 1
  fi
  # --reinstall: replace our own build if the cache holds it.
  local again=()
  _pl_ours_cached "$name" "$version" && again=(--reinstall)
  if timeout 30 pulumi plugin install resource "$name" "$version" "${again[@]}" >"$log" 2>&1; then rm -f "$failed" "$(_pl_mark "$name" "$version")"; return 0; fi
  touch "$failed"
  _pl_log "$name $version: no official plugin installed, and its download failed: $(tail -n 1 "$log" | cut -c1-160)"
  return 1
}

# Puts our build in Pulumi's plugin cache (once per build); prints the cached
# binary. Fails, printing the build's folder, where no pulumi CLI can install it.
_pl_install() {
  local name=$1 version=$2 bin=$3 sum cached log="$_pl_dir/cache-$1-$2.log"
  cached=$(_pl_cached "$name" "$version")
  command -v pulumi >/dev/null 2>&1 || { dirname "$bin"; return 1; }
  sum=$(sha256sum "$bin" | cut -d' ' -f1)
  if [ -x "$cached" ] && [ "$(cat "$(_pl_mark "$name" "$version")" 2>/dev/null)" = "$sum" ] && _pl_ours_cached "$name" "$version"; then
    echo "$cached"; return 0
  fi
  if ! pulumi plugin install resource "$name" "$version" --file "$bin" --reinstall >"$log" 2>&1 || [ ! -x "$cached" ]; then
    _pl_log "$name $version: could not put our build in Pulumi's plugin cache ($(tail -n 1 "$log" | cut -c1-160)); using it from PATH"
    dirname "$bin"; return 1
  fi
  echo "$sum" >"$(_pl_mark "$name" "$version")"
  echo "$cached"
}

# Takes a folder off PATH.
_pl_unpath() {
  local p out="" parts
  IFS=: read -ra parts <<<"$PATH"
  for p in "${parts[@]}"; do [ "$p" = "$1" ] || out="${out:+$out:}$p"; done
  export PATH="$out"
}

# _pl_resolve <name> <version> <what the offline build is>
_pl_resolve() {
  local name=$1 version=$2 offline=$3 path source
  if path=$(_pl_official "$name" "$version"); then
    source="official (installed)"
  elif _pl_download "$name" "$version" && path=$(_pl_official "$name" "$version"); then
    source="official (downloaded)"
  elif path=$(_pl_offline "$name" "$version"); then
    source=$offline
    # A shell that sourced an older toolchain.sh has the build's folder on PATH,
    # which Pulumi would prefer to its cache (with a warning): take it off.
    _pl_unpath "$path"
    if ! path=$(_pl_install "$name" "$version" "$path/pulumi-resource-$name"); then
      export PATH="$path:$PATH"
      path="$path/pulumi-resource-$name"
      source="$source, on PATH"
    fi
  else
    _tc_blocked "pulumi-resource-$name $version" "no official plugin installed or downloadable, and the offline build failed (see $_pl_dir/$name-$version/build.log)"
    return 1
  fi
  _pl_log "$name $version: $source: $path"
  printf '%s\t%s\t%s\t%s\n' "$name" "$version" "$source" "$path" >>"$_pl_new"
}

toolchain_plugins() {
  mkdir -p "$_pl_dir"
  # A file of this shell's own, moved into place whole: two shells resolving
  # at once (a test run beside a demo) must not publish each other's halves.
  _pl_new="$_pl_dir/resolved.tsv.new.$$"
  rm -f "$_pl_new"
  local ok=0
  _pl_resolve docker "$DOCKER_PLUGIN_VERSION" "offline build (plugins/docker: Terraform bridge v$DOCKER_BRIDGE_VERSION + kreuzwerker $DOCKER_TF_PSEUDO)" || ok=1
  _pl_resolve command "$COMMAND_PLUGIN_VERSION" "STAND-IN (standin/command: local:Command and local:run only)" || ok=1
  _pl_resolve kubernetes "$KUBERNETES_PLUGIN_VERSION" "offline build (plugins/kubernetes: the official provider/v4 at $KUBERNETES_PROVIDER_PSEUDO, the v$KUBERNETES_PLUGIN_VERSION tag)" || ok=1
  mv -f "$_pl_new" "$_pl_dir/resolved.tsv" 2>/dev/null
  return $ok
}

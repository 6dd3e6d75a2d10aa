#!/usr/bin/env bash
# The Docker Compose v2 CLI plugin, for `npm run import` (tools/import.ts),
# which parses the old compose files with the real Compose, and for the
# integration test of that. Source it after scripts/toolchain.sh:
#
#   source scripts/toolchain.sh && source scripts/compose.sh && toolchain_compose
#
# In order: an installed `docker compose` v2 or later is used as it is; else
# the binary cached at $MYIA_CACHE/bin/docker-compose; else a build of
# github.com/docker/compose/v2 at $COMPOSE_VERSION (scripts/versions.env) from
# the Go module proxy, in a wrapper module like the pulumi CLI's
# (_tc_cli_from_go). The binary is then linked as a docker CLI plugin in
# ${DOCKER_CONFIG:-~/.docker}/cli-plugins, so `docker compose` finds it.
# Idempotent: a second call only checks.

# The installed compose's version, "2.40.3", or nothing when there is none.
_tc_compose_installed() {
  command -v docker >/dev/null 2>&1 || return 1
  docker compose version --short 2>/dev/null | sed 's/^v//'
}

_tc_compose_from_go() {
  local out="$MYIA_CACHE/bin/docker-compose" w="$MYIA_CACHE/wrap-compose"
  # A cached binary of another version (the pin moved) is rebuilt.
  if [ -x "$out" ] && [ "$("$out" version --short 2>/dev/null | sed 's/^v//')" = "$COMPOSE_VERSION" ]; then
    return 0
  fi
  mkdir -p "$w"
  cat >"$w/go.mod" <<MOD
module myia.local/wrap-compose

go 1.26

require github.com/docker/compose/v2 v$COMPOSE_VERSION
MOD
  printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/docker/compose/v2/cmd"\n' >"$w/tools.go"
  _tc_log "building docker compose v$COMPOSE_VERSION from the Go module proxy (minutes the first time)"
  # The version goes where compose's own Makefile puts it (internal.Version),
  # so `docker compose version` answers the pin.
  (cd "$w" && go mod tidy && go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=v$COMPOSE_VERSION" \
    -o "$out.tmp" github.com/docker/compose/v2/cmd) && mv "$out.tmp" "$out"
}

# Links the cached binary where the docker CLI looks for plugins.
_tc_compose_link() {
  local dir="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  mkdir -p "$dir"
  [ "$(readlink "$dir/docker-compose" 2>/dev/null)" = "$MYIA_CACHE/bin/docker-compose" ] && return 0
  ln -sfn "$MYIA_CACHE/bin/docker-compose" "$dir/docker-compose"
}

toolchain_compose() {
  local have
  have=$(_tc_compose_installed)
  # Compose v2 renumbered itself v5 (same CLI); anything from 2 on parses our files.
  if [ -n "$have" ] && [ "${have%%.*}" -ge 2 ] 2>/dev/null; then
    _tc_log "docker compose $have (installed)"
    return 0
  fi
  if ! _tc_compose_from_go; then
    _tc_blocked "docker compose $COMPOSE_VERSION" "build from the Go module proxy failed"
    return 1
  fi
  _tc_compose_link
  have=$(_tc_compose_installed)
  if [ "$have" != "$COMPOSE_VERSION" ]; then
    # No docker CLI, or it does not load the plugin: the binary still works standalone.
    _tc_log "note: docker compose does not answer (docker CLI: $(command -v docker || echo absent)); $MYIA_CACHE/bin/docker-compose works standalone"
    return 0
  fi
  _tc_log "docker compose $have ($MYIA_CACHE/bin/docker-compose)"
}

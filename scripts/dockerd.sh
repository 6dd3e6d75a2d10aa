#!/usr/bin/env bash
# Runs a private Docker daemon that looks, to its clients, like the GPU host's:
# the `nvidia` runtime is registered and `docker run --gpus all` is accepted, on a
# machine with no GPU. Used by the stand-in tests and the demo.
#
#   bash scripts/dockerd.sh start    # idempotent; installs Debian's docker.io if dockerd is absent
#   bash scripts/dockerd.sh stop     # stops only the dockerd this script started
#   bash scripts/dockerd.sh status   # exit 0 when a daemon answers with the nvidia runtime
#   bash scripts/dockerd.sh hook     # rewrites the GPU hook (read per container: no restart)
#
# Everything lives under $MYIA_CACHE/docker (default ~/.cache/myia-vllm/docker):
#   data/          --data-root (images, containers, the managed containerd's data)
#   run/           --exec-root (runtime state, the managed containerd's sockets)
#   bin/           the stand-in nvidia-container-runtime-hook, put first on dockerd's PATH
#   hook.log       what the hook did for each GPU container
# and /run/myia-vllm/gpu/<host>/: the GPU memory ledgers the hook gives GPU containers.
#   dockerd.log    the daemon's log
#   dockerd.pid    its pid (written by dockerd itself)
#   storage-driver the storage driver chosen the first time (kept: images are per driver)
# The socket stays the default /var/run/docker.sock, so the plain docker CLI works.
#
# Overrides: MYIA_DOCKER_STORAGE_DRIVER (overlay2|vfs), MYIA_DOCKER_IPTABLES (true|false),
# MYIA_DOCKERD_TIMEOUT (seconds to wait for the daemon, default 60).
set -euo pipefail

MYIA_CACHE=${MYIA_CACHE:-${HOME:-/root}/.cache/myia-vllm}
D="$MYIA_CACHE/docker"
DATA="$D/data"
EXEC="$D/run"
BIN="$D/bin"
LOG="$D/dockerd.log"
PIDFILE="$D/dockerd.pid"
SOCK=/var/run/docker.sock
TIMEOUT=${MYIA_DOCKERD_TIMEOUT:-60}
LAUNCH_LINE=0
SYS_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The stand-in host's GPU memory ledgers (standin/vllm/gpumem): outside /root, so the
# test ssh accounts' nvidia-smi reads them too; under /run, so a reboot frees the GPUs.
LEDGER_ROOT=${MYIA_GPU_LEDGER_ROOT:-/run/myia-vllm/gpu}

log() { echo "dockerd.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- probes ---------------------------------------------------------------

daemon_answers() { timeout 10 docker -H "unix://$SOCK" info >/dev/null 2>&1; }

daemon_has_nvidia() {
  local rt
  rt=$(timeout 10 docker -H "unix://$SOCK" info --format '{{json .Runtimes}}' 2>/dev/null) || return 1
  [[ $rt == *'"nvidia"'* ]]
}

our_pid() {
  # Prints the pid of the dockerd this script started, if it is still running.
  [ -s "$PIDFILE" ] || return 1
  local pid
  pid=$(tr -dc '0-9' <"$PIDFILE")
  [ -n "$pid" ] && alive "$pid" || return 1
  # The pid must be a dockerd using our data root (pids get reused).
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *dockerd* && $cmd == *"--data-root $DATA"* ]] || return 1
  echo "$pid"
}

# alive PID: the process exists and is not a zombie (an orphan's exit status
# may wait a while for PID 1 to collect it).
alive() {
  [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# --- install ---------------------------------------------------------------

find_dockerd() {
  local p
  for p in "$(command -v dockerd 2>/dev/null || true)" /usr/local/bin/dockerd /usr/bin/dockerd /usr/sbin/dockerd; do
    [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

find_runc() {
  local p
  for p in "$(PATH=$SYS_PATH command -v runc 2>/dev/null || true)" /usr/local/bin/runc /usr/bin/runc /usr/sbin/runc /usr/local/sbin/runc; do
    [ -n "$p" ] && [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

install_docker() {
  [ "$(id -u)" = 0 ] || die "dockerd is absent and installing it needs root"
  command -v apt-get >/dev/null || die "dockerd is absent and there is no apt-get to install Debian's docker.io"
  log "dockerd is absent: installing Debian's docker.io (apt-get update once, then install)"
  # Keep the package's init script from starting a daemon of its own.
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  local rc=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        docker.io runc containerd iptables ca-certificates
  } >"$D/apt.log" 2>&1 || rc=$?
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ "$rc" = 0 ] || { tail -n 30 "$D/apt.log" >&2; die "apt-get install docker.io failed (log: $D/apt.log)"; }
}

# --- what this sandbox supports ------------------------------------------------

choose_storage_driver() {
  if [ -n "${MYIA_DOCKER_STORAGE_DRIVER:-}" ]; then echo "$MYIA_DOCKER_STORAGE_DRIVER"; return; fi
  # Images live per driver: once a data root has one, keep it.
  if [ -s "$D/storage-driver" ]; then cat "$D/storage-driver"; return; fi
  local drv=vfs t="$D/overlay-probe"
  rm -rf "$t"; mkdir -p "$t"/{lower,upper,work,merged}
  echo x >"$t/lower/f"
  if grep -qw overlay /proc/filesystems 2>/dev/null || modprobe overlay 2>/dev/null; then
    if mount -t overlay overlay -o "lowerdir=$t/lower,upperdir=$t/upper,workdir=$t/work" "$t/merged" 2>/dev/null; then
      # a write through the merged dir must land in upper (catches half-working overlay)
      if echo y >"$t/merged/g" 2>/dev/null && [ -f "$t/upper/g" ]; then drv=overlay2; fi
      umount "$t/merged" 2>/dev/null || umount -l "$t/merged" 2>/dev/null || true
    fi
  fi
  rm -rf "$t"
  echo "$drv" >"$D/storage-driver"
  echo "$drv"
}

# Puts a working iptables first on PATH (nft or legacy backend), or prints "false".
choose_iptables() {
  if [ -n "${MYIA_DOCKER_IPTABLES:-}" ]; then echo "$MYIA_DOCKER_IPTABLES"; return; fi
  local v
  for v in iptables iptables-nft iptables-legacy; do
    local p
    p=$(PATH=$SYS_PATH command -v "$v" 2>/dev/null) || continue
    if "$p" -w -t nat -L -n >/dev/null 2>&1 && "$p" -w -t filter -L -n >/dev/null 2>&1; then
      if [ "$v" != iptables ]; then
        # dockerd calls plain `iptables`/`ip6tables`: shim the working backend in our bin dir.
        local suffix=${v#iptables}
        ln -sf "$p" "$BIN/iptables"
        local p6
        p6=$(PATH=$SYS_PATH command -v "ip6tables$suffix" 2>/dev/null) && ln -sf "$p6" "$BIN/ip6tables"
      else
        rm -f "$BIN/iptables" "$BIN/ip6tables"
      fi
      echo true; return
    fi
  done
  rm -f "$BIN/iptables" "$BIN/ip6tables"
  echo false
}

write_hook() {
  mkdir -p "$BIN"
  # dockerd registers its "nvidia" device driver (used by --gpus) only when this hook
  # is on its PATH, and adds it as an OCI prestart hook to every GPU container: runc
  # runs it with the container's state on stdin once the container's mounts are
  # made and before pivot_root, as it runs the real one. There is no GPU to set up;
  # ours gives the container the stand-in host's GPU memory ledger
  # (standin/vllm/gpumem), as nvidia-container-cli gives it the driver: it
  # nsenters the container's mount namespace and bind-mounts the ledger
  # directory at <rootfs>/run/myia-gpu, and writes <rootfs>/run/myia-gpu-grant
  # (container id, the container's pid on the host, NVIDIA_VISIBLE_DEVICES as
  # Docker set it from the device request). The Pulumi program changes nothing.
  # The file is read by runc for every GPU container: rewriting it takes effect
  # without restarting dockerd. Whatever goes wrong, it exits 0 (the container
  # then runs without a ledger, as before); it logs to $D/hook.log.
  # A new ledger's baseline (the host's GPUs and what the rest of the host uses): the
  # default scenario, copied here so the hook does not depend on this checkout.
  local scenario="$D/gpu-baseline"
  mkdir -p "$scenario"
  cp "$REPO/test/fixtures/nvidia-smi/scenarios/rtx4090x2-idle/query-gpu.csv" \
    "$REPO/test/fixtures/nvidia-smi/scenarios/rtx4090x2-idle/compute-apps.csv" "$scenario/"
  sed -e "s|@LEDGER_ROOT@|$LEDGER_ROOT|g" -e "s|@SCENARIO@|$scenario|g" -e "s|@LOG@|$D/hook.log|g" \
    >"$BIN/nvidia-container-runtime-hook.tmp" <<'HOOK'
#!/bin/bash
# Stand-in for nvidia-container-runtime-hook (written by myia-vllm scripts/dockerd.sh):
# gives a GPU container the stand-in host's GPU memory ledger. Always exits 0.
LEDGER_ROOT=@LEDGER_ROOT@
SCENARIO=@SCENARIO@
LOG=@LOG@

# jstr KEY: a string field of the JSON on stdin (runc's compact JSON; jq when present)
jstr() { grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | sed 's/^"[^"]*":"//; s/"$//'; }
jnum() { grep -o "\"$1\":[0-9]*" | head -n 1 | sed 's/^"[^"]*"://'; }

prestart() {
  local state id pid bundle cfg rootfs devices host ledger f
  state=$(cat)
  id=$(jstr id <<<"$state") pid=$(jnum pid <<<"$state") bundle=$(jstr bundle <<<"$state")
  [ -n "$id" ] && [ -n "$pid" ] && [ -f "$bundle/config.json" ] || { echo "no id/pid/bundle in the state: $state"; return 0; }
  cfg=$(cat "$bundle/config.json")
  rootfs=$(grep -o '"root":{"path":"[^"]*"' <<<"$cfg" | sed 's/.*"path":"//; s/"$//')
  [ -n "$rootfs" ] || { echo "$id: no root.path"; return 0; }
  [[ $rootfs == /* ]] || rootfs=$bundle/$rootfs
  # the last one wins: Docker's device driver appends its own to the image's and the user's
  devices=$(grep -o '"NVIDIA_VISIBLE_DEVICES=[^"]*"' <<<"$cfg" | tail -n 1 | sed 's/^"[^=]*=//; s/"$//')
  host=$(grep -o '"MYIA_GPU_HOST=[^"]*"' <<<"$cfg" | tail -n 1 | sed 's/^"[^=]*=//; s/"$//')
  [[ ${host:-default} =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "$id: bad MYIA_GPU_HOST '$host'"; return 0; }
  ledger=$LEDGER_ROOT/${host:-default}
  mkdir -p "$ledger/baseline" && chmod 755 "$LEDGER_ROOT" "$ledger" "$ledger/baseline" || return 0
  if [ ! -f "$ledger/baseline/query-gpu.csv" ] && [ -f "$SCENARIO/query-gpu.csv" ]; then
    cp "$SCENARIO/query-gpu.csv" "$SCENARIO/compute-apps.csv" "$ledger/baseline/" 2>/dev/null
    chmod 644 "$ledger/baseline/"* 2>/dev/null
  fi
  # Drop bookings nobody holds any more (their stand-in died); under the lock, so
  # never one a live stand-in holds (which checks it locked the file the path names).
  for f in "$ledger"/*.booking; do
    [ -f "$f" ] && timeout 5 flock -n -x "$f" rm -f "$f" 2>/dev/null
  done
  timeout 10 nsenter -t "$pid" -m -- /bin/sh -c '
    set -e
    mkdir -p "$1/run/myia-gpu"
    printf "container=%s\npid=%s\ndevices=%s\n" "$2" "$3" "$4" >"$1/run/myia-gpu-grant"
    mount --bind "$5" "$1/run/myia-gpu"' hook "$rootfs" "$id" "$pid" "$devices" "$ledger" ||
    { echo "$id: could not give the ledger to the container (rootfs $rootfs)"; return 0; }
  echo "$(date -u +%FT%TZ) $id: pid $pid, devices ${devices:-none}, ledger $ledger"
}

case "${1:-}" in
prestart) prestart >>"$LOG" 2>&1 ;;
*) cat >/dev/null 2>&1 ;;
esac
exit 0
HOOK
  chmod +x "$BIN/nvidia-container-runtime-hook.tmp"
  mv -f "$BIN/nvidia-container-runtime-hook.tmp" "$BIN/nvidia-container-runtime-hook"
}

# A dockerd that died uncleanly leaves its managed containerd's pidfile. In
# this sandbox PID 1 does not reap orphans, so that pid stays a zombie, which
# dockerd takes for a live containerd: it then waits on a dead socket and gives
# up ("timeout waiting for containerd to start"). Drop such stale state.
clean_stale_containerd() {
  local dir="$EXEC/containerd" pid state
  [ -f "$dir/containerd.pid" ] || return 0
  pid=$(tr -dc '0-9' <"$dir/containerd.pid")
  if [ -n "$pid" ] && [ -r "/proc/$pid/stat" ]; then
    state=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1)
    if [ "$state" != Z ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "containerd --config $dir/"; then
      return 0 # alive: dockerd reconnects to it
    fi
  fi
  log "removing stale containerd state left by a dockerd that did not stop cleanly (pid ${pid:-?} is gone)"
  rm -f "$dir/containerd.pid" "$dir/containerd.sock" "$dir/containerd.sock.ttrpc" "$dir/containerd-debug.sock"
}

# --- commands ----------------------------------------------------------------

cmd_status() {
  local pid
  if daemon_answers; then
    if daemon_has_nvidia; then
      echo "running (nvidia runtime registered)$(pid=$(our_pid) && echo ", started by this script, pid $pid")"
      return 0
    fi
    echo "a daemon answers on $SOCK but has no nvidia runtime"
    return 1
  fi
  if pid=$(our_pid); then echo "dockerd pid $pid is up but does not answer yet"; return 1; fi
  echo "stopped"
  return 3
}

cmd_start() {
  mkdir -p "$D" "$DATA" "$EXEC" "$BIN"
  if daemon_answers; then
    if daemon_has_nvidia; then
      # runc reads the hook file for every GPU container: a new one takes effect now.
      our_pid >/dev/null && write_hook
      log "a daemon already answers on $SOCK with the nvidia runtime: nothing to do"
      return 0
    fi
    if our_pid >/dev/null; then
      log "our dockerd answers but lacks the nvidia runtime: restarting it"
      cmd_stop
    else
      die "a Docker daemon not started by this script answers on $SOCK without the nvidia runtime; stop it first (or register nvidia=$(find_runc || echo runc) in its daemon.json)"
    fi
  elif our_pid >/dev/null; then
    log "our dockerd (pid $(our_pid)) is starting; waiting for it"
    wait_ready "$(our_pid)" || { tail -n 25 "$LOG" >&2; die "dockerd exited before answering"; }
    return 0
  fi

  local dockerd runc
  if ! dockerd=$(find_dockerd); then
    install_docker
    dockerd=$(find_dockerd) || die "dockerd still absent after installing docker.io"
  fi
  if ! runc=$(find_runc); then
    install_docker
    runc=$(find_runc) || die "runc is absent"
  fi
  PATH=$SYS_PATH command -v containerd >/dev/null || install_docker

  write_hook
  local driver ipt
  driver=$(choose_storage_driver)
  ipt=$(choose_iptables)

  # cgroup v1 hierarchies must be mounted for runc; mount any that are missing.
  if [ ! -e /sys/fs/cgroup/cgroup.controllers ] && [ -d /sys/fs/cgroup ] && ! mountpoint -q /sys/fs/cgroup/memory 2>/dev/null; then
    if command -v cgroupfs-mount >/dev/null; then cgroupfs-mount >/dev/null 2>&1 || true; fi
  fi

  # Stale files from a daemon that died without cleaning up.
  rm -f "$PIDFILE"
  clean_stale_containerd
  if [ -S "$SOCK" ] && ! daemon_answers; then rm -f "$SOCK"; fi

  # Start; when this sandbox refuses the storage driver or iptables, fall back
  # (vfs; no iptables) and try again, unless that choice was forced.
  local attempt
  for attempt in 1 2 3; do
    if launch "$dockerd" "$runc" "$driver" "$ipt"; then
      return 0
    fi
    # the errors of this attempt only (info lines mention overlay and bridge too)
    local why
    why=$(tail -n "+$((LAUNCH_LINE + 1))" "$LOG" | grep -iE 'level=(error|fatal)|failed to start|error starting daemon' | tail -n 20 || true)
    if [ -z "${MYIA_DOCKER_STORAGE_DRIVER:-}" ] && [ "$driver" != vfs ] &&
      grep -qiE 'overlay|graphdriver|storage.driver|driver not supported' <<<"$why"; then
      log "the $driver storage driver does not work here; falling back to vfs"
      driver=vfs
      echo vfs >"$D/storage-driver"
    elif [ -z "${MYIA_DOCKER_IPTABLES:-}" ] && [ "$ipt" = true ] &&
      grep -qiE 'iptables|nat table|bridge' <<<"$why"; then
      log "iptables does not work here; falling back to --iptables=false"
      ipt=false
    else
      log "dockerd did not come up. Last lines of $LOG:"
      tail -n 25 "$LOG" >&2
      exit 1
    fi
    rm -f "$PIDFILE"
    clean_stale_containerd
  done
  die "dockerd did not come up after $attempt attempts (log $LOG)"
}

# launch DOCKERD RUNC DRIVER IPTABLES: starts dockerd, waits until it answers.
launch() {
  local dockerd=$1 runc=$2 driver=$3 ipt=$4
  local args=(
    --host "unix://$SOCK"
    --data-root "$DATA"
    --exec-root "$EXEC"
    --pidfile "$PIDFILE"
    --storage-driver "$driver"
    --add-runtime "nvidia=$runc"
    --iptables="$ipt"
  )
  if [ "$ipt" = false ]; then
    # Without iptables: no NAT or forwarding rules; published ports go through docker-proxy.
    args+=(--ip-masq=false --ip-forward=false --userland-proxy=true)
  fi
  touch "$LOG"
  LAUNCH_LINE=$(wc -l <"$LOG")
  {
    echo "=== $(date -u +%FT%TZ) dockerd.sh start: $dockerd ${args[*]}"
    echo "=== storage-driver=$driver iptables=$ipt runc=$runc"
  } >>"$LOG"
  log "starting $dockerd (storage-driver=$driver, iptables=$ipt, log $LOG)"
  # setsid: the daemon outlives this shell and its job control. env -i: it gets
  # a clean environment (dockerd copies its own into every GPU hook's OCI spec).
  env -i PATH="$BIN:$SYS_PATH" HOME="${HOME:-/root}" LANG=C.UTF-8 \
    setsid "$dockerd" "${args[@]}" </dev/null >>"$LOG" 2>&1 &
  local pid=$!
  wait_ready "$pid"
}

wait_ready() {
  local pid=$1 waited=0
  while ! daemon_answers; do
    if ! alive "$pid"; then
      log "dockerd exited before answering"
      return 1
    fi
    if [ "$waited" -ge "$((TIMEOUT * 2))" ]; then
      log "dockerd (pid $pid) did not answer within ${TIMEOUT}s. Last lines of $LOG:"
      tail -n 25 "$LOG" >&2
      exit 1
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  daemon_has_nvidia || { tail -n 25 "$LOG" >&2; die "dockerd answers but has no nvidia runtime"; }
  log "dockerd is up (pid $pid, $(docker info --format '{{.ServerVersion}} {{.Driver}}' 2>/dev/null))"
}

cmd_stop() {
  local pid
  if ! pid=$(our_pid); then
    log "no dockerd started by this script is running"
    rm -f "$PIDFILE"
    return 0
  fi
  log "stopping dockerd pid $pid"
  kill -TERM "$pid" 2>/dev/null || true

  for _ in $(seq 1 120); do
    alive "$pid" || break
    sleep 0.5
  done
  if alive "$pid"; then
    log "dockerd pid $pid did not stop in 60s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$PIDFILE"
  # dockerd bind-mounts its data root (and leaves netns/overlay mounts when it
  # dies): unmount whatever is still mounted under our directory, deepest first.
  local m
  awk -v d="$D/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  log "stopped"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
restart) cmd_stop; cmd_start ;;
hook) mkdir -p "$BIN"; write_hook; log "wrote $BIN/nvidia-container-runtime-hook (used by the next GPU container; no restart needed)" ;;
*) echo "usage: bash scripts/dockerd.sh start|stop|status|restart|hook" >&2; exit 2 ;;
esac

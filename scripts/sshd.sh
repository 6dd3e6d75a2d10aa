#!/usr/bin/env bash
# Runs a private OpenSSH server that plays the remote GPU host, for the tests
# that deploy with `host.docker: ssh://...`: Debian's sshd with a config of its
# own, on 127.0.0.1 at a high port, key authentication only. The machine's own
# ssh settings (/etc/ssh, ~/.ssh) are not touched.
#
#   bash scripts/sshd.sh start    # idempotent; installs Debian's openssh-server if sshd is absent
#   bash scripts/sshd.sh stop     # stops the sshd this script started, and every session it holds
#   bash scripts/sshd.sh status   # exit 0 when our sshd is running
#   bash scripts/sshd.sh env      # prints the exports a client needs (PATH with the ssh wrapper)
#
# On that "remote", `docker` reaches the local dockerd (scripts/dockerd.sh) and
# the fake nvidia-smi answers. Its accounts, one per fault the tests need:
#   myia-gpu          in group docker, nvidia-smi on its PATH: the GPU host as it should be
#   myia-nodocker     not in group docker: the daemon refuses it
#   myia-nodockercli  no docker command on its PATH
#   myia-nonvidia     no nvidia-smi on its PATH
#
# State under $MYIA_CACHE/sshd (default ~/.cache/myia-vllm/sshd):
#   sshd_config, host/ (its host key), sshd.pid, sshd.log (LogLevel DEBUG1)
#   client/id_ed25519, client/known_hosts, client/config: what a client uses
#   client/bin/ssh    runs /usr/bin/ssh -F client/config ($MYIA_SSH_CONFIG if set): OpenSSH
#                     reads ~/.ssh from the passwd entry, not $HOME, so a config of our own needs -F
# What the accounts must read lives under /var/lib/myia-sshd (their homes, the
# fake nvidia-smi and its scenario), since /root is closed to them.
#
# Overrides: MYIA_SSHD_PORT (default 2222).
set -euo pipefail

MYIA_CACHE=${MYIA_CACHE:-${HOME:-/root}/.cache/myia-vllm}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
S="$MYIA_CACHE/sshd"
C="$S/client"
PORT=${MYIA_SSHD_PORT:-2222}
PIDFILE="$S/sshd.pid"
LOG="$S/sshd.log"
REMOTE=/var/lib/myia-sshd
USERS=(myia-gpu myia-nodocker myia-nodockercli myia-nonvidia)

log() { echo "sshd.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

our_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid cmd
  pid=$(tr -dc '0-9' <"$PIDFILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *sshd*"-f $S/sshd_config"* ]] || return 1
  echo "$pid"
}

# Every process below $1 (sshd forks a monitor per connection, which forks the session).
descendants() {
  local kid
  for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$kid"
    descendants "$kid"
  done
}

ensure_sshd() {
  [ -x /usr/sbin/sshd ] && return 0
  log "installing Debian's openssh-server"
  # policy-rc.d 101: the package must not start the machine's own sshd.
  local had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1
  [ "$had_policy" = 1 ] || printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server >/dev/null ||
    { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server >/dev/null; }
  [ "$had_policy" = 1 ] || rm -f /usr/sbin/policy-rc.d
  [ -x /usr/sbin/sshd ] || die "openssh-server did not install /usr/sbin/sshd"
}

# account NAME GROUPS PATH: a system account that logs in with our key only.
account() {
  local name=$1 groups=$2 path=$3 home="$REMOTE/home/$1"
  if ! id "$name" >/dev/null 2>&1; then
    # Password '*': no password login, but not a locked account (sshd refuses those).
    useradd --system --home-dir "$home" --shell /bin/sh --password '*' "$name"
  fi
  if [ -n "$groups" ]; then usermod -aG "$groups" "$name"; else usermod -G "" "$name"; fi
  mkdir -p "$home/.ssh"
  cp "$C/id_ed25519.pub" "$home/.ssh/authorized_keys"
  # PermitUserEnvironment reads this: the remote's PATH, as a GPU box's profile would set it.
  printf 'PATH=%s\nMYIA_NVIDIA_SMI_SCENARIO=%s\n' "$path" "$REMOTE/scenarios/rtx4090x2-idle" >"$home/.ssh/environment"
  chown -R "$name:" "$home"
  chmod 755 "$home"
  chmod 700 "$home/.ssh"
  chmod 600 "$home/.ssh/authorized_keys" "$home/.ssh/environment"
}

cmd_start() {
  if pid=$(our_pid); then
    log "sshd already running (pid $pid, 127.0.0.1:$PORT)"
    return 0
  fi
  ensure_sshd
  getent group docker >/dev/null || groupadd --system docker
  mkdir -p "$S/host" "$C/bin" "$REMOTE/bin" "$REMOTE/nodocker-bin" "$REMOTE/scenarios" /run/sshd
  chmod 755 "$REMOTE" "$REMOTE/bin" "$REMOTE/nodocker-bin" "$REMOTE/scenarios"
  [ -f "$S/host/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C myia-sshd-host -f "$S/host/ssh_host_ed25519_key"
  [ -f "$C/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C myia-sshd-client -f "$C/id_ed25519"

  # The remote's nvidia-smi: the repo's fake and one scenario, where the accounts can read them.
  install -m 755 "$REPO/standin/nvidia/nvidia-smi" "$REMOTE/bin/nvidia-smi"
  rm -rf "$REMOTE/scenarios/rtx4090x2-idle"
  cp -r "$REPO/test/fixtures/nvidia-smi/scenarios/rtx4090x2-idle" "$REMOTE/scenarios/"
  chmod -R a+rX "$REMOTE/bin" "$REMOTE/scenarios"
  # /usr/bin without docker, for the account that has no docker command.
  find "$REMOTE/nodocker-bin" -mindepth 1 -delete
  for f in /usr/bin/*; do
    case "${f##*/}" in docker | dockerd | docker-*) continue ;; esac
    ln -s "$f" "$REMOTE/nodocker-bin/${f##*/}"
  done

  local base=/usr/local/bin:/usr/bin:/bin
  account myia-gpu docker "$REMOTE/bin:$base"
  account myia-nodocker "" "$REMOTE/bin:$base"
  account myia-nodockercli docker "$REMOTE/bin:$REMOTE/nodocker-bin"
  account myia-nonvidia docker "$base"

  cat >"$S/sshd_config" <<EOF
# myia-vllm scripts/sshd.sh: the test GPU host's sshd. Not the machine's.
Port $PORT
ListenAddress 127.0.0.1
HostKey $S/host/ssh_host_ed25519_key
PidFile $PIDFILE
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UsePAM no
AllowUsers ${USERS[*]}
AuthorizedKeysFile .ssh/authorized_keys
StrictModes yes
PermitUserEnvironment PATH,MYIA_NVIDIA_SMI_SCENARIO
AllowTcpForwarding no
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
LogLevel DEBUG1
EOF
  /usr/sbin/sshd -t -f "$S/sshd_config" || die "sshd rejects $S/sshd_config"

  printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$S/host/ssh_host_ed25519_key.pub")" >"$C/known_hosts"
  cat >"$C/config" <<EOF
# myia-vllm scripts/sshd.sh: what an operator's ~/.ssh/config would say for the GPU box.
Host *
  IdentityFile $C/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $C/known_hosts
  GlobalKnownHostsFile /dev/null
  LogLevel ERROR
EOF
  # MYIA_SSH_CONFIG: another client config, for the tests of unknown and changed host keys.
  printf '#!/bin/sh\n# myia-vllm scripts/sshd.sh: ssh with the test client config.\nexec /usr/bin/ssh -F "${MYIA_SSH_CONFIG:-%s}" "$@"\n' "$C/config" >"$C/bin/ssh"
  chmod 755 "$C/bin/ssh"

  echo "=== $(date -u +%FT%TZ) sshd.sh start on 127.0.0.1:$PORT" >>"$LOG"
  setsid /usr/sbin/sshd -f "$S/sshd_config" -E "$LOG" </dev/null >/dev/null 2>&1
  local waited=0
  until our_pid >/dev/null && timeout 5 "$C/bin/ssh" -o BatchMode=yes -p "$PORT" myia-gpu@127.0.0.1 true 2>/dev/null; do
    waited=$((waited + 1))
    [ "$waited" -le 40 ] || { tail -n 20 "$LOG" >&2; die "sshd did not answer on 127.0.0.1:$PORT"; }
    sleep 0.25
  done
  log "sshd is up (pid $(our_pid), 127.0.0.1:$PORT, log $LOG)"
}

cmd_stop() {
  local pid kids
  if ! pid=$(our_pid); then
    log "no sshd started by this script is running"
    return 0
  fi
  # The listener and every session it forked: a stop is the box going away.
  kids=$(descendants "$pid")
  # shellcheck disable=SC2086
  kill "$pid" $kids 2>/dev/null || true
  for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$PIDFILE"
  log "stopped sshd (pid $pid)"
}

cmd_env() {
  echo "export PATH=\"$C/bin:\$PATH\""
  echo "export MYIA_SSH_HOST=ssh://myia-gpu@127.0.0.1:$PORT"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) if pid=$(our_pid); then echo "running (pid $pid, 127.0.0.1:$PORT)"; else echo "not running"; exit 1; fi ;;
  env) cmd_env ;;
  -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) echo "usage: bash scripts/sshd.sh start|stop|status|env" >&2; exit 2 ;;
esac

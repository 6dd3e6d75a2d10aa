#!/usr/bin/env bash
# Runs a small Kubernetes test cluster on this machine, with fake GPU nodes:
# etcd, kube-apiserver, kube-controller-manager and kube-scheduler on
# 127.0.0.1, and kwok playing the nodes (no containers run on them: kwok
# writes the pods' status; a pod is Running at once and Ready after the delay
# its annotation asks for, scripts/k8s/stages.yaml). Everything is built from
# the Go module proxy (scripts/k8s/{kube,etcd,kwok}/go.mod) and cached; no
# container registry, no release download.
#
#   bash scripts/k8s.sh start [profile]   # idempotent; builds what is missing, then starts; prints the timings
#   bash scripts/k8s.sh stop              # clients first (kwok, scheduler, controller-manager), then apiserver, etcd
#   bash scripts/k8s.sh status            # exit 0 when every component runs and the apiserver is ready; prints RSS
#   bash scripts/k8s.sh env               # the exports a client needs (KUBECONFIG, PATH with our kubectl)
#   bash scripts/k8s.sh nodes [profile]   # replaces the fake GPU nodes with a profile's; no profile: lists them
#   bash scripts/k8s.sh build             # only builds (cold: ~15-20 min on 2 cores; warm: seconds)
#   bash scripts/k8s.sh reset             # stop, and forget the cluster's data (etcd); certificates are kept
#   bash scripts/k8s.sh node start|stop|status|import IMAGE   # a REAL node beside the fake ones (below)
#
# Node profiles (K8S_NODES, or the argument of start/nodes; start keeps the last one, "default" at first):
#   default  3 nodes with 2 x RTX 4090 (24 GiB) each, and 1 node with 1 x 16 GiB card: 7 GPUs
#   gpu2     1 node with 2 x RTX 4090: two 2-GPU models cannot both run (a migration is a takeover)
#   gpu4     2 nodes with 2 x RTX 4090: both run side by side
#   gpu3x2   3 nodes with 2 x RTX 4090, no small node: 3 replicas on 3 nodes
#   small    only the 16 GiB node: too few GPUs for a 2-GPU model
#   none     no GPU node at all
# or a spec: comma-separated COUNTxGPUS:PRODUCT:MEMORY_MIB, e.g. "2x2:NVIDIA-GeForce-RTX-4090:24564".
# Each GPU node has capacity and allocatable nvidia.com/gpu: <GPUS>, the GPU
# feature discovery labels nvidia.com/gpu.product, nvidia.com/gpu.memory (MiB),
# nvidia.com/gpu.count, nvidia.com/gpu.present=true, and the taint
# nvidia.com/gpu=present:NoSchedule (a GPU pod needs the toleration).
#
# Everything lives under $MYIA_CACHE/k8s (default ~/.cache/myia-vllm/k8s):
#   bin/        etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kwok
#   go-build/   their Go build cache (keep it: a warm rebuild takes seconds); modules in $MYIA_CACHE/go
#   pki/        the cluster CA and the certificates and kubeconfigs of each component; admin.kubeconfig
#   etcd/       etcd's data
#   run/        pid files; log/ each component's log; build-*.log the builds
#
# The real node (`node start`, optional; `stop` stops it too): kubelet (same
# wrapper module) on a separate instance of Debian's containerd (own root,
# state and socket under $K/node/; CRI's restrict_oom_score_adj, as this
# machine lacks CAP_SYS_RESOURCE for the sandbox's oom_score_adj), Debian's CNI
# plugins (a bridge myia-cni0, 10.89.0.0/24), cgroupfs, the machine's outward
# IPv4 as node IP (the kubelet refuses loopback); the pod sandbox is our
# own pause program (scripts/k8s/pause), imported as myia.local/pause:1. Node
# myia-node-0, label myia-vllm/node-set=real, nvidia.com/gpu patched into its
# status (MYIA_K8S_NODE_GPUS, default 2), so a stand-in vLLM image can run
# there with GPU limits (imagePullPolicy: Never; `node import IMAGE` copies one
# from dockerd with docker save). The shared dockerd is only read from.
#
# Overrides: MYIA_K8S_PORT (apiserver, default 16443; etcd uses +1 and +2, controller-manager +3,
# scheduler +4, kwok +5, kubelet +6 and +7), MYIA_K8S_TIMEOUT (seconds to wait for each component, default 60).
# CPU-heavy work (builds, the cluster) runs under `nice -n 15`.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
MYIA_CACHE=${MYIA_CACHE:-${HOME:-/root}/.cache/myia-vllm}
# Its real path: the pid checks compare command lines and binaries with it.
K=$(readlink -m "$MYIA_CACHE/k8s")
BIN="$K/bin"
PKI="$K/pki"
RUN="$K/run"
LOGS="$K/log"
PORT=${MYIA_K8S_PORT:-16443}
ETCD_PORT=$((PORT + 1)) ETCD_PEER_PORT=$((PORT + 2)) CM_PORT=$((PORT + 3)) SCHED_PORT=$((PORT + 4)) KWOK_PORT=$((PORT + 5)) KUBELET_PORT=$((PORT + 6)) KUBELET_HEALTHZ_PORT=$((PORT + 7))
TIMEOUT=${MYIA_K8S_TIMEOUT:-60}
SERVER="https://127.0.0.1:$PORT"
KUBECONFIG_ADMIN="$PKI/admin.kubeconfig"
SERVICE_CIDR=10.96.0.0/16 POD_CIDR=10.244.0.0/16
# Started in this order, stopped in the reverse: the clients go before the
# apiserver (with them connected its SIGTERM took ~80 s, without ~3 s).
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)
NICE=(nice -n 15)

log() { echo "k8s.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
kc() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# --- build -----------------------------------------------------------------

# What each wrapper module builds: module folder, then import paths.
targets() {
  case $1 in
  etcd) echo "myia.local/k8s/etcd" ;;
  kube) echo k8s.io/kubernetes/cmd/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl} ;;
  kwok) echo sigs.k8s.io/kwok/cmd/kwok ;;
  kubelet) echo k8s.io/kubernetes/cmd/kubelet ;;
  pause) echo myia.local/k8s/pause ;;
  esac
}

# The wrapper module a build target lives in.
module_of() { case $1 in kubelet) echo kube ;; *) echo "$1" ;; esac; }

# A hash of what a build is made of (the wrapper module, the Go version, the
# flags), so a change rebuilds it.
build_hash() {
  (cd "$HERE/k8s/$(module_of "$1")" && find . -type f | LC_ALL=C sort | xargs sha256sum; go version; targets "$1"; ldflags "$1") | sha256sum | cut -c1-16
}

ldflags() {
  local ld="-s -w" p
  if [ "$1" = kube ] || [ "$1" = kubelet ]; then
    # What `kubectl version` and the apiserver's /version report (hack/lib/version.sh sets the same variables).
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld="$ld -X $p.gitVersion=v$K8S_VERSION -X $p.gitMajor=${K8S_VERSION%%.*} -X $p.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION") -X $p.gitTreeState=clean"
    done
  fi
  echo "$ld"
}

build_one() {
  local mod=$1 hash t0 bins=()
  hash=$(build_hash "$mod")
  case $mod in etcd) bins=(etcd) ;; kube) bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl) ;; *) bins=("$mod") ;; esac
  local b ok=1
  for b in "${bins[@]}"; do [ -x "$BIN/$b" ] || ok=0; done
  if [ "$ok" = 1 ] && [ "$(cat "$BIN/.hash-$mod" 2>/dev/null)" = "$hash" ]; then return 0; fi
  log "building $mod (${bins[*]}) from the Go module proxy (log: $K/build-$mod.log; cold: minutes, kube ~15 min on 2 cores)"
  t0=$(now)
  # shellcheck disable=SC2046
  if ! (cd "$HERE/k8s/$(module_of "$mod")" && GOPATH="$MYIA_CACHE/go" GOCACHE="$K/go-build" GOFLAGS=-trimpath CGO_ENABLED=0 \
    "${NICE[@]}" go build -ldflags "$(ldflags "$mod")" -o "$BIN/" $(targets "$mod")) >"$K/build-$mod.log" 2>&1; then
    tail -n 20 "$K/build-$mod.log" >&2
    die "building $mod failed (log: $K/build-$mod.log)"
  fi
  echo "$hash" >"$BIN/.hash-$mod"
  log "built $mod in $(since "$t0") s"
}

cmd_build() {
  command -v go >/dev/null || die "go is not on PATH"
  mkdir -p "$BIN" "$K/go-build"
  local t0
  t0=$(now)
  build_one etcd
  build_one kube
  build_one kwok
  log "build: everything in place after $(since "$t0") s"
}

# --- certificates ------------------------------------------------------------

# cert NAME CN [O] [SANS]: a key and a certificate signed by our CA (ECDSA P-256).
cert() {
  local name=$1 cn=$2 o=${3:-} sans=${4:-} subj
  [ -s "$PKI/$name.crt" ] && return 0
  subj="/CN=$cn"
  [ -n "$o" ] && subj="/O=$o$subj"
  openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$sans" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$sans"; else echo "extendedKeyUsage=clientAuth"; fi
  } >"$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

# kubeconfig NAME: a kubeconfig for the certificate NAME.
kubeconfig() {
  local name=$1 f="$PKI/$1.kubeconfig"
  [ -s "$f" ] && grep -q "server: $SERVER\$" "$f" && return 0
  cat >"$f" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: myia-k8s
  cluster:
    server: $SERVER
    certificate-authority: $PKI/ca.crt
users:
- name: $name
  user:
    client-certificate: $PKI/$name.crt
    client-key: $PKI/$name.key
contexts:
- name: myia-k8s
  context: {cluster: myia-k8s, user: $name}
current-context: myia-k8s
EOF
}

make_pki() {
  mkdir -p "$PKI"
  chmod 700 "$PKI"
  if [ ! -s "$PKI/ca.crt" ]; then
    log "making the cluster CA and certificates ($PKI)"
    openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=myia-vllm test cluster CA" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/ca.crt" 2>/dev/null
  fi
  cert apiserver kube-apiserver "" "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert admin myia-admin system:masters
  cert controller-manager system:kube-controller-manager
  cert scheduler system:kube-scheduler
  # kwok writes node and pod status, and node leases, for every fake node.
  cert kwok kwok-controller system:masters
  # The service account token signing key.
  [ -s "$PKI/sa.key" ] || { openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/sa.key" 2>/dev/null && openssl ec -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null; }
  local n
  for n in admin controller-manager scheduler kwok; do kubeconfig "$n"; done
}

# --- processes ----------------------------------------------------------------

alive() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]; }

# our_pid NAME: the pid of the component this script started, if it still runs.
our_pid() {
  local f="$RUN/$1.pid" pid exe
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] && alive "$pid" || return 1
  # pids get reused: it must be our binary.
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  [ "${exe% (deleted)}" = "$(readlink -f "$BIN/$1")" ] || return 1
  echo "$pid"
}

# launch NAME ARGS...: starts a component in its own session, niced, logging to log/NAME.log.
launch() {
  local name=$1
  shift
  mkdir -p "$RUN" "$LOGS"
  echo "=== $(date -u +%FT%TZ) k8s.sh start: $name $*" >>"$LOGS/$name.log"
  env -i PATH="$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$K" LANG=C.UTF-8 \
    setsid "${NICE[@]}" "$BIN/$name" "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

# wait_for NAME WHAT CMD...: polls CMD until it succeeds, while NAME runs.
wait_for() {
  local name=$1 what=$2 t0 waited=0
  shift 2
  t0=$(now)
  until "$@" >/dev/null 2>&1; do
    our_pid "$name" >/dev/null || { tail -n 20 "$LOGS/$name.log" >&2; die "$name exited before $what (log: $LOGS/$name.log)"; }
    waited=$((waited + 1))
    [ "$waited" -le "$((TIMEOUT * 10))" ] || { tail -n 20 "$LOGS/$name.log" >&2; die "$name: not $what after ${TIMEOUT}s (log: $LOGS/$name.log)"; }
    sleep 0.1
  done
  log "$name: $what ($(since "$t0") s)"
}

healthz() { curl -fsS --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$1" | grep -qx ok; }
# controller-manager and scheduler serve /healthz with a self-signed certificate.
local_healthz() { curl -fsSk --max-time 2 "https://127.0.0.1:$1/healthz" | grep -qx ok; }

start_component() {
  local name=$1 pid
  if pid=$(our_pid "$name"); then log "$name already running (pid $pid)"; return 0; fi
  case $name in
  etcd)
    launch etcd --name myia --data-dir "$K/etcd" \
      --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "myia=http://127.0.0.1:$ETCD_PEER_PORT" \
      --unsafe-no-fsync --log-level warn
    wait_for etcd healthy curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"
    ;;
  kube-apiserver)
    launch kube-apiserver --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
      --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$PORT" \
      --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
      --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
      --kubelet-preferred-address-types InternalIP \
      --service-account-issuer https://kubernetes.default.svc.cluster.local \
      --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
      --service-cluster-ip-range "$SERVICE_CIDR" --authorization-mode Node,RBAC --allow-privileged \
      --endpoint-reconciler-type none --cert-dir "$K/apiserver-certs" --profiling=false
    wait_for kube-apiserver ready healthz "$SERVER/readyz"
    ;;
  kube-controller-manager)
    launch kube-controller-manager --kubeconfig "$PKI/controller-manager.kubeconfig" \
      --authentication-kubeconfig "$PKI/controller-manager.kubeconfig" --authorization-kubeconfig "$PKI/controller-manager.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port "$CM_PORT" --cert-dir "$K/controller-manager-certs" \
      --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
      --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
      --use-service-account-credentials --leader-elect=false --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false
    wait_for kube-controller-manager healthy local_healthz "$CM_PORT"
    ;;
  kube-scheduler)
    launch kube-scheduler --kubeconfig "$PKI/scheduler.kubeconfig" \
      --authentication-kubeconfig "$PKI/scheduler.kubeconfig" --authorization-kubeconfig "$PKI/scheduler.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port "$SCHED_PORT" --cert-dir "$K/scheduler-certs" --leader-elect=false --profiling=false
    wait_for kube-scheduler healthy local_healthz "$SCHED_PORT"
    ;;
  kwok)
    # Only the nodes annotated kwok.x-k8s.io/node=fake (a real kubelet's node is left alone);
    # its own pod CIDR, loopback addresses, our pod stages (scripts/k8s/stages.yaml).
    # Node leases: without them kwok's status heartbeat comes about every 55 s,
    # past the controller-manager's 50 s grace, so a fake node turned
    # unreachable (NoExecute taint) now and then, mid-test; a lease renewed
    # every ~10 s keeps it Ready, as a kubelet does.
    launch kwok --kubeconfig "$PKI/kwok.kubeconfig" --config "$HERE/k8s/stages.yaml" \
      --node-lease-duration-seconds 40 \
      --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
      --cidr "$POD_CIDR" --node-ip 127.0.0.1 --server-address "127.0.0.1:$KWOK_PORT"
    wait_for kwok serving curl -fsS --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz"
    ;;
  esac
}

# stop_component NAME: SIGTERM, then SIGKILL after 30 s.
stop_component() {
  local name=$1 pid t0
  pid=$(our_pid "$name") || { rm -f "$RUN/$name.pid"; return 0; }
  t0=$(now)
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do alive "$pid" || break; sleep 0.1; done
  if alive "$pid"; then
    log "$name (pid $pid) did not stop in 30 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$RUN/$name.pid"
  log "stopped $name (pid $pid, $(since "$t0") s)"
}

# --- nodes ----------------------------------------------------------------------

# The spec of a profile (see the header), or the argument itself when it is a spec.
profile_spec() {
  local big=NVIDIA-GeForce-RTX-4090:24564 small=NVIDIA-RTX-A4000:16376
  case $1 in
  default) echo "3x2:$big,1x1:$small" ;;
  gpu2) echo "1x2:$big" ;;
  gpu4) echo "2x2:$big" ;;
  gpu3x2) echo "3x2:$big" ;;
  small) echo "1x1:$small" ;;
  none) echo "" ;;
  *x*:*:*) echo "$1" ;;
  *) die "unknown node profile '$1' (default, gpu2, gpu4, gpu3x2, small, none, or COUNTxGPUS:PRODUCT:MEMORY_MIB,...)" ;;
  esac
}

# node_yaml NAME GPUS PRODUCT MEMORY_MIB: a fake GPU node, as kwok's docs describe one
# (status is taken as written on create; kwok then keeps it Ready with a lease).
node_yaml() {
  local name=$1 gpus=$2 product=$3 mem=$4
  cat <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $name
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    type: kwok
    myia-vllm/node-set: kwok
    myia-vllm/node-gpus: $product.$gpus.$mem
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: $name
    node.kubernetes.io/instance-type: gpu-${gpus}x${mem}
    nvidia.com/gpu.present: "true"
    nvidia.com/gpu.product: $product
    nvidia.com/gpu.memory: "$mem"
    nvidia.com/gpu.count: "$gpus"
spec:
  taints:
  - {key: nvidia.com/gpu, value: present, effect: NoSchedule}
status:
  capacity: {cpu: "32", memory: 128Gi, pods: "110", ephemeral-storage: 1Ti, nvidia.com/gpu: "$gpus"}
  allocatable: {cpu: "32", memory: 128Gi, pods: "110", ephemeral-storage: 1Ti, nvidia.com/gpu: "$gpus"}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake}
EOF
}

# The manifests of a spec's nodes, one a "---" document; "name gpus-label" lines on fd 3.
spec_nodes() {
  local spec=$1 entry count gpus product mem i n=0 small=0
  local IFS=,
  for entry in $spec; do
    [[ $entry =~ ^([0-9]+)x([0-9]+):([A-Za-z0-9._-]+):([0-9]+)$ ]] || die "bad node spec entry '$entry' (COUNTxGPUS:PRODUCT:MEMORY_MIB)"
    count=${BASH_REMATCH[1]} gpus=${BASH_REMATCH[2]} product=${BASH_REMATCH[3]} mem=${BASH_REMATCH[4]}
    for ((i = 0; i < count; i++)); do
      local name
      # The names say what a node is: kwok-gpu-<n> for the 24 GiB cards and up, kwok-gpu-small-<n> below.
      if [ "$mem" -lt 20000 ]; then name="kwok-gpu-small-$small"; small=$((small + 1)); else name="kwok-gpu-$n"; n=$((n + 1)); fi
      echo "$name $product.$gpus.$mem" >&3
      echo "---"
      node_yaml "$name" "$gpus" "$product" "$mem"
    done
  done
}

cmd_nodes() {
  local profile=${1:-} spec want name t0
  if [ -z "$profile" ]; then
    kc get nodes -L nvidia.com/gpu.product,nvidia.com/gpu.memory,nvidia.com/gpu.count -o wide
    return
  fi
  t0=$(now)
  spec=$(profile_spec "$profile")
  local tmp
  tmp=$(mktemp -d)
  spec_nodes "$spec" >"$tmp/nodes.yaml" 3>"$tmp/want"
  sort -o "$tmp/want" "$tmp/want"
  kc get nodes -l myia-vllm/node-set=kwok -o jsonpath='{range .items[*]}{.metadata.name} {.metadata.labels.myia-vllm/node-gpus}{"\n"}{end}' | sort >"$tmp/have"
  # Nodes not in the profile, or with other GPUs (status is written only on
  # create), go; their pods with them (the pod GC deletes pods bound to a missing node).
  for name in $(comm -13 "$tmp/want" "$tmp/have" | cut -d' ' -f1); do kc delete node "$name" --wait=true >/dev/null; done
  want=$(cut -d' ' -f1 "$tmp/want")
  [ -s "$tmp/nodes.yaml" ] && { kc create -f "$tmp/nodes.yaml" 2>&1 >/dev/null | grep -v AlreadyExists >&2 || true; }
  # Ready once kwok has taken them up.
  local waited=0
  for name in $want; do
    until [ "$(kc get node "$name" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
      waited=$((waited + 1))
      [ "$waited" -le "$((TIMEOUT * 10))" ] || die "node $name is not Ready after ${TIMEOUT}s (kwok log: $LOGS/kwok.log)"
      sleep 0.1
    done
  done
  rm -rf "$tmp"
  echo "$profile" >"$K/nodes-profile"
  log "nodes: profile $profile ($(echo "$want" | grep -c . || true) GPU nodes: ${spec:-none}) Ready in $(since "$t0") s"
}

# --- the real node (kubelet + containerd) ------------------------------------------

N="$K/node"
NODE_NAME=myia-node-0
CTRD_SOCK="$N/containerd/containerd.sock"
PAUSE_IMAGE=myia.local/pause:1

ctr_() { ctr --address "$CTRD_SOCK" -n k8s.io "$@"; }

# ctrd_pid: the pid of the node's containerd (Debian's binary, our config), if it runs.
ctrd_pid() {
  local f="$RUN/containerd.pid" pid cmd
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] && alive "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"containerd --config $N/containerd/config.toml"* ]] || return 1
  echo "$pid"
}

# The node's IP: the kubelet refuses a loopback one (the node then has no
# address, and the apiserver cannot reach it for logs and exec), so the
# machine's source address toward the outside; loopback only when there is none.
node_ip() {
  local ip
  ip=$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -n 1)
  [ -n "$ip" ] || ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
  echo "${ip:-127.0.0.1}"
}

node_files() {
  mkdir -p "$N/containerd" "$N/cni/net.d" "$N/cni/ipam" "$N/kubelet" "$N/image"
  # Made again each start: the node's IP may have changed.
  rm -f "$PKI/kubelet.crt"
  cert kubelet "system:node:$NODE_NAME" system:nodes "IP:$NODE_IP,IP:127.0.0.1,DNS:$NODE_NAME,DNS:localhost"
  kubeconfig kubelet
  cat >"$N/containerd/config.toml" <<TOML
# myia-vllm scripts/k8s.sh: the real node's containerd, not the machine's nor dockerd's.
version = 2
root = "$N/containerd/root"
state = "$N/containerd/state"
[grpc]
  address = "$CTRD_SOCK"
[ttrpc]
  address = "$CTRD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$N/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # runc cannot set the sandbox's oom_score_adj to -998 without CAP_SYS_RESOURCE
  # ("can't get final child's PID from pipe: EOF"): never below containerd's own.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$N/cni/net.d"
TOML
  cat >"$N/cni/net.d/10-myia.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "myia",
  "plugins": [
    {
      "type": "bridge", "bridge": "myia-cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$N/cni/ipam"}
    }
  ]
}
JSON
  cat >"$N/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# The apiserver reaches the kubelet at the node's InternalIP (logs, exec); every
# request needs a client certificate of our CA (no anonymous access).
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $PKI/kubelet.crt
tlsPrivateKeyFile: $PKI/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CTRD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
resolvConf: /etc/resolv.conf
maxPods: 20
serializeImagePulls: false
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# Checked every 2 s, not 10: the GPUs patched into the status reach allocatable sooner.
nodeStatusUpdateFrequency: 2s
YAML
}

# The pause image, made by hand as a docker-archive (one layer: our static
# pause program) and imported into the node's containerd: no registry here.
pause_image() {
  if ctr_ images ls -q 2>/dev/null | grep -qx "$PAUSE_IMAGE" && [ "$(cat "$N/image/pause.hash" 2>/dev/null)" = "$(cat "$BIN/.hash-pause")" ]; then return 0; fi
  local d="$N/image/pause" diff cfg
  rm -rf "$d" && mkdir -p "$d/rootfs" "$d/out"
  cp "$BIN/pause" "$d/rootfs/pause"
  tar --owner=0 --group=0 --numeric-owner -C "$d/rootfs" -cf "$d/layer.tar" pause
  diff=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
  mkdir -p "$d/out/$diff" && mv "$d/layer.tar" "$d/out/$diff/layer.tar"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" >"$d/config.json"
  cfg=$(sha256sum "$d/config.json" | cut -d' ' -f1)
  mv "$d/config.json" "$d/out/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$PAUSE_IMAGE" "$diff" >"$d/out/manifest.json"
  tar -C "$d/out" -cf "$N/image/pause.tar" .
  ctr_ images import "$N/image/pause.tar" >/dev/null
  cp "$BIN/.hash-pause" "$N/image/pause.hash"
  log "node: imported $PAUSE_IMAGE (our pause program) into the node's containerd"
}

node_ready() { [ "$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; }
node_gpus() { kc get node "$NODE_NAME" -o jsonpath='{.status.allocatable.nvidia\.com/gpu}' 2>/dev/null; }

node_rss() {
  local procs=() pid
  pid=$(ctrd_pid) && procs+=("containerd=$pid")
  pid=$(our_pid kubelet) && procs+=("kubelet=$pid")
  echo "node RSS $(rss_sum "${procs[@]}")"
}

cmd_node_start() {
  local t0 pid gpus=${MYIA_K8S_NODE_GPUS:-2}
  t0=$(now)
  our_pid kube-apiserver >/dev/null || die "the cluster is not running: bash scripts/k8s.sh start first"
  command -v containerd >/dev/null && command -v ctr >/dev/null || die "containerd is needed (Debian's containerd, which scripts/dockerd.sh installs)"
  mkdir -p "$N" "$BIN"
  if [ ! -x /usr/lib/cni/bridge ]; then
    log "installing Debian's containernetworking-plugins"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containernetworking-plugins >"$N/apt.log" 2>&1 ||
      die "apt-get install containernetworking-plugins failed ($N/apt.log)"
  fi
  build_one kubelet
  build_one pause
  make_pki
  NODE_IP=$(node_ip)
  node_files
  if ! ctrd_pid >/dev/null; then
    rm -f "$CTRD_SOCK"
    mkdir -p "$RUN" "$LOGS"
    echo "=== $(date -u +%FT%TZ) k8s.sh node start: containerd" >>"$LOGS/containerd.log"
    env -i PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$N" \
      setsid "${NICE[@]}" containerd --config "$N/containerd/config.toml" </dev/null >>"$LOGS/containerd.log" 2>&1 &
    echo $! >"$RUN/containerd.pid"
    local waited=0
    until ctr --address "$CTRD_SOCK" version >/dev/null 2>&1; do
      ctrd_pid >/dev/null || { tail -n 20 "$LOGS/containerd.log" >&2; die "containerd exited (log $LOGS/containerd.log)"; }
      waited=$((waited + 1))
      [ "$waited" -le "$((TIMEOUT * 10))" ] || die "containerd does not answer (log $LOGS/containerd.log)"
      sleep 0.1
    done
    log "containerd: serving ($CTRD_SOCK)"
  fi
  pause_image
  our_pid kubelet >/dev/null || launch kubelet --config "$N/kubelet.yaml" --kubeconfig "$PKI/kubelet.kubeconfig" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --root-dir "$N/kubelet" --cert-dir "$N/kubelet/pki" \
    --node-labels myia-vllm/node-set=real
  wait_for kubelet "node $NODE_NAME Ready" node_ready
  # An extended resource, as Kubernetes' docs advertise one: in the node's
  # status capacity; the kubelet copies it to allocatable.
  kc patch node "$NODE_NAME" --subresource=status --type=merge -p "{\"status\":{\"capacity\":{\"nvidia.com/gpu\":\"$gpus\"}}}" >/dev/null
  local waited=0
  until [ "$(node_gpus)" = "$gpus" ]; do
    waited=$((waited + 1))
    [ "$waited" -le "$((TIMEOUT * 10))" ] || die "node $NODE_NAME: nvidia.com/gpu not allocatable after ${TIMEOUT}s"
    sleep 0.1
  done
  log "node $NODE_NAME ($NODE_IP): Ready with nvidia.com/gpu: $gpus allocatable, $(since "$t0") s; $(node_rss)"
}

cmd_node_stop() {
  local pid c shim m
  [ -d "$N" ] || return 0
  stop_component kubelet
  # The pods' containers and sandboxes go with the node.
  if pid=$(ctrd_pid); then
    for c in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s KILL "$c" >/dev/null 2>&1 || true; done
    sleep 0.5
    for c in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$c" >/dev/null 2>&1 || true; done
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && kill -KILL "$pid" 2>/dev/null
    rm -f "$RUN/containerd.pid"
    log "stopped containerd (pid $pid)"
  fi
  # Shims outlive containerd by design: end those of our containerd (its address on their command line).
  for shim in $(pgrep -f "containerd-shim-runc-v2 .*-address $CTRD_SOCK" || true); do kill -KILL "$shim" 2>/dev/null || true; done
  # The pod mounts the kubelet and containerd leave under our folder, deepest first.
  awk -v d="$N/" 'index($2 "/", d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  if our_pid kube-apiserver >/dev/null; then kc delete node "$NODE_NAME" --ignore-not-found --wait=false >/dev/null 2>&1 || true; fi
}

cmd_node_status() {
  local pid down=0
  if pid=$(ctrd_pid); then echo "containerd: running (pid $pid)"; else echo "containerd: stopped"; down=1; fi
  if pid=$(our_pid kubelet); then echo "kubelet: running (pid $pid)"; else echo "kubelet: stopped"; down=1; fi
  if [ "$down" = 0 ] && node_ready; then
    echo "node $NODE_NAME: Ready, nvidia.com/gpu $(node_gpus)"
    node_rss
    return 0
  fi
  return 1
}

# node import IMAGE: an image of the shared dockerd into the node's containerd
# (docker save | ctr import); pods use it with imagePullPolicy: Never.
cmd_node_import() {
  local image=${1:?usage: bash scripts/k8s.sh node import IMAGE}
  ctrd_pid >/dev/null || die "the node's containerd is not running: bash scripts/k8s.sh node start"
  docker save "$image" | ctr_ images import - >/dev/null
  log "node: imported $image from dockerd"
}

cmd_node() {
  case "${1:-}" in
  start) cmd_node_start ;;
  stop) cmd_node_stop ;;
  status) cmd_node_status ;;
  import) shift; cmd_node_import "$@" ;;
  *) echo "usage: bash scripts/k8s.sh node start|stop|status|import IMAGE" >&2; exit 2 ;;
  esac
}

# --- commands ----------------------------------------------------------------------

# "<total> MiB (<name> <n> MiB, ...)": the resident memory of processes given as name=pid.
rss_sum() {
  local np kb total=0 parts=()
  for np in "$@"; do
    kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/${np#*=}/status" 2>/dev/null || echo 0)
    total=$((total + kb))
    parts+=("${np%%=*} $((kb / 1024)) MiB")
  done
  echo "$((total / 1024)) MiB ($(IFS=,; echo "${parts[*]}" | sed 's/,/, /g'))"
}

rss_total() {
  local procs=() name pid
  for name in "${COMPONENTS[@]}"; do pid=$(our_pid "$name") && procs+=("$name=$pid"); done
  echo "RSS $(rss_sum "${procs[@]}")"
}

cmd_start() {
  local profile=${1:-${K8S_NODES:-}} t0
  t0=$(now)
  command -v openssl >/dev/null || die "openssl is needed to make the cluster's certificates"
  command -v curl >/dev/null || die "curl is needed to probe the components"
  cmd_build
  make_pki
  local t1 name
  t1=$(now)
  for name in "${COMPONENTS[@]}"; do start_component "$name"; done
  # Pods need their namespace's default service account (made by the controller-manager).
  wait_for kube-controller-manager "default service account made" kc get serviceaccount default -n default
  [ -n "$profile" ] || profile=$(cat "$K/nodes-profile" 2>/dev/null || echo default)
  cmd_nodes "$profile"
  log "cluster ready: $SERVER, $(kc get nodes --no-headers 2>/dev/null | wc -l) nodes (profile $profile); start took $(since "$t1") s (with the build check: $(since "$t0") s); $(rss_total)"
  log "use it: eval \"\$(bash scripts/k8s.sh env)\"; kubectl get nodes"
}

cmd_stop() {
  local i any=0
  # The real node first: it is a client of the apiserver too.
  cmd_node_stop
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    our_pid "${COMPONENTS[i]}" >/dev/null && any=1
    stop_component "${COMPONENTS[i]}"
  done
  [ "$any" = 1 ] || log "no component started by this script is running"
}

cmd_status() {
  local name pid down=0
  for name in "${COMPONENTS[@]}"; do
    if pid=$(our_pid "$name"); then echo "$name: running (pid $pid)"; else echo "$name: stopped"; down=1; fi
  done
  if [ "$down" = 0 ] && healthz "$SERVER/readyz" 2>/dev/null; then
    echo "apiserver $SERVER: ready; $(kc get nodes --no-headers 2>/dev/null | grep -c ' Ready ' || true) nodes Ready (profile $(cat "$K/nodes-profile" 2>/dev/null || echo '?'))"
    rss_total
    return 0
  fi
  [ "$down" = 1 ] && ! our_pid kube-apiserver >/dev/null && return 3
  return 1
}

cmd_env() {
  echo "export KUBECONFIG=\"$KUBECONFIG_ADMIN\""
  echo "export PATH=\"$BIN:\$PATH\""
  echo "export MYIA_K8S_SERVER=\"$SERVER\""
}

cmd_reset() {
  cmd_stop
  rm -rf "$K/etcd" "$K/nodes-profile"
  log "cluster data removed ($K/etcd); the next start is a new cluster"
}

case "${1:-}" in
start) shift; cmd_start "$@" ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) cmd_env ;;
nodes) shift; cmd_nodes "$@" ;;
node) shift; cmd_node "$@" ;;
build) cmd_build ;;
reset) cmd_reset ;;
restart) cmd_stop; shift; cmd_start "$@" ;;
-h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) echo "usage: bash scripts/k8s.sh start [profile]|stop|status|env|nodes [profile]|node start|stop|status|import IMAGE|build|reset|restart" >&2; exit 2 ;;
esac

/**
 * Taking the GPUs over: the rule for one host whose GPUs hold one model at a
 * time. Pure: it builds the shell script `pulumi up` runs before it starts a
 * stack's container, and the trigger that makes it run again.
 *
 * The rule: every running container of this project whose GPU lease shares a
 * GPU with the deploying stack is stopped, never deleted, so rolling back is
 * starting it again. A container of anything else that holds a GPU is never
 * touched: the script refuses, names it, and says what to do (the host probe
 * already fails the preview on it).
 */
import { writeIntoContainer } from "./gateway/gate";
import { networkRepairScript } from "./gateway/network";
import { ROLE_LABEL } from "./gateway/spec";
import { DRAIN_FILE } from "../gateway/render";
import { FOREIGN_GPUS, PROJECT_LABEL, PROJECT_NAME } from "../host/probe";
import { SLEEPS_FN, sleepPeersScript, StandbyTakeoverArgs, wakeOwnScript } from "./standby";

export interface TakeoverArgs {
  /** The deploying stack: its own container is left alone. */
  stack: string;
  gpus: readonly number[];
  /** Seconds `docker stop` gives a model server to exit. */
  stopTimeoutSeconds?: number;
  /**
   * Seconds the gateways of the models about to stop refuse new requests
   * (503, Retry-After) while those in flight finish, before anything stops;
   * 0 stops at once. It ends as soon as no request is in flight.
   */
  drainSeconds?: number;
  /**
   * This stack's container, found differing from the declared one (changed
   * by hand, or a config change not applied yet): stopped and renamed first,
   * so the declared container can be created in its place.
   */
  drifted?: { name: string; why: string };
  /** The stack's private network and this stack's containers on it: made again if it is gone (see networkRepairScript). */
  network?: { name: string; containers: string[] };
  /**
   * host.standby.enabled: the other stacks' models on these GPUs that run in
   * sleep mode are put to sleep, not stopped, and this stack's model is
   * woken if it sleeps (components/docker/standby.ts).
   */
  standby?: StandbyTakeoverArgs;
}

export function takeoverScript(a: TakeoverArgs): string {
  const want = [...a.gpus].sort((x, y) => x - y).join(",");
  // Set aside, not removed: if the container is the one Pulumi's state knows
  // (a config change not applied yet), the provider still finds it by id to
  // delete it; if it was made by hand, nothing of it is lost.
  const repair = a.drifted
    ? [
        `aside=${JSON.stringify(`${a.drifted.name}-replaced-`)}$(date +%s)`,
        `docker stop -t ${a.stopTimeoutSeconds ?? 30} ${JSON.stringify(a.drifted.name)} >/dev/null 2>&1`,
        `docker rename ${JSON.stringify(a.drifted.name)} "$aside" && echo "set ${a.drifted.name} aside as $aside: ${`it differs from the declared container (${a.drifted.why}); the declared one takes its place`.replace(/["`$\\]/g, "")}"`,
        "",
      ].join("\n")
    : "";
  const network = a.network ? `${networkRepairScript(a.network.name, a.stack, a.network.containers)}\n` : "";
  return `set -u
${repair}${network}want=",${want},"
shares() { # $1: a GPU list such as "0,1" or "all"
  [ "$1" = all ] && return 0
  for g in $(echo "$1" | tr ',' ' '); do case "$want" in *",$g,"*) return 0 ;; esac; done
  return 1
}
refused=0
victims=""; said=""; stopped=" "; gateways=""; draining=""; draining_names=""${a.standby ? `
sleepers=""; sleeping=" "
${SLEEPS_FN}` : ""}
for id in $(docker ps -q); do
  info=$(docker inspect -f '{{.Name}}|{{index .Config.Labels "${PROJECT_LABEL}"}}|{{index .Config.Labels "org.myia.stack"}}|{{index .Config.Labels "org.myia.gpu-lease"}}|{{.HostConfig.Runtime}}|{{len .HostConfig.DeviceRequests}}|{{index .Config.Labels "${ROLE_LABEL}"}}|{{index .Config.Labels "org.myia.upstream"}}' "$id") || continue
  name=\${info%%|*}; name=\${name#/}; rest=\${info#*|}
  project=\${rest%%|*}; rest=\${rest#*|}
  stack=\${rest%%|*}; rest=\${rest#*|}
  lease=\${rest%%|*}; rest=\${rest#*|}
  runtime=\${rest%%|*}; rest=\${rest#*|}
  requests=\${rest%%|*}; rest=\${rest#*|}
  role=\${rest%%|*}; upstream=\${rest#*|}
  if [ "$project" = "${PROJECT_NAME}" ]; then
    [ "$stack" = ${JSON.stringify(a.stack)} ] && continue
    # Another stack's gateway holds no GPU: decided below, with its model.
    [ "$role" = gateway ] && { gateways="$gateways $id|$name|$stack|$upstream"; continue; }
    if shares "\${lease#*=}"; then${a.standby ? `
      if sleep_mode "$id"; then
        sleepers="$sleepers $name|$name-gateway|$(docker inspect -f '{{index .Config.Labels "org.myia.vllm-version"}}' "$id")"; sleeping="$sleeping$stack "
        continue
      fi` : ""}
      victims="$victims $id"; stopped="$stopped$stack "
      said="$said
stopped $name (stack $stack, GPUs \${lease#*=}); kept: \\\`pulumi up --stack $stack\\\` brings it back"
    fi
  elif [ "$runtime" = nvidia ] || [ "$requests" != 0 ]; then
    # Not ours: only what it was given says which GPUs it holds.
    ${FOREIGN_GPUS}
    if shares "\${devices:-all}"; then
      echo "refusing to stop $name: it is not a container of this project and holds GPU(s) \${devices:-all}; stop it yourself (docker stop $name) or free GPUs $want, then run up again" >&2
      refused=1
    fi
  fi
done
# A gateway goes with its model: stopped with it, or found in front of one
# not running. Its port then refuses connections rather than answering 502,
# and rollback starts both again.
for g in $gateways; do
  id=\${g%%|*}; rest=\${g#*|}
  name=\${rest%%|*}; rest=\${rest#*|}
  stack=\${rest%%|*}; upstream=\${rest#*|}${a.standby ? `
  # A sleeping model's gateway stays up and refuses (503, Retry-After).
  case "$sleeping" in *" $stack "*) draining="$draining $name|$upstream"; draining_names="$draining_names $name"; continue ;; esac` : ""}
  case "$stopped" in
    *" $stack "*) ;;
    *) [ "$(docker inspect -f '{{.State.Running}}' "$upstream" 2>/dev/null)" = true ] && continue ;;
  esac
  victims="$victims $id"
  # A gateway whose model stops now drains first; one in front of a model
  # already stopped has nothing in flight.
  case "$stopped" in *" $stack "*) draining="$draining $name|$upstream"; draining_names="$draining_names $name" ;; esac
  said="$said
stopped $name (the gateway of stack $stack, whose model is stopped)"
done
# Drain: the gateways of the models about to stop admit nothing new (503
# with Retry-After); the models finish what is in flight (vLLM's own count),
# up to ${a.drainSeconds ?? 0} s; then everything stops at once.
if [ -n "$draining" ] && [ ${a.drainSeconds ?? 0} -gt 0 ]; then
  models=""
  for g in $draining; do
    gname=\${g%%|*}; models="$models \${g#*|}"
    ${writeIntoContainer("$gname", DRAIN_FILE, "1")} || echo "could not drain $gname: its model stops with requests in flight" >&2
  done
  t0=$(date +%s); first=""
  while :; do
    busy=0
    for m in $models; do
      port=$(docker inspect -f '{{json .Config.Cmd}}' "$m" 2>/dev/null | sed -n 's/.*"--port","\\([0-9]*\\)".*/\\1/p')
      n=$(docker exec "$m" curl -s --max-time 2 "http://localhost:\${port:-8000}/metrics" 2>/dev/null | awk '/^vllm:num_requests_(running|waiting)[{ ]/ {s+=$2} END {print s+0}')
      busy=$((busy + \${n:-0}))
    done
    [ -n "$first" ] || first=$busy
    if [ "$busy" -eq 0 ] && [ "$first" -eq 0 ]; then
      said="$said
drained:$draining_names: nothing was in flight"
      break
    fi
    if [ "$busy" -eq 0 ]; then
      said="$said
drained:$draining_names refused new requests (503, Retry-After), and the $first in flight finished in $(( $(date +%s) - t0 )) s"
      break
    fi
    if [ $(( $(date +%s) - t0 )) -ge ${a.drainSeconds ?? 0} ]; then
      said="$said
drained:$draining_names for ${a.drainSeconds ?? 0} s (gateway.drainSeconds); $busy request(s) still in flight are cut by the stop"
      break
    fi
    sleep 0.2
  done
fi
${
  a.standby
    ? `${sleepPeersScript(a.standby)}if [ -n "$victims" ]; then
  docker stop -t ${a.stopTimeoutSeconds ?? 30} $victims >/dev/null
fi
printf '%s\n' "$said" | sed '/^$/d'
${wakeOwnScript(a.standby)}`
    : `# One call, so the models and their gateways stop together: the outage
# starts once, not once per container.
if [ -n "$victims" ]; then
  docker stop -t ${a.stopTimeoutSeconds ?? 30} $victims >/dev/null && printf '%s\n' "$said" | sed '/^$/d'
fi
`
}exit $refused
`;
}

/**
 * Standby's steps in `pulumi up`, as POSIX sh the takeover and the ready gate
 * include. Pure: it only builds the text.
 *
 * The takeover, with host.standby.enabled, puts the other stacks' models on
 * our GPUs to sleep instead of stopping them (those started with
 * --enable-sleep-mode; any other is stopped as before): their gateways
 * drain first and then keep refusing (503, Retry-After), so no request
 * reaches a sleeping engine; the sleep is `POST /sleep?level=1&mode=wait`
 * (requests in flight finish) bounded by sleepTimeoutSeconds, and a model
 * that does not fall asleep in time is stopped. Then, if this stack's own
 * model is asleep, it is woken; a wake that fails puts it back to sleep and
 * wakes the models that slept, so the old one serves again.
 *
 * Every call to the sleep routes goes from inside the model's container to
 * its own localhost: the routes exist only in dev mode and are never on the
 * public port (the gateway forwards /v1 and /health only).
 */
import { writeIntoContainer } from "./gateway/gate";
import { DRAIN_FILE } from "../gateway/render";
import { VLLM_PORT } from "../host/probe";

export interface StandbyTakeoverArgs {
  /** This stack's model container: woken if it sleeps. */
  ownContainer: string;
  sleepTimeoutSeconds: number;
  wakeTimeoutSeconds: number;
}

/** POSIX sh, with a container id or name in $id: sets $asleep to true, false or "" (no answer). */
const IS_SLEEPING = `${VLLM_PORT}; asleep=$(docker exec "$id" curl -s --max-time 3 "http://localhost:$port/is_sleeping" 2>/dev/null | tr -d '\\n ' | sed -n 's/.*"is_sleeping":\\(true\\|false\\).*/\\1/p')`;

/** POSIX sh: a function `sleeps <container>` true when the model answers /is_sleeping true. */
export const SLEEPS_FN = `sleeps() { id=$1; ${IS_SLEEPING}; [ "$asleep" = true ]; }
sleep_mode() { docker inspect -f '{{json .Config.Cmd}}' "$1" 2>/dev/null | grep -q '"--enable-sleep-mode"'; }`;

/**
 * POSIX sh run after the drain, before the stop: $sleepers holds
 * "name|gateway|version" entries. Each is put to sleep (already asleep: left
 * so); one that fails is added to $victims (with its gateway) to be stopped.
 * Sets $slept to those put to sleep now (to wake back on a failed wake).
 */
export function sleepPeersScript(a: StandbyTakeoverArgs): string {
  return `slept=""
for s in $sleepers; do
  name=\${s%%|*}; rest=\${s#*|}; gw=\${rest%%|*}; version=\${rest#*|}
  docker inspect "$gw" >/dev/null 2>&1 || gw="" # gateway.enabled false: vLLM's own port, nothing to drain
  # Its gateway refuses from now on, also with gateway.drainSeconds 0: nothing reaches a sleeping engine.
  [ -z "$gw" ] || ${writeIntoContainer("$gw", DRAIN_FILE, "1")} || echo "could not set the drain switch of $gw: it may forward to a sleeping engine" >&2
  if sleeps "$name"; then
    said="$said
$name is asleep already (standby)"
    continue
  fi
  # mode=wait (vllm#34528, 0.17): requests still in flight finish first.
  case "$version" in 0.1[0-6].*|0.[0-9].*) q="level=1" ;; *) q="level=1&mode=wait" ;; esac
  id=$name; ${VLLM_PORT}
  t0=$(date +%s)
  docker exec "$name" curl -fsS -X POST --max-time ${a.sleepTimeoutSeconds} "http://localhost:$port/sleep?$q" >/dev/null 2>&1
  if sleeps "$name"; then
    slept="$slept $s"
    said="$said
put $name to sleep in $(( $(date +%s) - t0 )) s (standby; POST /sleep?$q); its gateway refuses (503, Retry-After) until \\\`pulumi up\\\` of its stack wakes it"
  else
    victims="$victims $name $gw"
    said="$said
$name did not fall asleep within ${a.sleepTimeoutSeconds} s (host.standby.sleepTimeoutSeconds): stopped instead, and kept"
  fi
done
`;
}

/**
 * POSIX sh run last: wakes this stack's own model if it sleeps; if the wake
 * fails, puts it back to sleep, wakes the models in $slept (and opens their
 * gateways), and exits 1.
 */
export function wakeOwnScript(a: StandbyTakeoverArgs): string {
  const own = JSON.stringify(a.ownContainer);
  return `if [ "$(docker inspect -f '{{.State.Running}}' ${own} 2>/dev/null)" = true ] && sleeps ${own}; then
  id=${own}; ${VLLM_PORT}
  t0=$(date +%s)
  if docker exec ${own} curl -fsS -X POST --max-time ${a.wakeTimeoutSeconds} "http://localhost:$port/wake_up" >/dev/null 2>&1 && ! sleeps ${own}; then
    echo "woke ${a.ownContainer} in $(( $(date +%s) - t0 )) s (standby: no load)"
  else
    echo "${a.ownContainer} did not wake (POST /wake_up failed, or it still sleeps after ${a.wakeTimeoutSeconds} s); its last log lines:" >&2
    docker logs --tail 10 ${own} 2>&1 | sed 's/^/  | /' >&2
    docker exec ${own} curl -s -X POST --max-time ${a.sleepTimeoutSeconds} "http://localhost:$port/sleep?level=1" >/dev/null 2>&1
    for s in $slept; do
      name=\${s%%|*}; rest=\${s#*|}; gw=\${rest%%|*}
      id=$name; ${VLLM_PORT}
      if docker exec "$name" curl -fsS -X POST --max-time ${a.wakeTimeoutSeconds} "http://localhost:$port/wake_up" >/dev/null 2>&1 && ! sleeps "$name"; then
        [ -z "$gw" ] || ${writeIntoContainer("$gw", DRAIN_FILE, "0")} || true
        echo "woke $name back: it serves again" >&2
      else
        echo "could not wake $name back either: run \\\`pulumi up\\\` of its stack" >&2
      fi
    done
    exit 1
  fi
fi
`;
}

/**
 * The shell script `pulumi up` runs once the gateway's container is created:
 * it returns when the gateway answers /health through to vLLM and refuses an
 * unguarded route without the key, and fails otherwise with the gateway's
 * last log lines. Pure: it only builds the text.
 *
 * It asks from inside the vLLM container, on the stack's private network:
 * the official Caddy image has no curl, vLLM's has (its healthcheck uses it),
 * and the path it tests (gateway -> vLLM by name) is the one clients take.
 */
import { dockerUnreachable } from "../readyGate";

export interface GatewayGateArgs {
  /** The vLLM container, where curl runs. */
  fromContainer: string;
  /** The gateway's container name (its host name on the private network). */
  gatewayName: string;
  port: number;
  timeoutSeconds: number;
  /** An unguarded route, which must be refused without the key. */
  refusedPath: string;
}

export function gatewayGateScript(a: GatewayGateArgs): string {
  const from = JSON.stringify(a.fromContainer);
  const gw = JSON.stringify(a.gatewayName);
  const base = `http://${a.gatewayName}:${a.port}`;
  return `set -u
deadline=$(( $(date +%s) + ${a.timeoutSeconds} ))
while ! docker exec ${from} curl -fsS -o /dev/null --max-time 2 ${base}/health >/dev/null 2>&1; do
  running=$(docker inspect -f '{{.State.Running}}' ${gw} 2>&1)
  case "$running" in true | false) ;; *) ${dockerUnreachable(a.gatewayName, "running")} ;; esac
  if [ "$(date +%s)" -ge "$deadline" ] || [ "$running" != true ]; then
    echo "gateway ${a.gatewayName} did not answer ${base}/health within ${a.timeoutSeconds}s. Its last 20 log lines:" >&2
    docker logs --tail 20 ${gw} 2>&1 | sed 's/^/  | /' >&2
    exit 1
  fi
  sleep 0.25
done
if docker exec ${from} curl -fsS -o /dev/null --max-time 5 -X POST -H 'Content-Type: application/json' -d '{}' ${base}${a.refusedPath} >/dev/null 2>&1; then
  echo "gateway ${a.gatewayName} answered POST ${a.refusedPath} without the key: it must refuse it; check its Caddyfile (docker exec ${a.gatewayName} cat /etc/caddy/Caddyfile)" >&2
  exit 1
fi
echo "${a.gatewayName} answers /health and refuses ${a.refusedPath} without the key"
`;
}

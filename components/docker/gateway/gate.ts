/**
 * The shell scripts `pulumi up` runs for the gateway. Pure: they only build
 * the text.
 *
 * - The gate: returns when the gateway answers /health through to vLLM (over
 *   verified TLS with Caddy's CA) and refuses an unguarded route without a
 *   key; fails otherwise with the gateway's last log lines. It asks from
 *   inside the vLLM container, on the stack's private network: the official
 *   Caddy image has no shell or curl, vLLM's has curl (its healthcheck uses
 *   it), and the path it tests (gateway -> vLLM by name) is the one clients take.
 * - The clients' config: loads the Caddyfile with the client keys into the
 *   running gateway through its admin socket, a graceful reload (requests in
 *   flight finish on the old config).
 * - The CA: prints the root certificate of Caddy's CA, for clients to trust.
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
  /** The drain switch, set to serve first (a gateway started again after a drain). */
  drainFile: string;
  /**
   * How the gateway serves: https checked against the CA whose root is at
   * caRoot in the gateway (internal), https unchecked (provided: the user's
   * CA is not known here), or plain http. name: a name in the certificate.
   */
  tls: { mode: "internal" | "provided" | "off"; name: string; caRoot: string };
}

/**
 * POSIX sh: writes `value` into the file `path` of a running container (the
 * Caddy image has no shell: a tar on `docker cp`'s stdin). The gateway's
 * drain switch: "1" drains, "0" serves.
 */
export function writeIntoContainer(container: string, path: string, value: string): string {
  const dir = path.slice(0, path.lastIndexOf("/")) || "/";
  const file = path.slice(path.lastIndexOf("/") + 1);
  return `(d=$(mktemp -d) && printf '%s' ${JSON.stringify(value)} > "$d/${file}" && tar -C "$d" -cf - ${file} | docker cp - ${JSON.stringify(`${container}:${dir}`)}; rc=$?; rm -rf "$d"; exit $rc)`;
}

/** `docker cp` of one file out of a container, to stdout (the Caddy image has no cat). */
const copyOut = (container: string, path: string) => `docker cp ${JSON.stringify(`${container}:${path}`)} - 2>/dev/null | tar -xO 2>/dev/null`;

export function gatewayGateScript(a: GatewayGateArgs): string {
  const from = JSON.stringify(a.fromContainer);
  const gw = JSON.stringify(a.gatewayName);
  const https = a.tls.mode !== "off";
  // Over TLS, the request names a host in the certificate and is sent to the
  // gateway's container by --connect-to, so the certificate's name is checked.
  const base = https ? `https://${a.tls.name}:${a.port}` : `http://${a.gatewayName}:${a.port}`;
  const connect = https ? ` --connect-to ${a.tls.name}:${a.port}:${a.gatewayName}:${a.port}` : "";
  const curl = (opts: string, path: string) =>
    a.tls.mode === "internal"
      ? `${copyOut(a.gatewayName, a.tls.caRoot)} | docker exec -i ${from} curl ${opts} --cacert /dev/stdin${connect} ${base}${path}`
      : `docker exec ${from} curl ${opts}${a.tls.mode === "provided" ? " --insecure" : ""}${connect} ${base}${path}`;
  return `set -u
# Started again after its model was switched off: serve again.
${writeIntoContainer(a.gatewayName, a.drainFile, "0")} || echo "gateway ${a.gatewayName}: could not reset its drain switch ${a.drainFile}" >&2
deadline=$(( $(date +%s) + ${a.timeoutSeconds} ))
while ! ${curl("-fsS -o /dev/null --max-time 2", "/health")} >/dev/null 2>&1; do
  running=$(docker inspect -f '{{.State.Running}}' ${gw} 2>&1)
  case "$running" in true | false) ;; *) ${dockerUnreachable(a.gatewayName, "running")} ;; esac
  if [ "$(date +%s)" -ge "$deadline" ] || [ "$running" != true ]; then
    echo "gateway ${a.gatewayName} did not answer ${base}/health${https ? (a.tls.mode === "internal" ? " over TLS checked against its CA" : " over TLS") : ""} within ${a.timeoutSeconds}s. Its last curl error and 20 log lines:" >&2
    ${curl("-sS -o /dev/null --max-time 2", "/health")} 2>&1 | sed 's/^/  | /' >&2
    docker logs --tail 20 ${gw} 2>&1 | sed 's/^/  | /' >&2
    exit 1
  fi
  sleep 0.25
done
if ${curl("-fsS -o /dev/null --max-time 5 -X POST -H 'Content-Type: application/json' -d '{}'", a.refusedPath)} >/dev/null 2>&1; then
  echo "gateway ${a.gatewayName} answered POST ${a.refusedPath} without the key: it must refuse it; check its config (docker logs ${a.gatewayName})" >&2
  exit 1
fi
echo "${a.gatewayName} answers ${base}/health${a.tls.mode === "internal" ? " (TLS checked against its CA)" : ""} and refuses ${a.refusedPath} without the key"
`;
}

export interface ClientsScriptArgs {
  gatewayName: string;
  /** The admin socket inside the gateway's container. */
  adminSocket: string;
  /** The environment variable that holds the clients' Caddyfile (a secret: never argv, never a file). */
  configEnv: string;
  /** The clients' names, for the line it prints; never their keys. */
  clients: readonly string[];
  timeoutSeconds: number;
}

/**
 * Loads the clients' Caddyfile into the gateway: piped from the environment
 * into `caddy reload` in the container (printf is a shell builtin, so the
 * text is in no argv). Retries while Caddy starts (its admin socket appears
 * a moment after the container).
 */
export function clientsScript(a: ClientsScriptArgs): string {
  const gw = JSON.stringify(a.gatewayName);
  return `set -u
deadline=$(( $(date +%s) + ${a.timeoutSeconds} ))
until out=$(printf '%s' "$${a.configEnv}" | docker exec -i ${gw} caddy reload --config /dev/stdin --adapter caddyfile --address unix/${a.adminSocket} 2>&1); do
  running=$(docker inspect -f '{{.State.Running}}' ${gw} 2>&1)
  case "$running" in true | false) ;; *) ${dockerUnreachable(a.gatewayName, "running")} ;; esac
  if [ "$(date +%s)" -ge "$deadline" ] || [ "$running" != true ]; then
    echo "gateway ${a.gatewayName} did not take its clients' config within ${a.timeoutSeconds}s (it still refuses every key). caddy reload said:" >&2
    printf '%s\\n' "$out" | grep -v '"msg":"using config from file"\\|"msg":"adapted config to JSON"' | tail -5 | sed 's/^/  | /' >&2
    exit 1
  fi
  sleep 0.25
done
echo "gateway ${a.gatewayName}: ${a.clients.length} client key(s) loaded (${a.clients.join(", ") || "none"}), without a restart"
`;
}

/** Prints the root certificate of the gateway's CA, waiting for Caddy to make it on its first start. */
export function caRootScript(gatewayName: string, caRoot: string, timeoutSeconds: number): string {
  return `set -u
deadline=$(( $(date +%s) + ${timeoutSeconds} ))
until pem=$(${copyOut(gatewayName, caRoot)}) && [ -n "$pem" ]; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "gateway ${gatewayName} has no CA root at ${caRoot} after ${timeoutSeconds}s; its last log lines:" >&2
    docker logs --tail 10 ${JSON.stringify(gatewayName)} 2>&1 | sed 's/^/  | /' >&2
    exit 1
  fi
  sleep 0.25
done
printf '%s\\n' "$pem"
`;
}

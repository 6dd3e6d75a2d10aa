/**
 * The shell script `pulumi up` runs after a container is created: it returns
 * once the container is healthy and fails otherwise, printing the container's
 * last log lines so the operator sees why. Pure: it only builds the text.
 *
 * It asks the server itself (`curl /health` inside the container) once a
 * second, rather than waiting for Docker's healthcheck interval, so `up`
 * returns within a second of the model answering.
 */
export interface ReadyGateArgs {
  containerName: string;
  port: number;
  timeoutSeconds: number;
  /** Log lines shown when the container never becomes healthy. */
  logLines?: number;
}

export function readyGateScript(a: ReadyGateArgs): string {
  const n = JSON.stringify(a.containerName);
  return `set -u
deadline=$(( $(date +%s) + ${a.timeoutSeconds} ))
state=unknown
while :; do
  state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} restarts={{.RestartCount}}' ${n} 2>&1) || {
    ${dockerUnreachable(a.containerName, "state")}
    echo "container ${a.containerName} is gone: $state" >&2
    exit 1
  }
  case "$state" in
    "running healthy"*) echo "${a.containerName} is healthy"; exit 0 ;;
    running*restarts=0) docker exec ${n} curl -fsS -o /dev/null --max-time 2 http://localhost:${a.port}/health >/dev/null 2>&1 && { echo "${a.containerName} answers /health"; exit 0; } ;;
    *) break ;;
  esac
  [ "$(date +%s)" -ge "$deadline" ] && { state="$state, still not healthy after ${a.timeoutSeconds}s"; break; }
  sleep 1
done
echo "container ${a.containerName} did not become healthy ($state). Its last ${a.logLines ?? 40} log lines:" >&2
docker logs --tail ${a.logLines ?? 40} ${n} 2>&1 | sed 's/^/  | /' >&2
exit 1
`;
}

/**
 * POSIX sh, after a `docker inspect` of `name` whose output is in $var
 * failed or was not a state: unless Docker said the container does not
 * exist, the host's Docker could not be reached (over ssh, a dropped
 * connection), which is said as such, and the script exits 1. Both gates use it.
 */
export function dockerUnreachable(name: string, varName: string): string {
  return `case "$${varName}" in *"No such"*) ;; *) echo "cannot reach Docker on the host to check ${name} (the container was not touched; run up again once the host answers): $(echo "$${varName}" | tail -n 1)" >&2; exit 1 ;; esac`;
}

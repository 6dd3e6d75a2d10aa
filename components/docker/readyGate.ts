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
  /**
   * Standby: after /health, a real completion (a woken model answers /health
   * before it can generate), with an image for a vision model.
   */
  canary?: CanaryArgs;
}

export interface CanaryArgs {
  /** The served model name. */
  model: string;
  /** Send an image too (a vision model). */
  image: boolean;
  timeoutSeconds: number;
}

/** An 8x8 red PNG: the canary's image. */
export const CANARY_PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGO4IyKCFTEMLQkAmD9BAZzFjLYAAAAASUVORK5CYII=";

/**
 * POSIX sh: a function \`canary\` that sends one short chat completion to the
 * model from inside its container, with the key from the container's own
 * environment (it never leaves the container), and fails with the answer.
 */
export function canaryFunction(containerName: string, port: number, c: CanaryArgs): string {
  const content = c.image ? [{ type: "text", text: "Reply with one word." }, { type: "image_url", image_url: { url: CANARY_PNG } }] : "Reply with one word.";
  const body = JSON.stringify({ model: c.model, messages: [{ role: "user", content }], max_tokens: 4 });
  // Double-quoted inside sh -c (the container's shell expands $VLLM_API_KEY), single-quoted outside.
  const inner = `curl -sS --max-time ${c.timeoutSeconds} -H "Authorization: Bearer $VLLM_API_KEY" -H "Content-Type: application/json" -d "${body.replace(/["\\$\`]/g, "\\$&")}" http://localhost:${port}/v1/chat/completions`;
  return `canary() {
  out=$(docker exec ${JSON.stringify(containerName)} sh -c '${inner.replace(/'/g, "'\\''")}' 2>&1)
  case "$out" in
    *'"choices"'*) echo "${containerName}: a canary completion${c.image ? " with an image" : ""} answered"; return 0 ;;
  esac
  echo "${containerName} answers /health but a canary completion${c.image ? " with an image" : ""} failed: $(printf '%s' "$out" | tail -c 300)" >&2
  return 1
}`;
}

export function readyGateScript(a: ReadyGateArgs): string {
  const n = JSON.stringify(a.containerName);
  const ok = a.canary ? "canary; exit $?" : "exit 0";
  return `set -u
${a.canary ? `${canaryFunction(a.containerName, a.port, a.canary)}\n` : ""}deadline=$(( $(date +%s) + ${a.timeoutSeconds} ))
state=unknown
while :; do
  state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} restarts={{.RestartCount}}' ${n} 2>&1) || {
    ${dockerUnreachable(a.containerName, "state")}
    echo "container ${a.containerName} is gone: $state" >&2
    exit 1
  }
  case "$state" in
    "running healthy"*) echo "${a.containerName} is healthy"; ${ok} ;;
    running*restarts=0) docker exec ${n} curl -fsS -o /dev/null --max-time 2 http://localhost:${a.port}/health >/dev/null 2>&1 && { echo "${a.containerName} answers /health"; ${ok}; } ;;
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

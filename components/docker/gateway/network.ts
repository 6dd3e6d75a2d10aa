/**
 * The stack's private network, where vLLM is reachable by the gateway only.
 * Pure: the shell that makes it and removes it, run by a command resource
 * rather than the docker provider's Network.
 *
 * Why not docker:index/network:Network: the upstream provider waits a fixed
 * 2 s before its first read of a network (kreuzwerker
 * terraform-provider-docker, resource_docker_network_funcs.go,
 * networkReadRefreshDelay), and with `refresh: always` every preview and
 * every up paid it before the takeover and the containers. A network has
 * nothing to drift but its existence; the host probe lists ours, and the
 * takeover makes a missing one again before the containers start (Docker
 * finds a stopped container's network by name when it starts).
 */
import { NETWORK_OWNER_LABEL, PROJECT_LABEL, PROJECT_NAME } from "../../host/probe";
import { shellQuote as q } from "../../host/shell";

/** The network's labels as the docker provider made them before this command (kept, so that network stays in sync). */
export function networkLabels(stack: string): { label: string; value: string }[] {
  return [
    { label: PROJECT_LABEL, value: PROJECT_NAME },
    { label: "org.myia.stack", value: stack },
  ];
}

const createCommand = (name: string, stack: string): string =>
  `docker network create --driver bridge ${[...networkLabels(stack), { label: NETWORK_OWNER_LABEL, value: "command" }].map((l) => `--label ${q(`${l.label}=${l.value}`)}`).join(" ")} ${q(name)} >/dev/null || exit 1`;

/** Makes the network unless it exists (the network command's create), and prints its name. */
export function networkEnsureScript(name: string, stack: string): string {
  return [`docker network inspect ${q(name)} >/dev/null 2>&1 ||`, `  ${createCommand(name, stack)}`, `echo ${q(name)}`].join("\n");
}

/**
 * The takeover's part, before this stack's containers start: a network that
 * is gone, or that the docker provider made (releases before the command)
 * and no running container uses, is made again as ours. A container that
 * has run keeps its network's id, and Docker refuses to start it on a new
 * network of the same name ("network <id> not found"), so this stack's
 * containers on it are removed too, and `up` creates them anew (the
 * provider's refresh, which comes after the takeover, finds them gone). A
 * provider-made network in use (the stack serves on it) is left alone.
 */
export function networkRepairScript(name: string, stack: string, containers: readonly string[]): string {
  return [
    `info=$(docker network inspect -f '{{index .Labels "${NETWORK_OWNER_LABEL}"}}|{{len .Containers}}' ${q(name)} 2>/dev/null)`,
    `remake=""`,
    `case "$info" in`,
    `"") remake="it was gone" ;;`,
    `"|0") docker network rm ${q(name)} >/dev/null && remake="it was made by an older release" ;;`,
    `esac`,
    `if [ -n "$remake" ]; then`,
    ...containers.map((c) => `  docker rm -f ${q(c)} >/dev/null 2>&1 && echo ${q(`removed ${c}: `)}"its network ${name} is made again ($remake); up creates it anew"`),
    `  ${createCommand(name, stack)}`,
    `fi`,
  ].join("\n");
}

/** Removes it; a network already gone is not an error, one still in use is. */
export function networkRemoveScript(name: string): string {
  return [
    `out=$(docker network rm ${q(name)} 2>&1) && exit 0`,
    `case "$out" in *"not found"*|*"No such network"*) exit 0 ;; esac`,
    `echo "$out" >&2; exit 1`,
  ].join("\n");
}

/** Said when the probe finds the network of a deployed stack gone (removed by hand, or by `docker network prune` while the stack was stopped). */
export function networkGoneWarning(name: string): string {
  return `network ${name} is gone (removed by hand, or pruned while this stack was stopped): up makes it again before the containers start`;
}

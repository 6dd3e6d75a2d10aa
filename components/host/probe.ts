/**
 * The host probe: one shell script that GpuHost runs on the GPU host (locally,
 * or through ssh) at preview and at up, and the parser for what it prints.
 * One round trip gathers everything the checks need, so preview stays fast.
 */
import { APPS_QUERY, ComputeApp, GPU_QUERY, GpuInfo, parseComputeApps, parseQueryGpu } from "./nvidiaSmi";

/** Label every container of this project carries. */
export const PROJECT_LABEL = "org.myia.project";
export const PROJECT_NAME = "myia-vllm";

const MARK = "### myia-probe";

/** POSIX sh: runs on the host. Each section ends with its exit status. */
export const PROBE_SCRIPT = [
  `echo "${MARK} gpus"; ${GPU_QUERY} 2>&1; echo "${MARK} status $?"`,
  `echo "${MARK} apps"; ${APPS_QUERY} 2>&1; echo "${MARK} status $?"`,
  `echo "${MARK} runtimes"; docker info --format '{{json .Runtimes}}' 2>&1; echo "${MARK} status $?"`,
  `echo "${MARK} containers"`,
  `for id in $(docker ps -aq --filter label=${PROJECT_LABEL}=${PROJECT_NAME} 2>/dev/null); do`,
  `  docker inspect -f 'container|{{.Name}}|{{.State.Status}}|{{index .Config.Labels "org.myia.stack"}}|{{index .Config.Labels "org.myia.gpu-lease"}}' "$id"`,
  `  docker top "$id" -eo pid 2>/dev/null | tail -n +2 | sed 's/^ */pid /'`,
  `done; echo "${MARK} status 0"`,
].join("\n");

/** A container of this project, found on the host. */
export interface OwnedContainer {
  name: string;
  status: string;
  stack: string;
  gpuLease: string;
  /** Host pids of its processes (running containers only). */
  pids: number[];
}

export interface HostProbe {
  gpus: GpuInfo[];
  apps: ComputeApp[];
  runtimes: string[];
  containers: OwnedContainer[];
  /** Sections whose command failed, with what it printed. */
  failures: { section: string; output: string }[];
}

export function parseProbe(text: string): HostProbe {
  const sections = new Map<string, { body: string[]; status: number }>();
  let current: { name: string; body: string[] } | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(`${MARK} status `) && current) {
      sections.set(current.name, { body: current.body, status: Number(line.slice(MARK.length + 8)) });
      current = undefined;
    } else if (line.startsWith(`${MARK} `)) {
      current = { name: line.slice(MARK.length + 1).trim(), body: [] };
    } else if (current) {
      current.body.push(line);
    }
  }
  const probe: HostProbe = { gpus: [], apps: [], runtimes: [], containers: [], failures: [] };
  const take = (name: string, parse: (body: string) => void) => {
    const s = sections.get(name);
    if (!s) {
      probe.failures.push({ section: name, output: "no output (the probe did not run to the end)" });
    } else if (s.status !== 0) {
      probe.failures.push({ section: name, output: s.body.join("\n").trim() });
    } else {
      try {
        parse(s.body.join("\n"));
      } catch (e) {
        probe.failures.push({ section: name, output: (e as Error).message });
      }
    }
  };
  take("gpus", (b) => (probe.gpus = parseQueryGpu(b)));
  take("apps", (b) => (probe.apps = parseComputeApps(b)));
  take("runtimes", (b) => (probe.runtimes = Object.keys(JSON.parse(b.trim() || "{}") as object)));
  take("containers", (b) => {
    for (const line of b.split("\n")) {
      const t = line.trim();
      if (t.startsWith("container|")) {
        const [, name = "", status = "", stack = "", gpuLease = ""] = t.split("|");
        probe.containers.push({ name: name.replace(/^\//, ""), status, stack, gpuLease, pids: [] });
      } else if (t.startsWith("pid ") && probe.containers.length > 0) {
        probe.containers[probe.containers.length - 1].pids.push(Number(t.slice(4)));
      }
    }
  });
  return probe;
}

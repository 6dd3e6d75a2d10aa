/**
 * The host probe: one shell script that GpuHost runs on the GPU host (locally,
 * or through ssh) at preview and at up, and the parser for what it prints.
 * One round trip gathers everything the checks need, so preview stays fast.
 */
import { APPS_QUERY, ComputeApp, GPU_QUERY, GpuInfo, parseComputeApps, parseQueryGpu } from "./nvidiaSmi";

/** Label every container of this project carries. */
export const PROJECT_LABEL = "org.myia.project";
export const PROJECT_NAME = "myia-vllm";
/** On the networks our network command makes (components/docker/gateway/network.ts). */
export const NETWORK_OWNER_LABEL = "org.myia.network";

const MARK = "### myia-probe";

/**
 * POSIX sh, with a container id in $id: sets $devices to the GPUs it was
 * given, as "0,1" or "all". Device requests (`--gpus`, what our containers
 * use) come first; the nvidia runtime's NVIDIA_VISIBLE_DEVICES after; empty
 * when it names none.
 */
export const FOREIGN_GPUS = [
  `devices=$(docker inspect -f '{{range $i, $r := .HostConfig.DeviceRequests}}{{if $i}},{{end}}{{if $r.DeviceIDs}}{{join $r.DeviceIDs ","}}{{else}}all{{end}}{{end}}' "$id")`,
  `[ -n "$devices" ] || devices=$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$id" | sed -n 's/^NVIDIA_VISIBLE_DEVICES=//p')`,
].join("; ");

/** POSIX sh: runs on the host. Each section ends with its exit status. */
const BASE_PROBE = [
  `echo "${MARK} gpus"; ${GPU_QUERY} 2>&1; echo "${MARK} status $?"`,
  `echo "${MARK} apps"; ${APPS_QUERY} 2>&1; echo "${MARK} status $?"`,
  `echo "${MARK} runtimes"; docker info --format '{{json .Runtimes}}' 2>&1; echo "${MARK} status $?"`,
  `echo "${MARK} containers"`,
  // One inspect for all of them, and `docker top` only where something runs:
  // each docker call is a process and a round trip, and every preview pays them.
  `ids=$(docker ps -aq --filter label=${PROJECT_LABEL}=${PROJECT_NAME} 2>/dev/null)`,
  `[ -z "$ids" ] || docker inspect -f 'container|{{.Name}}|{{.State.Status}}|{{index .Config.Labels "org.myia.stack"}}|{{index .Config.Labels "org.myia.gpu-lease"}}|{{.State.StartedAt}}|{{.Id}}' $ids 2>/dev/null | while IFS= read -r line; do`,
  `  echo "\${line%|*}"`,
  `  case "$line" in "container|"*"|running|"*) docker top "\${line##*|}" -eo pid 2>/dev/null | tail -n +2 | sed 's/^ */pid /' ;; esac`,
  `done`,
  // Running containers of anything else that were given GPUs. Only which
  // GPUs they hold leaves the host, not the rest of their environment.
  `for id in $(docker ps -q 2>/dev/null); do`,
  `  info=$(docker inspect -f '{{index .Config.Labels "${PROJECT_LABEL}"}}|{{.Name}}|{{.HostConfig.Runtime}}|{{len .HostConfig.DeviceRequests}}' "$id") || continue`,
  `  case "$info" in ${PROJECT_NAME}\\|*) continue ;; esac`,
  `  case "$info" in *\\|nvidia\\|*|*\\|[1-9]*) ;; *) continue ;; esac`,
  `  ${FOREIGN_GPUS}`,
  `  echo "foreign|\${info#*|}|\${devices:-all}"`,
  `done; echo "${MARK} status 0"`,
  // This project's networks, by name: a stack's network removed by hand is
  // drift that the takeover repairs (components/docker/gateway/network.ts).
  // Docker unreachable is the runtimes section's error, said once.
  `echo "${MARK} networks"; docker network ls --filter label=${PROJECT_LABEL}=${PROJECT_NAME} --format '{{.Name}}|{{.Label "${NETWORK_OWNER_LABEL}"}}' 2>/dev/null; echo "${MARK} status 0"`,
].join("\n");

/**
 * The probe, plus (given this stack's container name) what drift detection
 * needs of that container: its id, state and config-hash label, and a hash
 * of the environment it was given beyond its image's. Only the hash leaves
 * the host, never the values (they include the secrets).
 */
/**
 * POSIX sh, with a container id in $id: sets $port to the port its vLLM
 * listens on (its argv's --port, else vLLM's 8000).
 */
export const VLLM_PORT = `port=$(docker inspect -f '{{json .Config.Cmd}}' "$id" 2>/dev/null | sed -n 's/.*"--port","\\([0-9]*\\)".*/\\1/p'); port=\${port:-8000}`;

/**
 * Standby's sections: the host's RAM (MemTotal; MYIA_HOST_MEMINFO names
 * another file, for the stand-in host's tests), and for each running model
 * of this project started with --enable-sleep-mode, whether it sleeps (its
 * own GET /is_sleeping, from inside the container: the route is never on
 * the public port).
 */
const STANDBY_PROBE = [
  `echo "${MARK} meminfo"; grep '^MemTotal:' "\${MYIA_HOST_MEMINFO:-/proc/meminfo}" 2>&1; echo "${MARK} status $?"`,
  `echo "${MARK} sleep"`,
  `for id in $(docker ps -q --filter label=${PROJECT_LABEL}=${PROJECT_NAME} 2>/dev/null); do`,
  `  docker inspect -f '{{json .Config.Cmd}}' "$id" | grep -q '"--enable-sleep-mode"' || continue`,
  `  ${VLLM_PORT}`,
  `  echo "sleep|$(docker inspect -f '{{.Name}}' "$id")|$(docker exec "$id" curl -s --max-time 3 "http://localhost:$port/is_sleeping" 2>/dev/null | tr -d '\\n ')"`,
  `done; echo "${MARK} status 0"`,
].join("\n");

export function probeScript(ownContainer?: string, opts: { standby?: boolean } = {}): string {
  const base = opts.standby ? `${BASE_PROBE}\n${STANDBY_PROBE}` : BASE_PROBE;
  if (!ownContainer) return base;
  const n = `'${ownContainer.replace(/'/g, "")}'`;
  return [
    base,
    `echo "${MARK} own"`,
    `if docker inspect ${n} >/dev/null 2>&1; then`,
    `  docker inspect -f 'own|{{.Id}}|{{.State.Status}}|{{index .Config.Labels "org.myia.config-hash"}}|{{index .Config.Labels "org.myia.stack"}}|{{.HostConfig.NetworkMode}}' ${n}`,
    `  t=$(mktemp); docker image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$(docker inspect -f '{{.Image}}' ${n})" | LC_ALL=C sort -u >"$t"`,
    `  sed -n 's/^./imageenv|&/p' "$t"`,
    `  echo "envhash|$(docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' ${n} | LC_ALL=C sort -u | grep -vxF -f "$t" | sha256sum | cut -c1-64)"`,
    `  rm -f "$t"`,
    `fi; echo "${MARK} status 0"`,
  ].join("\n");
}

/** The probe without a container of our own to look at. */
export const PROBE_SCRIPT = BASE_PROBE;

/** A container of this project, found on the host. */
export interface OwnedContainer {
  name: string;
  status: string;
  stack: string;
  gpuLease: string;
  /** When it last started (Docker's RFC 3339 time): a container started again is a new holder of its GPUs. */
  startedAt: string;
  /** Host pids of its processes (running containers only). */
  pids: number[];
}

/** A running container of anything else that was given GPUs. */
export interface ForeignGpuContainer {
  name: string;
  /** GPU indices from its NVIDIA_VISIBLE_DEVICES, or "all". */
  devices: string;
}

/** This stack's container as the host has it, for drift detection. */
export interface OwnContainer {
  id: string;
  status: string;
  configHash: string;
  stack: string;
  /** The network it is on ("myia-vllm-<stack>" behind the gateway, "bridge" without). */
  networkMode: string;
  /** sha256 of the env lines it was given beyond its image's (sorted, C locale). */
  envHash: string;
  /** Its image's own env lines. */
  imageEnv: string[];
}

export interface ProjectNetwork {
  name: string;
  /** "command" when our network command made it; "" when the docker provider did (releases before it). */
  owner: string;
}

export interface HostProbe {
  gpus: GpuInfo[];
  apps: ComputeApp[];
  runtimes: string[];
  containers: OwnedContainer[];
  foreign: ForeignGpuContainer[];
  /** This project's networks on the host, and who made them. */
  networks: ProjectNetwork[];
  /** This stack's container, when probeScript was given its name and it exists. */
  own?: OwnContainer;
  /** Standby only: the host's RAM, MiB (MemTotal). */
  memTotalMiB?: number;
  /** Standby only: the models started with --enable-sleep-mode, by container name: asleep, awake, or unknown (no answer). */
  sleep?: Record<string, "asleep" | "awake" | "unknown">;
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
  const probe: HostProbe = { gpus: [], apps: [], runtimes: [], containers: [], foreign: [], networks: [], failures: [] };
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
        const [, name = "", status = "", stack = "", gpuLease = "", startedAt = ""] = t.split("|");
        probe.containers.push({ name: name.replace(/^\//, ""), status, stack, gpuLease, startedAt, pids: [] });
      } else if (t.startsWith("foreign|")) {
        const [, name = "", , , devices = "all"] = t.split("|");
        probe.foreign.push({ name: name.replace(/^\//, ""), devices });
      } else if (t.startsWith("pid ") && probe.containers.length > 0) {
        probe.containers[probe.containers.length - 1].pids.push(Number(t.slice(4)));
      }
    }
  });
  take("networks", (b) => {
    for (const line of b.split("\n").map((l) => l.trim()).filter(Boolean)) {
      const [name = "", owner = ""] = line.split("|");
      probe.networks.push({ name, owner });
    }
  });
  const mem = sections.get("meminfo");
  if (mem) {
    const kb = /^MemTotal:\s+(\d+)\s*kB/m.exec(mem.body.join("\n"));
    if (mem.status === 0 && kb) probe.memTotalMiB = Math.floor(Number(kb[1]) / 1024);
  }
  const sleep = sections.get("sleep");
  if (sleep) {
    probe.sleep = {};
    for (const line of sleep.body.filter((l) => l.startsWith("sleep|"))) {
      const [, name = "", body = ""] = line.split("|");
      probe.sleep[name.replace(/^\//, "")] = /"is_sleeping":true/.test(body) ? "asleep" : /"is_sleeping":false/.test(body) ? "awake" : "unknown";
    }
  }
  const own = sections.get("own");
  if (own && own.status === 0) {
    for (const line of own.body) {
      const [kind, ...rest] = line.split("|");
      if (kind === "own") {
        const [id = "", status = "", configHash = "", stack = "", networkMode = ""] = rest;
        probe.own = { id, status, configHash, stack, networkMode, envHash: "", imageEnv: [] };
      } else if (kind === "imageenv" && probe.own) {
        probe.own.imageEnv.push(rest.join("|"));
      } else if (kind === "envhash" && probe.own) {
        probe.own.envHash = rest[0] ?? "";
      }
    }
  }
  return probe;
}

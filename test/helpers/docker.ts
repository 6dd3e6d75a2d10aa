/**
 * The tests' Docker client: dockerode (it honours DOCKER_HOST, ssh:// too),
 * for what the tests do beside the program: reading state, removing what
 * they made, and starting containers "by hand" as an operator would with
 * `docker run` (the drift, takeover, stand-in and validate fixtures). No
 * tool uses this: what the program deploys goes through the engine.
 */
import Docker from "dockerode";
import type { ValidatedProfile } from "../../components/config/schema";
import { gpuRequest, healthcheck, labels, plainEnv, secretEnv, volumes } from "../../components/docker/containerSpec";
import { imageRef } from "../../components/vllm/image";

export const docker = new Docker();

const notFound = (e: unknown) => (e as { statusCode?: number }).statusCode === 404;

export async function inspect(name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect();
  } catch (e) {
    if (notFound(e)) return undefined;
    throw e;
  }
}

/** inspect, for a container the test knows is there: a missing one fails the test with its name. */
export async function mustInspect(name: string): Promise<Docker.ContainerInspectInfo> {
  const c = await inspect(name);
  if (!c) throw new Error(`container ${name} does not exist`);
  return c;
}

export async function remove(name: string): Promise<void> {
  try {
    await docker.getContainer(name).remove({ force: true });
  } catch (e) {
    if (!notFound(e)) throw e;
  }
}

/**
 * What a suite leaves on the daemon, removed: every container whose name is
 * one of `names` or starts with one (gateways, containers set aside), and the
 * stacks' private networks (myia-vllm-<stack>) once nothing uses them.
 */
export async function removeLeftovers(names: readonly string[], stacks: readonly string[]): Promise<void> {
  for (const n of await containerNames()) if (names.some((ours) => n === ours || n.startsWith(`${ours}-`))) await remove(n);
  for (const s of stacks) await removeNetwork(`myia-vllm-${s}`);
}

export async function removeNetwork(name: string): Promise<void> {
  try {
    await docker.getNetwork(name).remove();
  } catch (e) {
    if (!notFound(e)) throw e;
  }
}

/** Networks by name, with the containers attached to each. */
export async function networkInfo(name: string): Promise<Docker.NetworkInspectInfo | undefined> {
  try {
    return (await docker.getNetwork(name).inspect()) as Docker.NetworkInspectInfo;
  } catch (e) {
    if (notFound(e)) return undefined;
    throw e;
  }
}

export async function stop(name: string, t = 2): Promise<void> {
  await docker.getContainer(name).stop({ t });
}

/** The container's log text, stdout and stderr demultiplexed. */
export async function logs(name: string): Promise<string> {
  const raw = await docker.getContainer(name).logs({ stdout: true, stderr: true, follow: false });
  let out = "";
  // Without a TTY, each frame is an 8-byte header (stream, 0, 0, 0, size) then the payload.
  for (let i = 0; i + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(i + 4);
    out += raw.subarray(i + 8, i + 8 + size).toString("utf8");
    i += 8 + size;
  }
  return out;
}

/** Names of every container, running or not. */
export async function containerNames(): Promise<string[]> {
  return (await docker.listContainers({ all: true })).map((c) => c.Names[0].replace(/^\//, ""));
}

/** `docker run -d` with an Engine API body: a container made by hand. */
export async function handRun(name: string, body: Docker.ContainerCreateOptions): Promise<string> {
  const c = await docker.createContainer({ name, ...body });
  await c.start();
  return c.id;
}

export interface HandRunOptions {
  stack: string;
  lease: string;
  apiKey: string;
  hfToken: string;
  /** Extra environment (the stand-in's fault and timing settings). */
  extraEnv?: string[];
}

/**
 * The profile's container as an operator would start it by hand, with the
 * settings the program declares: what the drift tests compare against, and
 * a realistic server for the stand-in and validate tests without an engine
 * run. The secrets go in the request body, never in argv.
 */
export function handRunBody(p: ValidatedProfile, o: HandRunOptions): Docker.ContainerCreateOptions {
  const hc = healthcheck(p);
  const ns = (d: string) => [...d.matchAll(/(\d+)([hms])/g)].reduce((t, [, n, u]) => t + Number(n) * { h: 3600, m: 60, s: 1 }[u as "h" | "m" | "s"], 0) * 1e9;
  const port = `${p.server.port}/tcp`;
  return {
    Image: imageRef(p),
    Cmd: p.argv,
    Env: [...secretEnv(o.apiKey, o.hfToken), ...plainEnv(p), ...(o.extraEnv ?? [])],
    Labels: labels(p, o.stack, o.lease),
    ExposedPorts: { [port]: {} },
    Healthcheck: { Test: hc.tests, Interval: ns(hc.interval), Timeout: ns(hc.timeout), Retries: hc.retries, StartPeriod: ns(hc.startPeriod) },
    HostConfig: {
      DeviceRequests: [{ Driver: gpuRequest(p).driver, Count: 0, DeviceIDs: gpuRequest(p).deviceIds, Capabilities: [gpuRequest(p).capabilities], Options: {} }],
      IpcMode: p.container.ipcHost ? "host" : "",
      ShmSize: p.container.shmSizeMiB * 1024 * 1024,
      PortBindings: { [port]: [{ HostPort: String(p.server.port) }] },
      Binds: volumes(p).map((v) => `${v.hostPath}:${v.containerPath}`),
      RestartPolicy: { Name: p.container.restart },
    },
  };
}

/** Starts the profile's container by hand; returns its id. */
export function handRunProfile(p: ValidatedProfile, o: HandRunOptions): Promise<string> {
  return handRun(p.server.containerName, handRunBody(p, o));
}

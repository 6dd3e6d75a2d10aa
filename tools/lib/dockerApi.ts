/**
 * A small client for the Docker Engine API over its unix socket, for the
 * demo and the integration tests. It creates a container from exactly the
 * settings VllmService gives the docker provider (components/containerSpec),
 * with the secrets in the request body: never in a process's argv.
 */
import { request } from "node:http";
import type { ValidatedProfile } from "../../components/config/schema";
import { healthcheck, imageRef, labels, plainEnv, secretEnv, volumes } from "../../components/containerSpec";

export function dockerSocket(): string {
  const host = process.env.DOCKER_HOST;
  return host?.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
}

export async function docker<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request({ socketPath: dockerSocket(), method, path, headers: data ? { "content-type": "application/json", "content-length": data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // plain text (logs) stays text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed as T });
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}

const seconds = (s: string) => Number(s.replace(/s$/, "")) * 1e9;

export interface ApplyOptions {
  stack: string;
  lease: string;
  apiKey: string;
  hfToken: string;
  /** Extra environment (the stand-in's fault settings). */
  extraEnv?: string[];
}

/** The Engine API body for the container VllmService declares. */
export function createBody(p: ValidatedProfile, o: ApplyOptions): Record<string, unknown> {
  const hc = healthcheck(p);
  const port = `${p.server.port}/tcp`;
  return {
    Image: imageRef(p),
    Cmd: p.argv,
    Env: [...secretEnv(o.apiKey, o.hfToken), ...plainEnv(p), ...(o.extraEnv ?? [])],
    Labels: labels(p, o.stack, o.lease),
    ExposedPorts: { [port]: {} },
    Healthcheck: { Test: hc.tests, Interval: seconds(hc.interval), Timeout: seconds(hc.timeout), Retries: hc.retries, StartPeriod: seconds(hc.startPeriod) },
    HostConfig: {
      Runtime: "nvidia",
      IpcMode: p.container.ipcHost ? "host" : "",
      ShmSize: p.container.shmSizeMiB * 1024 * 1024,
      PortBindings: { [port]: [{ HostPort: String(p.server.port) }] },
      Binds: volumes(p).map((v) => `${v.hostPath}:${v.containerPath}`),
      RestartPolicy: { Name: p.container.restart },
    },
  };
}

async function ok<T>(what: string, r: Promise<{ status: number; body: T }>): Promise<T> {
  const { status, body } = await r;
  if (status >= 300 && status !== 304) throw new Error(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  return body;
}

/** Creates and starts the container; returns its id. */
export async function createAndStart(p: ValidatedProfile, o: ApplyOptions): Promise<string> {
  const { Id } = await ok<{ Id: string }>("create", docker("POST", `/containers/create?name=${encodeURIComponent(p.server.containerName)}`, createBody(p, o)));
  await ok("start", docker("POST", `/containers/${Id}/start`));
  return Id;
}

export async function inspect(name: string): Promise<any | undefined> {
  const r = await docker("GET", `/containers/${encodeURIComponent(name)}/json`);
  return r.status === 200 ? r.body : undefined;
}

export async function stop(name: string): Promise<void> {
  await docker("POST", `/containers/${encodeURIComponent(name)}/stop?t=5`);
}

export async function start(name: string): Promise<void> {
  await ok("start", docker("POST", `/containers/${encodeURIComponent(name)}/start`));
}

export async function remove(name: string): Promise<void> {
  await docker("DELETE", `/containers/${encodeURIComponent(name)}?force=true`);
}

/** The container's log text (stdout and stderr, demultiplexed). */
export async function logs(name: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: dockerSocket(), method: "GET", path: `/containers/${encodeURIComponent(name)}/logs?stdout=1&stderr=1` }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const buf = Buffer.concat(chunks);
        let out = "";
        // Without a TTY, each frame is an 8-byte header (stream, 0, 0, 0, size) then the payload.
        for (let i = 0; i + 8 <= buf.length; ) {
          const size = buf.readUInt32BE(i + 4);
          out += buf.subarray(i + 8, i + 8 + size).toString("utf8");
          i += 8 + size;
        }
        resolve(out);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

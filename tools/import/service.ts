/**
 * The part of `docker compose config --format json` the importer reads: the
 * merged, interpolated project, already validated by Compose against its
 * spec. Pure: types, the choice of service, and small value parsers.
 */

export interface ComposePort {
  target: number;
  published?: string | number;
  host_ip?: string;
  protocol?: string;
}

export interface ComposeDevice {
  driver?: string;
  count?: number | string;
  device_ids?: string[];
  capabilities?: string[];
}

export interface ComposeService {
  image?: string;
  container_name?: string;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  ports?: ComposePort[];
  runtime?: string;
  ipc?: string;
  shm_size?: string | number;
  restart?: string;
  healthcheck?: { test?: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string; disable?: boolean };
  deploy?: { resources?: { reservations?: { devices?: ComposeDevice[] } } };
  volumes?: { type?: string; source?: string; target: string }[];
  [key: string]: unknown;
}

export interface ComposeProject {
  name?: string;
  services?: Record<string, ComposeService>;
}

/** The service to import: the one named, or the only one; else what to choose. */
export function pickService(project: ComposeProject, name?: string): { name: string; service: ComposeService } | { error: string } {
  const names = Object.keys(project.services ?? {});
  if (name !== undefined) {
    if (!names.includes(name)) return { error: `service: the compose files have no service "${name}" (they have ${names.join(", ") || "none"}); pass one of those to --service` };
    return { name, service: project.services![name] };
  }
  if (names.length === 1) return { name: names[0], service: project.services![names[0]] };
  if (names.length === 0) return { error: "service: the compose files define no service; pass the files that define the vLLM service with -f" };
  return { error: `service: the compose files define ${names.length} services (${names.join(", ")}); choose the one to import with --service <name>` };
}

/** Go's duration text, as Compose prints it ("30s", "5m0s", "1h2m3.5s", "500ms"), in seconds. */
export function durationSeconds(text: string): number | undefined {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, "µs": 1e-6, ns: 1e-9 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]], 0);
}

/** `repository[:tag][@digest]`; the tag is undefined when none is written (Docker reads latest). */
export function parseImage(image: string): { repository: string; tag?: string; digest?: string } {
  const [ref, digest] = image.split("@");
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  const hasTag = colon > slash;
  return { repository: hasTag ? ref.slice(0, colon) : ref, tag: hasTag ? ref.slice(colon + 1) : undefined, digest };
}

/** A GPU list as NVIDIA_VISIBLE_DEVICES / CUDA_VISIBLE_DEVICES / device_ids write it. */
export function parseGpuList(value: string | readonly string[]): number[] | "all" | "none" | undefined {
  const items = (typeof value === "string" ? value.split(",") : [...value]).map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 1 && items[0] === "all") return "all";
  if (items.length === 0 || (items.length === 1 && /^(none|void)$/.test(items[0]))) return "none";
  return items.every((s) => /^\d+$/.test(s)) ? items.map(Number) : undefined;
}

/**
 * The variables the secrets were written as, from the uninterpolated service
 * (`docker compose config --no-interpolate`): `--api-key ${VLLM_API_KEY_MEDIUM}`
 * gives apiKey → VLLM_API_KEY_MEDIUM. The import prints a command that reads
 * the secret from that variable, so its value is never shown or written.
 */
export function secretVariables(raw: { command?: unknown; environment?: unknown }): { apiKey?: string; hfToken?: string } {
  const out: { apiKey?: string; hfToken?: string } = {};
  const ref = (text: string) => /^\$\{?(\w+)(?::?-[^}]*)?\}?$/.exec(text.trim())?.[1];
  const command = Array.isArray(raw.command) ? raw.command.join(" ") : typeof raw.command === "string" ? raw.command : "";
  for (const [flag, key] of [["--api-key", "apiKey"], ["--hf-token", "hfToken"]] as const) {
    const m = new RegExp(`${flag}[= ]+(\\S+)`).exec(command);
    const v = m ? ref(m[1]) : undefined;
    if (v) out[key] = v;
  }
  const env: [string, string][] = Array.isArray(raw.environment)
    ? (raw.environment as string[]).map((e) => [e.split("=")[0], e.slice(e.indexOf("=") + 1)])
    : Object.entries((raw.environment as Record<string, string>) ?? {});
  for (const [name, value] of env) {
    const key = name === "VLLM_API_KEY" ? "apiKey" : /^(HF_TOKEN|HUGGING_?FACE_HUB_TOKEN)$/.test(name) ? "hfToken" : undefined;
    const v = key && typeof value === "string" ? ref(value) : undefined;
    if (key && v) out[key] ??= v;
  }
  return out;
}

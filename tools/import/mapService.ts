/**
 * One compose service → one stack's config. Pure: it reads what Compose
 * printed (`docker compose config --format json`) and returns the config,
 * every change made on the way (old value, new value, reason, source), the
 * secrets found (never their values), or what the user must choose.
 *
 * Each value is carried as written where the pinned vLLM takes it; where it
 * would not (a removed flag, an old syntax, a choice that does not exist, a
 * length that does not fit), the fix is the one that keeps the meaning, and
 * the report says so. Where no fix is sure, the import fails with the choice.
 */
import { fitInput, ModelFacts, modelFacts, ProfileSchema, SecretKey, validateProfile } from "../../components/config/schema";
import { addReleaseCommand, flagTable, supportedVersions, versionFromTag, type FlagTable } from "../../components/vllm/catalog";
import { HF_HOME, VLLM_CACHE_ROOT } from "../../components/vllm/image";
import { formatMemoryTable, planMemory } from "../../components/vllm/memory";
import { parseCommand, type CommandOption } from "./command";
import { fixRemovedFlag, intendedChoice, meantChoice, parseJsonRecord, removedFlag, removedSource, type JsonRecord } from "./fixes";
import { durationSeconds, parseGpuList, parseImage, pickService, type ComposeProject, type ComposeService } from "./service";

/** One change the import made, for the report and the stack file's comments. */
export interface Change {
  /** The stack config key it lands on (or would have), e.g. vllm.maxModelLen. */
  path: string;
  /** Where the old value was in the compose files, e.g. `command: --swap-space`. */
  from: string;
  old: string;
  new: string;
  reason: string;
  /** The authority for the reason: a vLLM PR, the flag catalog, the memory plan. */
  source: string;
}

/** A secret found in the compose files: where, and from which variable; never its value. */
export interface SecretFound {
  key: SecretKey;
  from: string;
  /** The variable of the env file (or environment) it was interpolated from, where known. */
  variable?: string;
  /** It came out blank: the variable is not set (no env file, or not in it). */
  blank: boolean;
}

export interface ImportOptions {
  stack: string;
  /** The profile name; the stack name by default. */
  profile?: string;
  /** The image tag to pin, where the compose file says latest (or nothing). */
  tag?: string;
  service?: string;
  /** model.footprint, for a model outside the catalog. */
  footprint?: Record<string, unknown>;
  /** The variables the secrets were written as (`${VLLM_API_KEY_MEDIUM}`), from the uninterpolated files. */
  secretVariables?: Partial<Record<SecretKey, string>>;
}

export type ImportResult =
  | { ok: true; service: string; config: Record<string, unknown>; changes: Change[]; secrets: SecretFound[]; warnings: string[]; memoryTable?: string }
  | { ok: false; errors: string[]; changes: Change[] };

const CATALOG = "flag catalog, components/vllm/flags";
const SECRET_ENV: Record<string, SecretKey> = { VLLM_API_KEY: "apiKey", HF_TOKEN: "hfToken", HUGGING_FACE_HUB_TOKEN: "hfToken", HUGGINGFACE_HUB_TOKEN: "hfToken" };
const LOOKS_SECRET = /TOKEN|SECRET|PASSW|API_?KEY|PRIVATE|CREDENTIAL/i;
// Service keys read below; any other is reported as not carried.
const READ_KEYS = ["image", "container_name", "command", "entrypoint", "environment", "ports", "runtime", "ipc", "shm_size", "restart", "healthcheck", "deploy", "volumes", "networks"];

/** vLLM's human-readable integers: 32k = 32000, 32K = 32768 (lowercase decimal, uppercase binary). */
export function humanInt(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kmgtKMGT]?)$/.exec(text);
  if (!m) return undefined;
  const scale: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };
  return Math.round(Number(m[1]) * scale[m[2]]);
}

class Builder {
  readonly changes: Change[] = [];
  readonly errors: string[] = [];
  readonly secrets: SecretFound[] = [];
  readonly cfg: Record<string, Record<string, unknown>> = { host: {}, image: {}, model: {}, server: {}, vllm: {}, container: { healthcheck: {}, env: {} } };
  readonly extraArgs: string[] = [];
  vision: Record<string, unknown> = {};

  set(path: string, value: unknown): void {
    const keys = path.split(".");
    let node: Record<string, unknown> = keys[0] === "vision" ? { vision: this.vision } : this.cfg;
    for (const k of keys.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
    node[keys[keys.length - 1]] = value;
  }

  change(path: string, from: string, old: string, now: string, reason: string, source: string): void {
    this.changes.push({ path, from, old, new: now, reason, source });
  }
}

const str = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** The allowed values of a flag with choices or values vLLM checks at start-up. */
function allowedValues(opt: CommandOption): string[] | undefined {
  return opt.spec?.choices?.map(String) ?? opt.spec?.knownValues;
}

/** A string flag's value, with a non-existent choice turned into the intended one. */
function choiceValue(b: Builder, opt: CommandOption, path: string): string {
  const value = opt.values[0] ?? "";
  const allowed = allowedValues(opt);
  if (!allowed || allowed.includes(value)) return value;
  const means = meantChoice(opt.flag, value, allowed);
  if (means) {
    b.change(path, `command: ${opt.tokens.join(" ")}`, value, means.value, means.reason, means.source);
    return means.value;
  }
  const meant = intendedChoice(opt.flag, value, allowed);
  if (meant) {
    b.change(path, `command: ${opt.tokens.join(" ")}`, value, meant, `"${value}" is not a value ${opt.flag} takes; "${meant}" is the one it names`, CATALOG);
    return meant;
  }
  // Left as written: validation then names the values to choose from.
  return value;
}

function mapOption(b: Builder, opt: CommandOption, table: FlagTable, ctx: { port?: number }): void {
  const from = `command: ${opt.tokens.join(" ")}`;
  const v = opt.values[0];
  const num = (path: string, parse: (s: string) => number | undefined) => {
    const n = v === undefined ? undefined : parse(v);
    if (n === undefined) b.errors.push(`${path}: ${opt.flag} ${JSON.stringify(v ?? "")} in the compose command is not a number; correct it in the compose file`);
    else b.set(path, n);
  };
  const int = (s: string) => (/^\d+$/.test(s) ? Number(s) : undefined);
  const float = (s: string) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : undefined);
  switch (opt.flag) {
    case "--host":
      if (v !== "0.0.0.0") b.change("server.port", from, v ?? "", "0.0.0.0", "inside its container vLLM must listen on every interface for the published port to reach it; the program always passes --host 0.0.0.0", "components/vllm/argv.ts");
      return;
    case "--port":
      ctx.port = v === undefined ? undefined : int(v);
      if (ctx.port === undefined) b.errors.push(`server.port: --port ${JSON.stringify(v ?? "")} in the compose command is not a port number; correct it in the compose file`);
      return;
    case "--api-key":
    case "--hf-token": {
      const key: SecretKey = opt.flag === "--api-key" ? "apiKey" : "hfToken";
      b.secrets.push({ key, from: `command: ${opt.flag}`, blank: opt.values.every((x) => x.trim() === "") });
      b.change(key, `command: ${opt.flag}`, `${opt.flag} ********`, `${key} (encrypted config)`, "a secret in the argv is visible to docker inspect and ps; the program passes it as VLLM_API_KEY/HF_TOKEN in the environment, and the stack keeps it encrypted", "components/vllm/argv.ts");
      return;
    }
    case "--served-model-name":
      if (opt.values.length === 1) b.set("model.servedName", v);
      else b.extraArgs.push(...opt.tokens);
      return;
    case "--tensor-parallel-size":
      return num("vllm.tensorParallelSize", int);
    case "--gpu-memory-utilization":
      return num("vllm.gpuMemoryUtilization", float);
    case "--max-model-len":
      return num("vllm.maxModelLen", (s) => (s === "auto" || s === "-1" ? undefined : humanInt(s)));
    case "--max-num-seqs":
      return num("vllm.maxNumSeqs", int);
    case "--quantization":
      return b.set("vllm.quantization", choiceValue(b, opt, "vllm.quantization"));
    case "--dtype":
      return b.set("vllm.dtype", choiceValue(b, opt, "vllm.dtype"));
    case "--kv-cache-dtype":
      return b.set("vllm.kvCacheDtype", choiceValue(b, opt, "vllm.kvCacheDtype"));
    case "--tool-call-parser":
      return b.set("vllm.toolCallParser", choiceValue(b, opt, "vllm.toolCallParser"));
    case "--distributed-executor-backend":
      return b.set("vllm.distributedExecutorBackend", choiceValue(b, opt, "vllm.distributedExecutorBackend"));
    case "--enable-chunked-prefill":
      return b.set("vllm.enableChunkedPrefill", true);
    case "--enable-auto-tool-choice":
      return b.set("vllm.enableAutoToolChoice", true);
    case "--skip-mm-profiling":
      return b.set("vision.skipMmProfiling", true);
    case "--mm-encoder-tp-mode":
      return b.set("vision.mmEncoderTpMode", choiceValue(b, opt, "vision.mmEncoderTpMode"));
    case "--enable-multimodal-encoder-data-parallel":
      // Deprecated in 0.11 (still parsed), removed in 0.13: the same setting either way.
      b.set("vision.mmEncoderTpMode", "data");
      b.change("vision.mmEncoderTpMode", from, opt.flag, "data", "the deprecated spelling of --mm-encoder-tp-mode data (removed in vLLM 0.13.0)", "vllm-project/vllm PR #30397");
      return;
    case "--limit-mm-per-prompt":
      return mapLimit(b, opt, from);
    case "--mm-processor-kwargs": {
      const parsed = parseJsonRecord(v ?? "");
      const keys = parsed ? Object.keys(parsed.record) : [];
      if (parsed && keys.length === 1 && keys[0] === "max_pixels" && Number.isInteger(parsed.record.max_pixels)) {
        b.set("vision.maxPixels", parsed.record.max_pixels);
        if (parsed.syntax !== "json") b.change("vision.maxPixels", from, v!, String(parsed.record.max_pixels), `vLLM takes --mm-processor-kwargs only as JSON; the ${parsed.syntax} form is read as the record it meant`, CATALOG);
        return;
      }
      break; // other kwargs: carried in extraArgs below, as JSON
    }
  }
  mapOther(b, opt, table, from);
}

/** --limit-mm-per-prompt in each syntax vLLM has had: JSON, key=value, key:value, and the dotted `--limit-mm-per-prompt.image 3`. */
function mapLimit(b: Builder, opt: CommandOption, from: string): void {
  const current = (b.vision.limitMmPerPrompt ?? {}) as Record<string, number>;
  let record: JsonRecord | undefined;
  let syntax = "json";
  if (opt.subKey !== undefined) {
    record = { [opt.subKey]: Number(opt.values[0]) };
    syntax = "dotted";
  } else {
    const parsed = parseJsonRecord(opt.values[0] ?? "");
    record = parsed?.record;
    syntax = parsed?.syntax ?? syntax;
  }
  const entries = record ? Object.entries(record) : [];
  if (!record || !entries.every(([k, n]) => ["image", "video", "audio"].includes(k) && Number.isInteger(n) && (n as number) >= 0)) {
    b.errors.push(`vision.limitMmPerPrompt: ${opt.tokens.join(" ")} is not a count of items per modality (image, video, audio); write it as --limit-mm-per-prompt '{"image": 3, "video": 0}' in the compose file`);
    return;
  }
  b.vision.limitMmPerPrompt = { ...current, ...record };
  if (syntax !== "json") {
    b.change("vision.limitMmPerPrompt", from, opt.tokens.join(" "), JSON.stringify(record), `the ${syntax} form is read as the record it meant; the program renders it as JSON, the one form every catalogued vLLM takes`, CATALOG);
  }
}

function mapOther(b: Builder, opt: CommandOption, table: FlagTable, from: string): void {
  if (!opt.spec) {
    const removed = removedFlag(table, opt.flag);
    if (!removed) {
      b.extraArgs.push(...opt.tokens); // validation names it as unknown, with what to do
      return;
    }
    const fix = fixRemovedFlag(removed, opt.values);
    const source = removedSource(removed);
    if (fix.kind === "drop") b.change("vllm.extraArgs", from, opt.tokens.join(" "), "(dropped)", fix.reason, source);
    else if (fix.kind === "setting") {
      b.set(fix.key, fix.value);
      b.change(fix.key, from, opt.tokens.join(" "), fix.value, fix.reason, source);
    } else if (fix.kind === "rewrite") {
      b.extraArgs.push(...fix.tokens);
      b.change("vllm.extraArgs", from, opt.tokens.join(" "), fix.tokens.join(" "), fix.reason, source);
    } else {
      b.errors.push(`vllm.extraArgs: ${opt.flag} is ${fix.reason}, which means a choice the importer cannot make; change it in the compose file and import again (${source})`);
    }
    return;
  }
  if (opt.spec.type === "json" && opt.subKey === undefined && opt.values[0] !== undefined) {
    const parsed = parseJsonRecord(opt.values[0]);
    if (parsed && parsed.syntax !== "json") {
      const json = JSON.stringify(parsed.record);
      b.extraArgs.push(opt.flag, json);
      b.change("vllm.extraArgs", from, opt.tokens.join(" "), `${opt.flag} ${json}`, `vLLM parses ${opt.flag} with json.loads; the ${parsed.syntax} form is read as the record it meant`, CATALOG);
      return;
    }
  }
  const allowed = allowedValues(opt);
  if (allowed && opt.values.length === 1 && !allowed.includes(opt.values[0])) {
    const meant = intendedChoice(opt.flag, opt.values[0], allowed);
    if (meant) {
      b.extraArgs.push(opt.flag, meant);
      b.change("vllm.extraArgs", from, opt.values[0], meant, `"${opt.values[0]}" is not a value ${opt.flag} takes; "${meant}" is the one it names`, CATALOG);
      return;
    }
  }
  b.extraArgs.push(...opt.tokens);
}

function mapImage(b: Builder, service: ComposeService, opts: ImportOptions): FlagTable | undefined {
  const image = parseImage(service.image ?? "");
  const known = supportedVersions().map((v) => `v${v}`).join(", ");
  const written = service.image ?? "(no image)";
  if (image.repository !== "vllm/vllm-openai") b.set("image.repository", image.repository);
  if (image.digest) b.set("image.digest", image.digest);
  let tag = image.tag;
  if (opts.tag) {
    if (tag !== opts.tag) b.change("image.tag", "image", written, opts.tag, tag === undefined || tag === "latest" ? `"${tag ?? "latest"}" is not a pinned release; --tag pins it` : "--tag overrides the compose file's tag", "--tag");
    tag = opts.tag;
  } else if (tag === undefined || tag === "latest") {
    // "latest" moves under you; the newest release we hold a table for is
    // the closest pinned meaning, and --tag picks another.
    const newest = supportedVersions().at(-1)!;
    b.change("image.tag", "image", written, `v${newest}`, `"${tag ?? "latest"}" is not a pinned release, so what runs would change under you; pinned to v${newest}, the newest release the flag catalog holds (rerun with --tag for another: ${known})`, CATALOG);
    tag = `v${newest}`;
  }
  const version = versionFromTag(tag);
  const table = version ? flagTable(version) : undefined;
  if (!table) {
    b.errors.push(
      version
        ? `image.tag: ${tag} is not a vLLM release the flag catalog knows (${known}); rerun with --tag set to one of those, or add it with \`${addReleaseCommand(version)}\``
        : `image.tag: ${tag} is not a vLLM release the flag catalog knows (${known}); rerun with --tag set to one of those`,
    );
    return undefined;
  }
  b.set("image.tag", tag);
  return table;
}

function mapGpus(b: Builder, service: ComposeService, env: Record<string, string | null>, tp: number): void {
  const devices = (service.deploy?.resources?.reservations?.devices ?? []).filter((d) => d.driver === "nvidia" || d.capabilities?.includes("gpu"));
  let gpus: number[] | "all" | "none" | undefined;
  let from = "";
  if (devices.length > 0) {
    const d = devices[0];
    from = "deploy.resources.reservations.devices";
    if (d.device_ids) gpus = parseGpuList(d.device_ids);
    else if (d.count === "all" || d.count === -1 || d.count === undefined) gpus = "all";
    else {
      gpus = Array.from({ length: Number(d.count) }, (_, i) => i);
      b.change("host.gpus", `${from}: count ${d.count}`, `count: ${d.count}`, `[${gpus.join(", ")}]`, "Docker picks the first N GPUs for a count; the stack names them", "docker run --gpus semantics");
    }
  }
  const nv = env.NVIDIA_VISIBLE_DEVICES;
  if (nv !== undefined && nv !== null) {
    const list = parseGpuList(nv);
    if (gpus !== undefined && JSON.stringify(list) !== JSON.stringify(gpus)) {
      b.errors.push(`host.gpus: the device reservation (${JSON.stringify(gpus)}) and NVIDIA_VISIBLE_DEVICES=${nv} disagree; keep one of them in the compose file and import again`);
      return;
    }
    gpus = list;
    from = "environment: NVIDIA_VISIBLE_DEVICES";
  }
  const cuda = env.CUDA_VISIBLE_DEVICES;
  if (cuda !== undefined && cuda !== null) {
    const picked = parseGpuList(cuda);
    if (Array.isArray(picked)) {
      // CUDA_VISIBLE_DEVICES counts within the GPUs the container sees.
      const host = Array.isArray(gpus) ? picked.map((i) => (gpus as number[])[i]) : picked;
      if (host.some((g) => g === undefined)) {
        b.errors.push(`host.gpus: CUDA_VISIBLE_DEVICES=${cuda} picks GPUs the container does not have (it sees ${JSON.stringify(gpus)}); correct it in the compose file`);
        return;
      }
      b.change("host.gpus", "environment: CUDA_VISIBLE_DEVICES", `CUDA_VISIBLE_DEVICES=${cuda}`, `[${host.join(", ")}]`, "the GPUs the container uses, as host indices; the program gives the container only these, so it sets no CUDA_VISIBLE_DEVICES", "NVIDIA container runtime");
      gpus = host;
      from = "environment: CUDA_VISIBLE_DEVICES";
    } else gpus = picked;
  }
  if (gpus === undefined && service.runtime !== "nvidia") {
    b.errors.push("host.gpus: the service asks for no GPU (no runtime: nvidia, no device reservation, no NVIDIA_VISIBLE_DEVICES); add the GPUs it runs on to the compose file and import again");
    return;
  }
  if (gpus === undefined || gpus === "all") {
    const first = Array.from({ length: tp }, (_, i) => i);
    b.change("host.gpus", from || "runtime: nvidia", "all GPUs", `[${first.join(", ")}]`, `vLLM uses the first ${tp} visible GPU(s) (tensor-parallel-size ${tp}); the stack names them, so the host checks cover exactly those`, "vLLM's device assignment");
    gpus = first;
  }
  if (gpus === "none" || gpus === undefined) {
    b.errors.push(`host.gpus: ${from} gives the container no GPU; set the GPUs it runs on in the compose file and import again`);
    return;
  }
  if (gpus.length > tp) {
    b.change("host.gpus", from, `[${gpus.join(", ")}]`, `[${gpus.slice(0, tp).join(", ")}]`, `vLLM uses only the first ${tp} (tensor-parallel-size); the others were idle, and the stack would hold them`, "vLLM's device assignment");
    gpus = gpus.slice(0, tp);
  } else if (gpus.length < tp) {
    b.errors.push(`host.gpus: ${from} gives ${gpus.length} GPU(s) but --tensor-parallel-size is ${tp}; vLLM needs one GPU per rank, so change one of them in the compose file`);
    return;
  }
  b.set("host.gpus", gpus);
}

function mapEnv(b: Builder, env: Record<string, string | null>, vars: ImportOptions["secretVariables"]): void {
  for (const [name, value] of Object.entries(env)) {
    const from = `environment: ${name}`;
    if (name === "NVIDIA_VISIBLE_DEVICES" || name === "CUDA_VISIBLE_DEVICES") continue; // host.gpus
    if (SECRET_ENV[name]) {
      const key = SECRET_ENV[name];
      if (b.secrets.some((s) => s.key === key)) continue; // --api-key in the argv wins, as in vLLM
      b.secrets.push({ key, from, variable: vars?.[key], blank: (value ?? "").trim() === "" });
      if (name !== "VLLM_API_KEY" && name !== "HF_TOKEN") b.change(key, from, name, `${key} (as HF_TOKEN)`, "the program passes the token as HF_TOKEN, the name huggingface_hub reads first", "huggingface_hub");
      continue;
    }
    if (name === "HF_HOME" || name === "VLLM_CACHE_ROOT") {
      b.change("container.env", from, `${name}=${value}`, "(dropped)", "the program sets it to the cache it mounts from host.hfCachePath/compileCachePath", "components/docker/containerSpec.ts");
      continue;
    }
    if (value === null) {
      b.change("container.env", from, name, "(dropped)", "passed through from the shell compose ran in, where it was not set", "docker compose config");
      continue;
    }
    if (LOOKS_SECRET.test(name)) {
      b.change("container.env", from, `${name}=********`, "(dropped)", "it looks like a secret, and container.env is plaintext in the stack file; the stack carries only apiKey and hfToken encrypted", "components/config/schema.ts");
      continue;
    }
    b.set(`container.env.${name}`, value);
  }
}

function mapContainer(b: Builder, service: ComposeService, serviceName: string, project: ComposeProject): void {
  if (service.container_name) b.set("server.containerName", service.container_name);
  else {
    const name = `${project.name ?? "compose"}-${serviceName}-1`;
    b.set("server.containerName", name);
    b.change("server.containerName", "container_name", "(none)", name, "the name Compose gave the container; the stack needs one to find it", "docker compose");
  }
  if (service.runtime === "nvidia") {
    b.change("host.gpus", "runtime", "nvidia", "a GPU device request", "the program asks for the GPUs as `docker run --gpus` does (the runtime must still be registered; preview checks it)", "components/docker/containerSpec.ts");
  }
  b.set("container.ipcHost", service.ipc === "host");
  if (service.ipc !== undefined && service.ipc !== "host") b.change("container.ipcHost", "ipc", service.ipc, "false", "the stack has only host or Docker's private IPC", "components/config/schema.ts");
  const shm = service.shm_size === undefined ? 64 * 2 ** 20 : Number(service.shm_size);
  if (service.shm_size === undefined) b.change("container.shmSizeMiB", "shm_size", "(none)", "64", "Docker's default /dev/shm, written out (the schema's default is 16384)", "Docker");
  b.set("container.shmSizeMiB", Math.ceil(shm / 2 ** 20));
  const restarts = ["no", "on-failure", "always", "unless-stopped"];
  const restart = service.restart ?? "no";
  const base = restart.split(":")[0];
  if (!restarts.includes(base)) b.errors.push(`container.restart: restart "${restart}" is not one of ${restarts.join(", ")}; correct it in the compose file`);
  else {
    if (base !== restart) b.change("container.restart", "restart", restart, base, "the stack has no retry count", "components/config/schema.ts");
    if (service.restart === undefined) b.change("container.restart", "restart", "(none)", "no", "Docker's default, written out (the schema's default is unless-stopped)", "Docker");
    b.set("container.restart", base);
  }
  const hc = service.healthcheck;
  if (!hc || hc.disable) {
    b.change("container.healthcheck", "healthcheck", hc?.disable ? "disabled" : "(none)", "the program's defaults", "`pulumi up` waits for the container to be healthy, so the health check always runs", "components/docker/readyGate.ts");
  } else {
    const secs = (key: "interval" | "timeout" | "start_period", path: string) => {
      if (hc[key] === undefined) return;
      const s = durationSeconds(hc[key]!);
      if (s === undefined || s <= 0) b.errors.push(`container.healthcheck.${path}: ${key} ${hc[key]} is not a duration; correct it in the compose file`);
      else {
        if (!Number.isInteger(s)) b.change(`container.healthcheck.${path}`, `healthcheck: ${key}`, hc[key]!, `${Math.ceil(s)}`, "the stack counts whole seconds", "components/config/schema.ts");
        b.set(`container.healthcheck.${path}`, Math.ceil(s));
      }
    };
    secs("interval", "intervalSeconds");
    secs("timeout", "timeoutSeconds");
    secs("start_period", "startPeriodSeconds");
    if (hc.retries !== undefined) b.set("container.healthcheck.retries", hc.retries);
    if (hc.test) b.change("container.healthcheck", "healthcheck: test", hc.test.join(" "), "curl -fsS http://localhost:<server.port>/health", "the program writes its own test on vLLM's /health, on the stack's port", "components/docker/containerSpec.ts");
  }
  for (const v of service.volumes ?? []) {
    if (v.target === HF_HOME && v.source) b.set("host.hfCachePath", v.source);
    else if (v.target === VLLM_CACHE_ROOT && v.source) b.set("host.compileCachePath", v.source);
    else b.change("container", "volumes", `${v.source ?? v.type}:${v.target}`, "(dropped)", `the program mounts only the Hugging Face cache (${HF_HOME}) and vLLM's cache (${VLLM_CACHE_ROOT})`, "components/docker/containerSpec.ts");
  }
  const networks = Object.keys((service.networks as Record<string, unknown> | undefined) ?? {});
  if (networks.some((n) => n !== "default")) b.change("container", "networks", networks.join(", "), "(dropped)", "the program runs the container on Docker's default bridge, with the port published", "components/docker/vllmService.ts");
  for (const key of Object.keys(service)) {
    if (READ_KEYS.includes(key) || service[key] === null || service[key] === undefined) continue;
    b.change("container", key, str(service[key]), "(dropped)", `the stack has no ${key}; the program does not set it`, "components/config/schema.ts");
  }
  const deployOther = Object.keys(service.deploy ?? {}).filter((k) => k !== "resources");
  if (deployOther.length > 0) b.change("container", "deploy", deployOther.join(", "), "(dropped)", "only the GPU reservation of deploy is carried", "components/config/schema.ts");
}

function mapPorts(b: Builder, service: ComposeService, containerPort: number | undefined): void {
  const target = containerPort ?? 8000;
  if (containerPort === undefined) b.change("server.port", "command", "(no --port)", "8000", "vLLM's default port, written out", CATALOG);
  const ports = service.ports ?? [];
  const mine = ports.find((p) => p.target === target);
  for (const p of ports.filter((q) => q !== mine)) b.change("server.port", "ports", `${p.published ?? ""}:${p.target}`, "(dropped)", `vLLM listens only on ${target}`, "the compose command");
  if (!mine || mine.published === undefined || mine.published === "") {
    b.set("server.port", target);
    if (ports.length === 0) b.change("server.port", "ports", "(not published)", String(target), "the program publishes the server's port on the host, where clients and the checks reach it", "components/docker/vllmService.ts");
    return;
  }
  const published = Number(mine.published);
  if (!Number.isInteger(published)) {
    b.errors.push(`server.port: ports publishes ${mine.published}:${target}, a range; publish one port in the compose file`);
    return;
  }
  if (mine.host_ip && mine.host_ip !== "0.0.0.0") b.change("server.port", "ports", `${mine.host_ip}:${published}:${target}`, `${published}:${published}`, "the program publishes on every interface of the host; restrict it with the host's firewall", "components/docker/vllmService.ts");
  if (published !== target) {
    b.change("server.port", "ports", `${published}:${target}`, `${published}:${published}`, `the program publishes one port, the same in the container and on the host; clients keep using ${published}`, "components/docker/vllmService.ts");
  }
  b.set("server.port", published);
}

/** The trained-context and memory fixes: the largest max-model-len that fits, with the table. */
function fitModelLen(b: Builder, raw: Record<string, unknown>): string | undefined {
  const parsed = ProfileSchema.safeParse(raw);
  if (!parsed.success) return undefined; // validation reports it
  const input = fitInput(parsed.data);
  const facts: ModelFacts | undefined = modelFacts(input.model, input.mmEncoderTpMode, []);
  if (!facts) return undefined;
  let len = input.maxModelLen;
  const rope = input.extraArgs.some((a) => /rope|hf-overrides|hf_overrides/.test(a));
  if (len > facts.maxPos && !rope) {
    b.change("vllm.maxModelLen", "command: --max-model-len", String(len), String(facts.maxPos), `above ${input.model.id}'s trained context, which vLLM refuses without rope scaling`, "config.json max_position_embeddings (components/vllm/models.ts)");
    len = facts.maxPos;
  }
  const plan = (n: number) => planMemory({ model: facts.footprint, tensorParallelSize: input.tensorParallelSize, kvCacheDtype: input.kvCacheDtype, gpuMemoryUtilization: input.gpuMemoryUtilization, gpuMemoryMiB: input.gpuMemoryMiB, maxModelLen: n, overheadMiB: facts.overheadMiB });
  const before = plan(len);
  if (!before.fits && before.maxFittingModelLen > 0) {
    const fit = before.maxFittingModelLen;
    b.change("vllm.maxModelLen", "command: --max-model-len", String(len), String(fit), `one ${len}-token sequence needs ${(before.sequenceMiB / 1024).toFixed(2)} GiB of KV cache per GPU and only ${(before.kvCacheMiB / 1024).toFixed(2)} GiB is left, so vLLM would refuse to start; ${fit} is the largest that fits`, "the memory plan (components/vllm/memory.ts)");
    len = fit;
  }
  (raw.vllm as Record<string, unknown>).maxModelLen = len;
  return formatMemoryTable(plan(len), input.gpuMemoryMiB, len);
}

/** Maps the chosen service of a merged compose project to a stack config. */
export function importService(project: ComposeProject, opts: ImportOptions): ImportResult {
  const b = new Builder();
  const picked = pickService(project, opts.service);
  if ("error" in picked) return { ok: false, errors: [picked.error], changes: [] };
  const { service } = picked;
  const table = mapImage(b, service, opts);
  if (!table) return { ok: false, errors: b.errors, changes: b.changes };

  const command = [...(service.entrypoint ?? []), ...(service.command ?? [])];
  const parsed = parseCommand(command, table);
  if (service.entrypoint && parsed.launcher.length < service.entrypoint.length) {
    b.errors.push(`command: the entrypoint ${service.entrypoint.join(" ")} does not start vLLM's server; the program runs the image's own (vllm serve), so remove it from the compose file`);
  }
  if (parsed.launcher.length > 0) b.change("model.id", "command", parsed.launcher.join(" "), "(the image's entrypoint)", "the image runs `vllm serve` itself; the program passes only its arguments", "vllm/vllm-openai Dockerfile");
  if (!parsed.model) b.errors.push("model.id: the compose command names no model; add it (vllm serve <model>) to the compose file");
  else b.set("model.id", parsed.model);
  if (parsed.modelFrom === "--model") {
    b.change("model.id", "command: --model", `--model ${parsed.model}`, `${parsed.model} (the positional)`, "`vllm serve` takes the model as its positional argument: 0.11 refuses --model, later releases move it with a warning", CATALOG);
  }
  for (const s of parsed.stray) b.errors.push(`vllm.extraArgs: "${s}" in the compose command belongs to no flag; remove it or put it after its flag in the compose file`);
  const ctx: { port?: number } = {};
  for (const opt of parsed.options) mapOption(b, opt, table, ctx);
  if (opts.footprint) b.set("model.footprint", opts.footprint);

  // What the compose command left out means vLLM's default: written out where ours differs.
  const vllm = b.cfg.vllm;
  vllm.tensorParallelSize ??= 1;
  if (vllm.gpuMemoryUtilization === undefined) {
    vllm.gpuMemoryUtilization = 0.9;
    b.change("vllm.gpuMemoryUtilization", "command", "(no --gpu-memory-utilization)", "0.9", "vLLM's default, written out (the stack requires it)", CATALOG);
  }
  vllm.kvCacheDtype ??= "auto";
  vllm.enableChunkedPrefill ??= false;
  vllm.enableAutoToolChoice ??= false;
  if (vllm.toolCallParser !== undefined && !vllm.enableAutoToolChoice) {
    b.extraArgs.push("--tool-call-parser", vllm.toolCallParser as string);
    delete vllm.toolCallParser;
  }
  if (vllm.distributedExecutorBackend === undefined) {
    const backend = vllm.tensorParallelSize === 1 ? "uni" : "mp";
    vllm.distributedExecutorBackend = backend;
    b.change("vllm.distributedExecutorBackend", "command", "(no --distributed-executor-backend)", backend, "the program always passes one; this is what vLLM picks on one host", CATALOG);
  }

  const env = service.environment ?? {};
  mapEnv(b, env, opts.secretVariables);
  for (const s of b.secrets) if (s.from.startsWith("command:")) s.variable = opts.secretVariables?.[s.key];
  mapGpus(b, service, env, vllm.tensorParallelSize as number);
  mapContainer(b, service, picked.name, project);
  mapPorts(b, service, ctx.port);

  if (vllm.maxModelLen === undefined && b.errors.length === 0) {
    const facts = modelFacts({ id: String(b.cfg.model.id), footprint: opts.footprint as never }, undefined, []);
    if (facts) {
      vllm.maxModelLen = facts.maxPos;
      b.change("vllm.maxModelLen", "command", "(no --max-model-len)", String(facts.maxPos), "vLLM's default, the model's trained context, written out (the stack requires it)", "config.json max_position_embeddings (components/vllm/models.ts)");
    }
  }
  if (b.extraArgs.length > 0) vllm.extraArgs = b.extraArgs;
  const raw: Record<string, unknown> = { profile: opts.profile ?? opts.stack, ...b.cfg };
  if (Object.keys(b.vision).length > 0) raw.vision = { limitMmPerPrompt: {}, ...b.vision };
  if (Object.keys(b.cfg.container.env as object).length === 0) delete (raw.container as Record<string, unknown>).env;
  if (b.errors.length > 0) return { ok: false, errors: b.errors, changes: b.changes };

  const memoryTable = fitModelLen(b, raw);
  const v = validateProfile(raw, { apiKey: "secret", hfToken: "secret" }, opts.stack);
  if (!v.ok) {
    const hint = `; pass them with --footprint '{"layers": <n>, "kvHeads": <n>, "headDim": <n>, "checkpointGiB": <GiB>, "maxPositionEmbeddings": <n>}' to npm run import`;
    return { ok: false, errors: v.errors.map((e) => (e.startsWith("model.footprint:") ? e + hint : e)), changes: b.changes };
  }
  return { ok: true, service: picked.name, config: raw, changes: b.changes, secrets: b.secrets, warnings: v.warnings, memoryTable };
}

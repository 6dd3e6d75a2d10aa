/**
 * The stack config: one zod schema, the single source of truth for what a
 * profile may say. It composes the pure vLLM knowledge (flag catalog, argv,
 * memory estimate, model catalog) into one validation that preview, `check`
 * and the tests all run.
 */
import { z } from "zod";
import { renderArgv, SECRET_FLAGS, ServeArgs } from "../vllm/argv";
import { checkArgv, FlagTable, flagTable, notCataloguedAdvice, versionFromTag } from "../vllm/catalog";
import { MemoryPlan, ModelFootprint, planMemory, KV_CACHE_DTYPE_BYTES } from "../vllm/memory";
import { KNOWN_MODELS } from "../vllm/models";
import { standbyReleaseProblem } from "../vllm/sleep";
import type { StandbyFacts } from "./standby";
import { backendProblems, ClusterSchema, clusterProblems, vllmPodPort } from "./cluster";

const GiB = 1024 ** 3;

const absolutePath = z.string().regex(/^\/[^\0]*$/, { error: "must be an absolute path on the GPU host, e.g. /srv/myia-vllm/hf-cache" });

export const StandbySchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** What a sleeping model keeps on each GPU, MiB (CUDA context, graph pool, NCCL: 1.1-1.5 GiB on 24 GB cards, vllm#32714). */
  leftoverMiB: z.int().nonnegative().default(1536),
  /** Host RAM kept for everything but the pinned weights, MiB. */
  hostReserveMiB: z.int().nonnegative().default(8192),
  /** How long putting the serving model to sleep may take (mode=wait lets requests in flight finish first); then it is stopped instead. */
  sleepTimeoutSeconds: z.int().positive().max(3600).default(120),
  /** How long a wake may take before the model that slept is woken back. */
  wakeTimeoutSeconds: z.int().positive().max(3600).default(300),
});

export const HostSchema = z.strictObject({
  /** A short name for the GPU host; stacks that share it share its GPUs and ports. */
  name: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, { error: "must be a short lowercase name, e.g. gpu-box" }).default("local"),
  /** Docker endpoint: the local socket, or ssh://user@host for a remote GPU box. */
  docker: z
    .string()
    .regex(/^(unix:\/\/\/\S+|ssh:\/\/[^@\s]+@[^\s/]+(:\d+)?)$/, {
      error: "must be unix:///var/run/docker.sock or ssh://user@host (GpuHost runs nvidia-smi on the host, which a tcp:// endpoint cannot)",
    })
    .default("unix:///var/run/docker.sock"),
  /** Host name or address clients use to reach the server. */
  address: z.string().min(1).default("localhost"),
  /** GPU indices (as nvidia-smi numbers them) the model runs on. */
  gpus: z
    .array(z.int().nonnegative({ error: "GPU indices are whole numbers from 0" }))
    .min(1, { error: "list at least one GPU index, e.g. [0, 1]" })
    .refine((g) => new Set(g).size === g.length, { error: "lists a GPU twice; list each index once" })
    .default([0, 1]),
  /** Memory of each GPU, MiB, as nvidia-smi reports it (RTX 4090: 24564). Checked against the host at preview. */
  gpuMemoryMiB: z.int().positive().default(24564),
  /** Host folder for the Hugging Face cache, shared by all profiles so weights survive replacement. */
  hfCachePath: absolutePath.default("/srv/myia-vllm/hf-cache"),
  /** Host folder for vLLM's compile cache (torch.compile, CUDA graphs). */
  compileCachePath: absolutePath.default("/srv/myia-vllm/vllm-cache"),
  /**
   * Standby: the stacks of this host group (same host.name, shared GPUs) keep
   * the model not serving asleep in vLLM's sleep mode, so a switch is a wake
   * (seconds) instead of a load (minutes). Every stack of the group says the
   * same; off by default.
   */
  standby: StandbySchema.prefault({}),
});

export const ImageSchema = z.strictObject({
  repository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, { error: "must be an image name such as vllm/vllm-openai" }).default("vllm/vllm-openai"),
  /** A pinned release tag, e.g. v0.11.0; never latest. */
  tag: z
    .string()
    .refine((t) => t !== "latest", { error: "\"latest\" is not a pinned version; pin a release tag such as v0.11.0" })
    .refine((t) => versionFromTag(t) !== undefined, { error: "must name a vLLM release, e.g. v0.11.0 (or set image.vllmVersion for a custom tag)" }),
  /** Optional content digest (sha256:...), pinned on top of the tag. */
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/, { error: "must be sha256: followed by 64 hex digits" }).optional(),
  /** The vLLM release inside a custom-tagged image. */
  vllmVersion: z.string().regex(/^\d+\.\d+\.\d+$/).optional(),
});

export const FootprintSchema = z.strictObject({
  layers: z.int().positive(),
  kvHeads: z.int().positive(),
  headDim: z.int().positive(),
  checkpointGiB: z.number().positive(),
  replicatedGiB: z.number().nonnegative().optional(),
  maxPositionEmbeddings: z.int().positive(),
  vision: z.boolean().default(false),
  /** The dtype of the unquantized weights (config.json torch_dtype), for the --dtype warning. */
  dtype: z.enum(["bfloat16", "float16", "float32"]).optional(),
});

export const ModelSchema = z.strictObject({
  /** Hugging Face model id. */
  id: z.string().regex(/^[\w.-]+\/[\w.-]+$/, { error: "must be a Hugging Face id such as Qwen/Qwen3-32B-AWQ" }),
  servedName: z.string().min(1).optional(),
  /** Architecture numbers, required for a model not in the catalog. */
  footprint: FootprintSchema.optional(),
  /** Per-GPU activations + non-torch memory, MiB; overrides the catalog's figure. */
  overheadMiB: z.int().nonnegative().optional(),
});

export const ServerSchema = z.strictObject({
  port: z.int({ error: "must be a whole port number" }).min(1024, { error: "must be between 1024 and 65535" }).max(65535, { error: "must be between 1024 and 65535" }),
  containerName: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, { error: "must be a Docker container name (letters, digits, _ . -)" }),
});

export const VllmSchema = z.strictObject({
  tensorParallelSize: z.int().positive().default(2),
  gpuMemoryUtilization: z
    .number({ error: "must be a number between 0 and 1, e.g. 0.9" })
    .gt(0, { error: "must be above 0" })
    .max(1, { error: "must be at most 1 (a fraction of each GPU's memory), e.g. 0.9" }),
  maxModelLen: z.int().positive(),
  quantization: z.string().optional(),
  dtype: z.string().optional(),
  kvCacheDtype: z.string().default("fp8"),
  enableChunkedPrefill: z.boolean().default(true),
  enableAutoToolChoice: z.boolean().default(true),
  toolCallParser: z.string().default("hermes"),
  distributedExecutorBackend: z.string().default("mp"),
  maxNumSeqs: z.int().positive().optional(),
  /** Escape hatch: extra `vllm serve` flags, checked against the flag catalog like the rest. */
  extraArgs: z.array(z.string()).default([]),
});

export const VisionSchema = z.strictObject({
  limitMmPerPrompt: z.partialRecord(z.enum(["image", "video", "audio"]), z.int().nonnegative()),
  maxPixels: z.int().positive().optional(),
  skipMmProfiling: z.boolean().default(false),
  mmEncoderTpMode: z.enum(["data", "weights"]).optional(),
});

export const HealthcheckSchema = z.strictObject({
  intervalSeconds: z.int().positive().default(5),
  timeoutSeconds: z.int().positive().default(3),
  retries: z.int().positive().default(3),
  /** Failures in this window don't count: a 32B model takes minutes to load. */
  startPeriodSeconds: z.int().positive().default(1200),
});

/** Environment variables the program sets itself. */
export const MANAGED_ENV: readonly string[] = ["VLLM_API_KEY", "HF_TOKEN", "NVIDIA_VISIBLE_DEVICES", "HF_HOME", "VLLM_CACHE_ROOT"];

export const ContainerSchema = z.strictObject({
  shmSizeMiB: z.int().positive().default(16384),
  ipcHost: z.boolean().default(true),
  restart: z.enum(["no", "on-failure", "always", "unless-stopped"]).default("unless-stopped"),
  healthcheck: HealthcheckSchema.prefault({}),
  /** How long `pulumi up` waits for the container to be healthy before it fails. */
  readyTimeoutSeconds: z.int().positive().default(1800),
  /** Extra environment (e.g. VLLM_LOGGING_LEVEL, NCCL settings); never a secret, never one the program sets. */
  env: z
    // YAML (and `pulumi config set --path`) turn 1 and true into numbers and booleans; env is text.
    .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name" }), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .refine((e) => !Object.keys(e).some((k) => MANAGED_ENV.includes(k)), { error: `sets a variable the program manages (${"VLLM_API_KEY, HF_TOKEN, NVIDIA_VISIBLE_DEVICES, HF_HOME, VLLM_CACHE_ROOT"}); secrets go in apiKey/hfToken, GPUs in host.gpus` })
    .default({}),
});

const cidr = z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-fA-F:]+:[0-9a-fA-F:]*(\/\d{1,3})?)$/, { error: "must be an IP address or CIDR range, e.g. 10.0.0.0/8 or 127.0.0.1" });

/** A name clients reach the gateway by, as it goes in the certificate: a DNS name or an IP address. */
const tlsName = z.string().regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:]*)$/, {
  error: "must be a host name or IP address clients use, e.g. gpu-box.lan or 192.168.1.20",
});

export const GatewayTlsSchema = z.strictObject({
  /**
   * internal: Caddy's own CA, made once per host and kept in the Docker volume
   * `myia-vllm-ca` (export its root with `npm run ca`); provided: the
   * certificate and key set as the secrets tlsCertificate and tlsPrivateKey;
   * off: plain HTTP, where keys travel in clear (preview warns).
   */
  mode: z.enum(["internal", "provided", "off"]).default("internal"),
  /**
   * The names the certificate is issued for (internal) and served on, besides
   * host.address, localhost and 127.0.0.1: every name clients use to reach the box.
   */
  names: z.array(tlsName).default([]),
});

export const GatewaySchema = z.strictObject({
  /**
   * The reverse proxy in front of vLLM (Caddy). false publishes vLLM's own
   * port instead, where every route outside /v1 answers without the key.
   */
  enabled: z.boolean().default(true),
  image: z
    .strictObject({
      repository: z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, { error: "must be an image name such as caddy" }).default("caddy"),
      /** A pinned Caddy release; never latest. */
      tag: z
        .string()
        .regex(/^\d+\.\d+\.\d+(-[a-z0-9.]+)?$/, { error: "must be a pinned Caddy release such as 2.11.9 (never latest)" })
        .default("2.11.9"),
      /** The official image's digest for that tag (sha256:...), pinned on top of it where a registry serves it. */
      digest: z.string().regex(/^sha256:[a-f0-9]{64}$/, { error: "must be sha256: followed by 64 hex digits" }).optional(),
    })
    .prefault({}),
  /** The largest request body forwarded, MiB (3 images of 768x768 in base64 take about 7). Larger gets 413. */
  maxBodyMiB: z.int().positive().max(1024, { error: "must be at most 1024 MiB" }).default(16),
  /** Paths outside /v1 served without the key, each only to clients from the listed addresses. None by default. */
  expose: z
    .array(z.strictObject({ path: z.enum(["/metrics", "/version"]), from: z.array(cidr).min(1, { error: "list the client addresses allowed, e.g. [10.0.0.0/8]" }) }))
    .refine((e) => new Set(e.map((x) => x.path)).size === e.length, { error: "lists a path twice; list each path once with all its addresses" })
    .default([]),
  /** HTTPS on the public port (the default), and the certificate it serves. */
  tls: GatewayTlsSchema.prefault({}),
  /**
   * Before its model stops for another stack's, the gateway refuses new
   * requests (503, Retry-After) and waits up to this long for those in
   * flight to finish; it stops as soon as none is. 0 stops at once, cutting them.
   */
  drainSeconds: z.int().nonnegative().max(3600, { error: "must be at most 3600 seconds" }).default(30),
});

export const ProfileSchema = z.strictObject({
  /** The profile's name, e.g. medium; labels the container. */
  profile: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: "must be a lowercase name such as medium-vl" }),
  host: HostSchema.prefault({}),
  image: ImageSchema,
  model: ModelSchema,
  server: ServerSchema,
  vllm: VllmSchema,
  vision: VisionSchema.optional(),
  container: ContainerSchema.prefault({}),
  gateway: GatewaySchema.prefault({}),
  /** A Kubernetes cluster instead of the Docker host (components/config/cluster.ts); exactly one of host and cluster. */
  cluster: ClusterSchema.optional(),
});

export type ProfileConfig = z.output<typeof ProfileSchema>;

/** The secret keys, read separately so their values never enter the schema. */
export const SECRET_KEYS = ["apiKey", "hfToken"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
/**
 * Secrets a stack may set: a key per client (`apiKeys.<name>`), and the
 * certificate and key the gateway serves with gateway.tls.mode provided.
 */
export const OPTIONAL_SECRET_KEYS = ["apiKeys", "tlsCertificate", "tlsPrivateKey"] as const;
export type OptionalSecretKey = (typeof OPTIONAL_SECRET_KEYS)[number];
export type SecretState = "secret" | "plaintext" | "missing";
export type SecretStates = Record<SecretKey, SecretState> & Partial<Record<OptionalSecretKey, SecretState>>;

/**
 * What is wrong with an API key's value, or undefined. The gateway compares
 * it inside a Caddy header matcher, where a leading or trailing `*` is a
 * wildcard and whitespace splits the header; a short key is guessable.
 */
export function apiKeyProblem(key: string, path = "apiKey"): string | undefined {
  const set = path === "apiKey" ? "apiKey" : `--path ${path}`;
  if (key.length < 16) return `${path}: is ${key.length} characters; use at least 16 random ones, e.g. \`pulumi config set --secret ${set} "sk-$(openssl rand -hex 24)"\``;
  // The gateway matches it literally in a Caddy map: no quotes, braces
  // (placeholders), spaces or wildcards; the base64 and hex alphabets pass.
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(key)) return `${path}: may hold only letters, digits and . _ ~ + / = - (the gateway matches it in the Authorization header); generate one with \`openssl rand -hex 24\``;
  return undefined;
}

/** A client's name in apiKeys: it names the client in the gateway's access log. */
export const CLIENT_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * What is wrong with the client keys (apiKeys), one line each: names, values,
 * a key given twice, or the one vLLM itself holds. The lines name the client,
 * never show a key.
 */
export function clientKeysProblems(clients: Record<string, unknown>, vllmKey: string | undefined): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [name, key] of Object.entries(clients)) {
    const path = `apiKeys.${name}`;
    if (!CLIENT_NAME.test(name)) problems.push(`${path}: the client's name must be lowercase letters, digits, - and _ (it names the client in the access log), e.g. apiKeys.app-a`);
    if (typeof key !== "string") {
      problems.push(`${path}: must be a key (a string); run \`pulumi config set --secret --path ${path} "sk-$(openssl rand -hex 24)"\``);
      continue;
    }
    const bad = apiKeyProblem(key, path);
    if (bad) problems.push(bad);
    if (seen.has(key)) problems.push(`${path}: is the same key as apiKeys.${seen.get(key)}; give each client its own, so one can be revoked alone`);
    seen.set(key, name);
    if (key === vllmKey) problems.push(`${path}: is apiKey, the key only the gateway and vLLM share; give the client a key of its own, so revoking it never touches vLLM`);
  }
  return problems;
}

/** Every key a stack may set, for the unknown-key check. */
export const CONFIG_KEYS: readonly string[] = [...Object.keys(ProfileSchema.shape), ...SECRET_KEYS, ...OPTIONAL_SECRET_KEYS];

/** A profile that passed every check, with what was derived from it. */
export interface ValidatedProfile extends ProfileConfig {
  vllmVersion: string;
  footprint: ModelFootprint;
  argv: string[];
  memory: MemoryPlan;
  /** Standby's plan, with host.standby.enabled (set by validateStack, which sees the host group). */
  standby?: StandbyFacts;
}

export type Validation = { ok: true; profile: ValidatedProfile; warnings: string[] } | { ok: false; errors: string[]; warnings: string[] };

// Which config path a rendered flag came from, so a flag error names the key to change.
const FLAG_PATHS: Record<string, string> = {
  "--served-model-name": "model.servedName",
  "--port": "server.port",
  "--tensor-parallel-size": "vllm.tensorParallelSize",
  "--gpu-memory-utilization": "vllm.gpuMemoryUtilization",
  "--max-model-len": "vllm.maxModelLen",
  "--quantization": "vllm.quantization",
  "--dtype": "vllm.dtype",
  "--kv-cache-dtype": "vllm.kvCacheDtype",
  "--enable-chunked-prefill": "vllm.enableChunkedPrefill",
  "--max-num-seqs": "vllm.maxNumSeqs",
  "--distributed-executor-backend": "vllm.distributedExecutorBackend",
  "--enable-auto-tool-choice": "vllm.enableAutoToolChoice",
  "--tool-call-parser": "vllm.toolCallParser",
  "--limit-mm-per-prompt": "vision.limitMmPerPrompt",
  "--mm-processor-kwargs": "vision.maxPixels",
  "--skip-mm-profiling": "vision.skipMmProfiling",
  "--mm-encoder-tp-mode": "vision.mmEncoderTpMode",
  "--enable-sleep-mode": "host.standby.enabled",
};

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** "unknown key" with a suggestion, e.g. "did you mean gpuMemoryUtilization?". */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const best = [...known].sort((x, y) => editDistance(key.toLowerCase(), x.toLowerCase()) - editDistance(key.toLowerCase(), y.toLowerCase()))[0];
  const hint = best && editDistance(key.toLowerCase(), best.toLowerCase()) <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean ${best}?` : `known keys: ${known.join(", ")}`;
  return `unknown key; ${hint} (a misspelt key would otherwise be ignored)`;
}

function shapeAt(path: readonly PropertyKey[]): string[] {
  let schema: unknown = ProfileSchema;
  for (const key of path) {
    // Unwrap optional/default/prefault wrappers to reach the object's shape.
    let s = schema as { shape?: Record<string, unknown>; unwrap?: () => unknown; _zod?: { def?: { innerType?: unknown } } };
    while (!s.shape && (s._zod?.def?.innerType || s.unwrap)) s = (s._zod?.def?.innerType ?? s.unwrap!()) as typeof s;
    schema = s.shape?.[String(key)];
    if (!schema) return [];
  }
  let s = schema as { shape?: Record<string, unknown>; _zod?: { def?: { innerType?: unknown } } };
  while (!s.shape && s._zod?.def?.innerType) s = s._zod.def.innerType as typeof s;
  return Object.keys(s.shape ?? {});
}

function formatIssue(issue: z.core.$ZodIssue): string[] {
  const path = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const known = shapeAt(issue.path);
    return issue.keys.map((k) => `${path ? `${path}.` : ""}${k}: ${unknownKeyMessage(k, known)}`);
  }
  if (issue.code === "invalid_type") {
    if (issue.input === undefined) return [`${path}: is required; set it in the stack's config`];
    const got = Array.isArray(issue.input) ? "a list" : typeof issue.input === "object" ? "an object" : `${typeof issue.input} ${JSON.stringify(issue.input)}`;
    return [`${path}: expected ${issue.expected === "int" ? "a whole number" : `a ${issue.expected}`}, got ${got}; write it as a plain ${issue.expected === "int" ? "integer" : issue.expected} in the stack file`];
  }
  if (issue.code === "invalid_value" && "values" in issue) {
    return [`${path}: ${JSON.stringify(issue.input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; pick one`];
  }
  return [`${path}: ${issue.message}`];
}

/** A deep copy of `raw` without the keys zod reported as unrecognized. */
function withoutKeys(raw: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]): Record<string, unknown> {
  const copy = structuredClone(raw);
  for (const issue of issues) {
    if (issue.code !== "unrecognized_keys") continue;
    let node = copy as Record<string, unknown>;
    for (const k of issue.path) node = node[String(k)] as Record<string, unknown>;
    for (const k of issue.keys) delete node[k];
  }
  return copy;
}

/** What the memory plan and the context check know of the model. */
export interface ModelFacts {
  footprint: ModelFootprint;
  maxPos: number;
  overheadMiB: number;
  vision: boolean;
  /** The dtype of the checkpoint's unquantized weights, where known. */
  dtype?: string;
}

type ModelConfig = z.output<typeof ModelSchema>;

/** The model's numbers: its stack's footprint, else the catalog's; undefined (and an error) for neither. */
export function modelFacts(model: ModelConfig, mmEncoderTpMode: string | undefined, errors: string[]): ModelFacts | undefined {
  const known = KNOWN_MODELS[model.id];
  const f = model.footprint;
  const encoderWhole = mmEncoderTpMode === "data";
  if (f) {
    return {
      footprint: { layers: f.layers, kvHeads: f.kvHeads, headDim: f.headDim, checkpointBytes: f.checkpointGiB * GiB, replicatedBytes: encoderWhole ? (f.replicatedGiB ?? 0) * GiB : 0 },
      maxPos: f.maxPositionEmbeddings,
      overheadMiB: model.overheadMiB ?? known?.overheadMiB ?? 2048,
      vision: f.vision,
      dtype: f.dtype ?? known?.dtype,
    };
  }
  if (!known) {
    errors.push(`model.footprint: ${model.id} is not in the model catalog (${Object.keys(KNOWN_MODELS).join(", ")}); give its layers, kvHeads, headDim, checkpointGiB and maxPositionEmbeddings from its config.json`);
    return undefined;
  }
  return {
    footprint: { ...known.footprint, replicatedBytes: encoderWhole ? known.footprint.replicatedBytes : 0 },
    maxPos: known.maxPositionEmbeddings,
    overheadMiB: model.overheadMiB ?? known.overheadMiB,
    vision: known.vision,
    dtype: known.dtype,
  };
}

/** What the fit checks read: a parsed profile, or the fields of a failed one that parse on their own. */
export interface FitInput {
  model: ModelConfig;
  tensorParallelSize: number;
  gpuMemoryUtilization: number;
  maxModelLen: number;
  kvCacheDtype: string;
  gpuMemoryMiB: number;
  dtype?: string;
  extraArgs: readonly string[];
  mmEncoderTpMode?: string;
  hasVision: boolean;
}

/** Below this many full-length sequences at once, a profile queues under load: a warning. */
export const MIN_FULL_SEQUENCES = 2;

const HALF = ["half", "float16"];

/**
 * The checks that need the model's numbers: vision on a text model, the
 * trained context, the memory plan, and the warnings for legal but risky
 * values. Returns the plan when it could be made.
 */
export function fitChecks(input: FitInput, errors: string[], warnings: string[]): { facts: ModelFacts; memory: MemoryPlan } | undefined {
  const id = input.model.id;
  const facts = modelFacts(input.model, input.mmEncoderTpMode, errors);
  if (facts && input.hasVision && !facts.vision) {
    errors.push(`vision: ${id} takes no images; remove the vision section or pick a vision-language model`);
  }
  const ropeOverride = input.extraArgs.some((a) => /rope|hf-overrides|hf_overrides/.test(a));
  if (facts && input.maxModelLen > facts.maxPos && !ropeOverride) {
    errors.push(`vllm.maxModelLen: ${input.maxModelLen} is above ${id}'s trained context of ${facts.maxPos} tokens; lower it, or add rope scaling (YaRN) through vllm.extraArgs`);
  }
  if (facts && input.extraArgs.some((a) => /rope/.test(a)) && input.maxModelLen <= facts.maxPos) {
    warnings.push(`vllm.extraArgs: rope scaling is set, but maxModelLen ${input.maxModelLen} is within ${id}'s trained context of ${facts.maxPos} tokens; drop it, as static YaRN lowers quality on short texts (Qwen's docs)`);
  }
  if (facts?.dtype === "bfloat16" && input.dtype && HALF.includes(input.dtype)) {
    warnings.push(`vllm.dtype: "${input.dtype}" casts ${id}'s bf16 weights to fp16, whose narrower range can overflow; drop it, since the default (auto) keeps bf16 (the checkpoint's config.json)`);
  }
  if (!facts || !(input.kvCacheDtype in KV_CACHE_DTYPE_BYTES)) return undefined;

  const memory = planMemory({
    model: facts.footprint,
    tensorParallelSize: input.tensorParallelSize,
    kvCacheDtype: input.kvCacheDtype,
    gpuMemoryUtilization: input.gpuMemoryUtilization,
    gpuMemoryMiB: input.gpuMemoryMiB,
    maxModelLen: input.maxModelLen,
    overheadMiB: facts.overheadMiB,
  });
  const g = (mib: number) => `${(mib / 1024).toFixed(2)} GiB`;
  if (memory.kvCacheMiB <= 0) {
    errors.push(`vllm.gpuMemoryUtilization: ${input.gpuMemoryUtilization} × ${input.gpuMemoryMiB} MiB gives ${g(memory.budgetMiB)} per GPU, less than the weights (${g(memory.weightsMiB)}) plus overhead (${g(memory.overheadMiB)}); raise it or spread the model over more GPUs`);
  } else if (!memory.fits) {
    errors.push(`vllm.maxModelLen: one ${input.maxModelLen}-token sequence needs ${g(memory.sequenceMiB)} of KV cache per GPU, but only ${g(memory.kvCacheMiB)} is left after weights (${g(memory.weightsMiB)}) and overhead (${g(memory.overheadMiB)}); the largest max-model-len that fits is ${memory.maxFittingModelLen}: lower vllm.maxModelLen to at most that, or raise vllm.gpuMemoryUtilization`);
  } else if (memory.concurrentSequences < MIN_FULL_SEQUENCES) {
    warnings.push(`vllm.gpuMemoryUtilization: at ${input.gpuMemoryUtilization} the KV cache holds ${memory.concurrentSequences} full-length (${input.maxModelLen}-token) sequence(s) at a time, fewer than ${MIN_FULL_SEQUENCES}, so requests queue under load; raise it or lower vllm.maxModelLen (the memory plan)`);
  }
  return { facts, memory };
}

export function serveArgs(cfg: ProfileConfig): ServeArgs {
  return {
    model: cfg.model.id,
    servedModelName: cfg.model.servedName,
    // On a cluster vLLM shares its pod with the gateway, which holds the
    // stack's port: vLLM listens on the pod's loopback only, where nothing
    // but the gateway reaches it.
    ...(cfg.cluster ? { host: "127.0.0.1", port: vllmPodPort(cfg.server.port) } : { port: cfg.server.port }),
    tensorParallelSize: cfg.vllm.tensorParallelSize,
    gpuMemoryUtilization: cfg.vllm.gpuMemoryUtilization,
    maxModelLen: cfg.vllm.maxModelLen,
    quantization: cfg.vllm.quantization,
    dtype: cfg.vllm.dtype,
    kvCacheDtype: cfg.vllm.kvCacheDtype,
    enableChunkedPrefill: cfg.vllm.enableChunkedPrefill,
    enableAutoToolChoice: cfg.vllm.enableAutoToolChoice,
    toolCallParser: cfg.vllm.enableAutoToolChoice ? cfg.vllm.toolCallParser : undefined,
    distributedExecutorBackend: cfg.vllm.distributedExecutorBackend,
    maxNumSeqs: cfg.vllm.maxNumSeqs,
    vision: cfg.vision,
    extraArgs: cfg.vllm.extraArgs,
    enableSleepMode: cfg.host.standby.enabled,
  };
}

/**
 * Validates a profile's raw config (the stack's non-secret keys, namespace
 * stripped) and the state of its secrets. Collects every error, each as
 * `path: what is wrong, what to do`.
 */
export interface ValidateOptions {
  /**
   * Preview needs the secrets; `check` reads a committed stack file, where
   * secrets are usually not set yet, so it may only warn.
   */
  missingSecrets?: "error" | "warn";
}

export function validateProfile(raw: Record<string, unknown>, secrets: SecretStates, stack = "<stack>", options: ValidateOptions = {}): Validation {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const key of SECRET_KEYS) {
    if (secrets[key] === "missing") {
      (options.missingSecrets === "warn" ? warnings : errors).push(`${key}: is not set; run \`pulumi config set --secret ${key} <value> --stack ${stack}\``);
    }
  }
  for (const key of [...SECRET_KEYS, ...OPTIONAL_SECRET_KEYS]) {
    const how = key === "apiKeys" ? "--path apiKeys.<client> <key>" : `${key} <value>`;
    if (secrets[key] === "plaintext") errors.push(`${key}: is stored in plaintext; run \`pulumi config set --secret ${how} --stack ${stack}\` to encrypt it`);
  }
  const nonSecret = Object.fromEntries(Object.entries(raw).filter(([k]) => ![...SECRET_KEYS, ...OPTIONAL_SECRET_KEYS].includes(k as SecretKey)));
  errors.push(...backendProblems(nonSecret));
  let parsed = ProfileSchema.safeParse(nonSecret, { reportInput: true });
  if (!parsed.success && parsed.error.issues.every((i) => i.code === "unrecognized_keys")) {
    // Only misspelt keys: report them, and check the rest without them, so
    // one run lists every problem rather than one layer at a time.
    errors.push(...parsed.error.issues.flatMap(formatIssue));
    parsed = ProfileSchema.safeParse(withoutKeys(nonSecret, parsed.error.issues), { reportInput: true });
  }
  if (!parsed.success) {
    // Still check what can be checked without the failing keys, so one run
    // lists every problem: the flags against the catalog, the memory plan.
    errors.push(...parsed.error.issues.flatMap(formatIssue));
    partialChecks(withoutKeys(nonSecret, parsed.error.issues), parsed.error.issues, errors, warnings);
    return { ok: false, errors, warnings };
  }
  // On a cluster the gateway speaks HTTP behind its Service unless told otherwise (clusterProblems refuses the rest).
  const explicitTls = (nonSecret.gateway as { tls?: { mode?: unknown } } | undefined)?.tls?.mode !== undefined;
  const cfg = parsed.data.cluster && !explicitTls ? { ...parsed.data, gateway: { ...parsed.data.gateway, tls: { ...parsed.data.gateway.tls, mode: "off" as const } } } : parsed.data;
  errors.push(...clusterProblems({ ...cfg, explicitTls }));

  const vllmVersion = cfg.image.vllmVersion ?? versionFromTag(cfg.image.tag)!;
  const table = flagTable(vllmVersion);
  if (!table) {
    errors.push(`${cfg.image.vllmVersion ? "image.vllmVersion" : "image.tag"}: ${notCataloguedAdvice(vllmVersion)}`);
  }
  if (cfg.host.standby.enabled) {
    const old = standbyReleaseProblem(vllmVersion);
    if (old) errors.push(`host.standby.enabled: ${old}`);
  }
  // On a cluster the GPUs are the scheduler's to pick: tensorParallelSize of them per pod.
  if (!cfg.cluster && cfg.vllm.tensorParallelSize !== cfg.host.gpus.length) {
    errors.push(`vllm.tensorParallelSize: is ${cfg.vllm.tensorParallelSize} but host.gpus lists ${cfg.host.gpus.length} GPU(s); vLLM runs one rank per GPU, so make them equal`);
  }
  if (!(cfg.vllm.kvCacheDtype in KV_CACHE_DTYPE_BYTES)) {
    errors.push(`vllm.kvCacheDtype: "${cfg.vllm.kvCacheDtype}" is not a KV cache dtype; use one of ${Object.keys(KV_CACHE_DTYPE_BYTES).join(", ")}`);
  }
  errors.push(...secretFlagErrors(cfg.vllm.extraArgs));
  const argv = renderArgv(serveArgs(cfg));
  if (table) errors.push(...argvErrors(table, argv, cfg.vllm.extraArgs));
  errors.push(...tlsProblems(cfg, secrets, stack));
  if (cfg.gateway.enabled && cfg.gateway.tls.mode === "off" && !cfg.cluster) {
    warnings.push(`gateway.tls.mode: is off, so port ${cfg.server.port} serves plain HTTP and every API key travels in clear between a client and the box; keep it internal (Caddy's CA, \`npm run ca\` exports its root) or provided`);
  }
  if (!cfg.gateway.enabled) {
    warnings.push(`gateway.enabled: is false, so vLLM's own port ${cfg.server.port} is published and every route outside /v1 (/invocations, /tokenize, ...) answers without the key, over plain HTTP; keep the gateway on unless something else guards the port`);
  }
  const fit = fitChecks(fitInput(cfg), errors, warnings);
  if (!fit) return { ok: false, errors, warnings };
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, profile: { ...cfg, vllmVersion, footprint: fit.facts.footprint, argv, memory: fit.memory }, warnings };
}

/** gateway.tls against the secrets it needs: a provided certificate needs both, and only then. */
function tlsProblems(cfg: ProfileConfig, secrets: SecretStates, stack: string): string[] {
  const provided = cfg.gateway.tls.mode === "provided";
  const problems: string[] = [];
  for (const key of ["tlsCertificate", "tlsPrivateKey"] as const) {
    const set = (secrets[key] ?? "missing") !== "missing";
    if (provided && !set) problems.push(`${key}: is not set, and gateway.tls.mode is provided; run \`pulumi config set --secret ${key} < ${key === "tlsCertificate" ? "fullchain.pem" : "privkey.pem"} --stack ${stack}\``);
    if (!provided && set) problems.push(`${key}: is set, but gateway.tls.mode is ${cfg.gateway.tls.mode}; set gateway.tls.mode to provided to serve it, or remove it (\`pulumi config rm ${key} --stack ${stack}\`)`);
  }
  return problems;
}

/** The fit checks' input from a parsed profile. */
export function fitInput(cfg: ProfileConfig): FitInput {
  return {
    model: cfg.model,
    tensorParallelSize: cfg.vllm.tensorParallelSize,
    gpuMemoryUtilization: cfg.vllm.gpuMemoryUtilization,
    maxModelLen: cfg.vllm.maxModelLen,
    kvCacheDtype: cfg.vllm.kvCacheDtype,
    gpuMemoryMiB: cfg.cluster?.gpuMemoryMiB ?? cfg.host.gpuMemoryMiB,
    dtype: cfg.vllm.dtype,
    extraArgs: cfg.vllm.extraArgs,
    mmEncoderTpMode: cfg.vision?.mmEncoderTpMode,
    hasVision: cfg.vision !== undefined,
  };
}

function secretFlagErrors(extraArgs: readonly string[]): string[] {
  return extraArgs
    .map((flag) => flag.split("=")[0].replace(/_/g, "-"))
    .filter((name) => SECRET_FLAGS.includes(name))
    .map((name) => `vllm.extraArgs: ${name} would put a secret in the container's argv, visible to docker inspect and ps; set it as the ${name === "--api-key" ? "apiKey" : "hfToken"} secret instead`);
}

function argvErrors(table: FlagTable, argv: readonly string[], extraArgs: readonly string[]): string[] {
  return checkArgv(table, argv).map((issue) => {
    const fromExtra = extraArgs.some((a) => a.split("=")[0].replace(/_/g, "-").startsWith(issue.flag));
    return `${fromExtra ? "vllm.extraArgs" : (FLAG_PATHS[issue.flag] ?? "vllm")}: ${issue.flag} ${issue.message}`;
  });
}

/** The value at `path` in `raw`, parsed by `schema` on its own; undefined when absent keys have no default or it fails. */
function field<T extends z.ZodType>(raw: Record<string, unknown>, path: string, schema: T): z.output<T> | undefined {
  let node: unknown = raw;
  for (const k of path.split(".")) node = node && typeof node === "object" ? (node as Record<string, unknown>)[k] : undefined;
  const r = schema.safeParse(node);
  return r.success ? r.data : undefined;
}

// The typed settings that render as a flag with a value the catalog checks.
const TYPED_FLAGS: [string, string, z.ZodType][] = [
  ["vllm.quantization", "--quantization", VllmSchema.shape.quantization],
  ["vllm.dtype", "--dtype", VllmSchema.shape.dtype],
  ["vllm.kvCacheDtype", "--kv-cache-dtype", VllmSchema.shape.kvCacheDtype],
  ["vllm.toolCallParser", "--tool-call-parser", VllmSchema.shape.toolCallParser],
  ["vllm.distributedExecutorBackend", "--distributed-executor-backend", VllmSchema.shape.distributedExecutorBackend],
];

/**
 * For a config the schema refused: each check whose inputs parse on their
 * own (and were not themselves refused) runs, so its error shows in the same
 * round as the schema's.
 */
function partialChecks(raw: Record<string, unknown>, issues: readonly z.core.$ZodIssue[], errors: string[], warnings: string[]): void {
  const refused = new Set(issues.filter((i) => i.code !== "unrecognized_keys").map((i) => i.path.map(String).join(".")));
  const ok = <T extends z.ZodType>(path: string, schema: T) => (refused.has(path) ? undefined : field(raw, path, schema));
  const image = ok("image", ImageSchema);
  const version = image ? (image.vllmVersion ?? versionFromTag(image.tag)) : undefined;
  const table = version ? flagTable(version) : undefined;
  const extraArgs = ok("vllm.extraArgs", VllmSchema.shape.extraArgs);
  if (extraArgs) errors.push(...secretFlagErrors(extraArgs));
  if (table) {
    if (extraArgs) errors.push(...argvErrors(table, ["<model>", ...extraArgs], extraArgs));
    for (const [path, flag, schema] of TYPED_FLAGS) {
      const value = ok(path, schema) as string | undefined;
      if (value !== undefined) errors.push(...argvErrors(table, ["<model>", flag, value], []).map((e) => e.replace(/^vllm\S*:/, `${path}:`)));
    }
  }
  const model = ok("model", ModelSchema);
  const vllm = {
    tensorParallelSize: ok("vllm.tensorParallelSize", VllmSchema.shape.tensorParallelSize),
    gpuMemoryUtilization: ok("vllm.gpuMemoryUtilization", VllmSchema.shape.gpuMemoryUtilization),
    maxModelLen: ok("vllm.maxModelLen", VllmSchema.shape.maxModelLen),
    kvCacheDtype: ok("vllm.kvCacheDtype", VllmSchema.shape.kvCacheDtype),
  };
  const gpuMemoryMiB = ok("host.gpuMemoryMiB", HostSchema.shape.gpuMemoryMiB);
  const vision = raw.vision === undefined ? undefined : ok("vision", VisionSchema);
  if (!model || gpuMemoryMiB === undefined || Object.values(vllm).some((v) => v === undefined) || (raw.vision !== undefined && !vision)) return;
  fitChecks(
    {
      model,
      tensorParallelSize: vllm.tensorParallelSize!,
      gpuMemoryUtilization: vllm.gpuMemoryUtilization!,
      maxModelLen: vllm.maxModelLen!,
      kvCacheDtype: vllm.kvCacheDtype!,
      gpuMemoryMiB,
      dtype: ok("vllm.dtype", VllmSchema.shape.dtype),
      extraArgs: extraArgs ?? [],
      mmEncoderTpMode: vision?.mmEncoderTpMode,
      hasVision: vision !== undefined,
    },
    errors,
    warnings,
  );
}

/** What other profiles on the same host must not share with this one. */
export interface ProfileFootprintOnHost {
  stack: string;
  host: string;
  port: number;
  containerName: string;
}

/** Profiles on one host need their own port and container name. */
export function checkProfilesTogether(self: ProfileFootprintOnHost, others: readonly ProfileFootprintOnHost[]): string[] {
  const errors: string[] = [];
  for (const o of others) {
    if (o.stack === self.stack || o.host !== self.host) continue;
    if (o.port === self.port) errors.push(`server.port: ${self.port} is also the port of stack ${o.stack} on host ${self.host}; give each profile its own port`);
    if (o.containerName === self.containerName) errors.push(`server.containerName: ${self.containerName} is also the container of stack ${o.stack}; give each profile its own name`);
  }
  return errors;
}


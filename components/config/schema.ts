/**
 * The stack config: one zod schema, the single source of truth for what a
 * profile may say. It composes the pure vLLM knowledge (flag catalog, argv,
 * memory estimate, model catalog) into one validation that preview, `check`
 * and the tests all run.
 */
import { z } from "zod";
import { renderArgv, SECRET_FLAGS, ServeArgs } from "../vllm/argv";
import { checkArgv, flagTable, supportedVersions, versionFromTag } from "../vllm/catalog";
import { MemoryPlan, ModelFootprint, planMemory, KV_CACHE_DTYPE_BYTES } from "../vllm/memory";
import { KNOWN_MODELS } from "../vllm/models";

const GiB = 1024 ** 3;

const absolutePath = z.string().regex(/^\/[^\0]*$/, { error: "must be an absolute path on the GPU host, e.g. /srv/myia-vllm/hf-cache" });

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
});

export type ProfileConfig = z.output<typeof ProfileSchema>;

/** The secret keys, read separately so their values never enter the schema. */
export const SECRET_KEYS = ["apiKey", "hfToken"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
export type SecretState = "secret" | "plaintext" | "missing";

/** Every key a stack may set, for the unknown-key check. */
export const CONFIG_KEYS: readonly string[] = [...Object.keys(ProfileSchema.shape), ...SECRET_KEYS];

/** A profile that passed every check, with what was derived from it. */
export interface ValidatedProfile extends ProfileConfig {
  vllmVersion: string;
  footprint: ModelFootprint;
  argv: string[];
  memory: MemoryPlan;
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

function footprintOf(cfg: ProfileConfig, errors: string[]): { footprint: ModelFootprint; maxPos: number; overheadMiB: number; vision: boolean } | undefined {
  const known = KNOWN_MODELS[cfg.model.id];
  const f = cfg.model.footprint;
  const encoderWhole = cfg.vision?.mmEncoderTpMode === "data";
  if (f) {
    return {
      footprint: { layers: f.layers, kvHeads: f.kvHeads, headDim: f.headDim, checkpointBytes: f.checkpointGiB * GiB, replicatedBytes: encoderWhole ? (f.replicatedGiB ?? 0) * GiB : 0 },
      maxPos: f.maxPositionEmbeddings,
      overheadMiB: cfg.model.overheadMiB ?? known?.overheadMiB ?? 2048,
      vision: f.vision,
    };
  }
  if (!known) {
    errors.push(`model.footprint: ${cfg.model.id} is not in the model catalog (${Object.keys(KNOWN_MODELS).join(", ")}); give its layers, kvHeads, headDim, checkpointGiB and maxPositionEmbeddings from its config.json`);
    return undefined;
  }
  return {
    footprint: { ...known.footprint, replicatedBytes: encoderWhole ? known.footprint.replicatedBytes : 0 },
    maxPos: known.maxPositionEmbeddings,
    overheadMiB: cfg.model.overheadMiB ?? known.overheadMiB,
    vision: known.vision,
  };
}

export function serveArgs(cfg: ProfileConfig): ServeArgs {
  return {
    model: cfg.model.id,
    servedModelName: cfg.model.servedName,
    port: cfg.server.port,
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

export function validateProfile(raw: Record<string, unknown>, secrets: Record<SecretKey, SecretState>, stack = "<stack>", options: ValidateOptions = {}): Validation {
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const key of SECRET_KEYS) {
    if (secrets[key] === "missing") {
      (options.missingSecrets === "warn" ? warnings : errors).push(`${key}: is not set; run \`pulumi config set --secret ${key} <value> --stack ${stack}\``);
    }
    if (secrets[key] === "plaintext") errors.push(`${key}: is stored in plaintext; run \`pulumi config set --secret ${key} <value> --stack ${stack}\` to encrypt it`);
  }
  const nonSecret = Object.fromEntries(Object.entries(raw).filter(([k]) => !(SECRET_KEYS as readonly string[]).includes(k)));
  let parsed = ProfileSchema.safeParse(nonSecret, { reportInput: true });
  if (!parsed.success && parsed.error.issues.every((i) => i.code === "unrecognized_keys")) {
    // Only misspelt keys: report them, and check the rest without them, so
    // one run lists every problem rather than one layer at a time.
    errors.push(...parsed.error.issues.flatMap(formatIssue));
    parsed = ProfileSchema.safeParse(withoutKeys(nonSecret, parsed.error.issues), { reportInput: true });
  }
  if (!parsed.success) {
    return { ok: false, errors: [...errors, ...parsed.error.issues.flatMap(formatIssue)], warnings };
  }
  const cfg = parsed.data;

  const vllmVersion = cfg.image.vllmVersion ?? versionFromTag(cfg.image.tag)!;
  const table = flagTable(vllmVersion);
  if (!table) {
    errors.push(`${cfg.image.vllmVersion ? "image.vllmVersion" : "image.tag"}: vLLM ${vllmVersion} is not in the flag catalog (known: ${supportedVersions().join(", ")}); pin one of those releases`);
  }
  if (cfg.vllm.tensorParallelSize !== cfg.host.gpus.length) {
    errors.push(`vllm.tensorParallelSize: is ${cfg.vllm.tensorParallelSize} but host.gpus lists ${cfg.host.gpus.length} GPU(s); vLLM runs one rank per GPU, so make them equal`);
  }
  if (!(cfg.vllm.kvCacheDtype in KV_CACHE_DTYPE_BYTES)) {
    errors.push(`vllm.kvCacheDtype: "${cfg.vllm.kvCacheDtype}" is not a KV cache dtype; use one of ${Object.keys(KV_CACHE_DTYPE_BYTES).join(", ")}`);
  }
  for (const flag of cfg.vllm.extraArgs) {
    const name = flag.split("=")[0].replace(/_/g, "-");
    if (SECRET_FLAGS.includes(name)) {
      errors.push(`vllm.extraArgs: ${name} would put a secret in the container's argv, visible to docker inspect and ps; set it as the ${name === "--api-key" ? "apiKey" : "hfToken"} secret instead`);
    }
  }
  const argv = renderArgv(serveArgs(cfg));
  if (table) {
    for (const issue of checkArgv(table, argv)) {
      const fromExtra = cfg.vllm.extraArgs.some((a) => a.split("=")[0].replace(/_/g, "-").startsWith(issue.flag));
      const path = fromExtra ? "vllm.extraArgs" : (FLAG_PATHS[issue.flag] ?? "vllm");
      errors.push(`${path}: ${issue.flag} ${issue.message}`);
    }
  }
  const model = footprintOf(cfg, errors);
  if (model && cfg.vision && !model.vision) {
    errors.push(`vision: ${cfg.model.id} takes no images; remove the vision section or pick a vision-language model`);
  }
  const ropeOverride = cfg.vllm.extraArgs.some((a) => /rope|hf-overrides|hf_overrides/.test(a));
  if (model && cfg.vllm.maxModelLen > model.maxPos && !ropeOverride) {
    errors.push(`vllm.maxModelLen: ${cfg.vllm.maxModelLen} is above ${cfg.model.id}'s trained context of ${model.maxPos} tokens; lower it, or add rope scaling (YaRN) through vllm.extraArgs`);
  }
  if (!model || !(cfg.vllm.kvCacheDtype in KV_CACHE_DTYPE_BYTES)) return { ok: false, errors, warnings };

  const memory = planMemory({
    model: model.footprint,
    tensorParallelSize: cfg.vllm.tensorParallelSize,
    kvCacheDtype: cfg.vllm.kvCacheDtype,
    gpuMemoryUtilization: cfg.vllm.gpuMemoryUtilization,
    gpuMemoryMiB: cfg.host.gpuMemoryMiB,
    maxModelLen: cfg.vllm.maxModelLen,
    overheadMiB: model.overheadMiB,
  });
  const g = (mib: number) => `${(mib / 1024).toFixed(2)} GiB`;
  if (memory.kvCacheMiB <= 0) {
    errors.push(`vllm.gpuMemoryUtilization: ${cfg.vllm.gpuMemoryUtilization} × ${cfg.host.gpuMemoryMiB} MiB gives ${g(memory.budgetMiB)} per GPU, less than the weights (${g(memory.weightsMiB)}) plus overhead (${g(memory.overheadMiB)}); raise it or spread the model over more GPUs`);
  } else if (!memory.fits) {
    errors.push(`vllm.maxModelLen: one ${cfg.vllm.maxModelLen}-token sequence needs ${g(memory.sequenceMiB)} of KV cache per GPU, but only ${g(memory.kvCacheMiB)} is left after weights (${g(memory.weightsMiB)}) and overhead (${g(memory.overheadMiB)}); the largest max-model-len that fits is ${memory.maxFittingModelLen}: lower vllm.maxModelLen to at most that, or raise vllm.gpuMemoryUtilization`);
  } else if (memory.concurrentSequences < 2) {
    warnings.push(`vllm.maxModelLen: the KV cache holds only ${memory.concurrentSequences} full-length sequence at a time; expect queueing under load`);
  }
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, profile: { ...cfg, vllmVersion, footprint: model.footprint, argv, memory }, warnings };
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


/**
 * Renders the argv that follows `vllm serve` from typed settings. Pure.
 * Secrets never appear here: the API key and the HF token reach vLLM through
 * the environment (VLLM_API_KEY, HF_TOKEN), so `docker inspect` and `ps`
 * never show them.
 */

export interface VisionArgs {
  /** Items per prompt by modality, e.g. { image: 3, video: 0 }. */
  limitMmPerPrompt: Record<string, number>;
  /** Largest image, in pixels, the processor resizes to (Qwen-VL's max_pixels). */
  maxPixels?: number;
  /** Skip profiling with a worst-case multimodal input at start-up. */
  skipMmProfiling?: boolean;
  /** "data" keeps the vision encoder whole on each GPU; "weights" splits it. */
  mmEncoderTpMode?: string;
}

export interface ServeArgs {
  model: string;
  servedModelName?: string;
  host?: string;
  port: number;
  tensorParallelSize: number;
  gpuMemoryUtilization: number;
  maxModelLen: number;
  quantization?: string;
  dtype?: string;
  kvCacheDtype?: string;
  enableChunkedPrefill?: boolean;
  enableAutoToolChoice?: boolean;
  toolCallParser?: string;
  distributedExecutorBackend?: string;
  maxNumSeqs?: number;
  vision?: VisionArgs;
  /** --enable-sleep-mode (standby): sleeping frees the GPUs. */
  enableSleepMode?: boolean;
  /** Extra flags, appended verbatim (and checked like the rest). */
  extraArgs?: readonly string[];
}

/** Flags that would put a secret into the argv. */
export const SECRET_FLAGS: readonly string[] = ["--api-key", "--hf-token"];

export function renderArgv(a: ServeArgs): string[] {
  const argv: string[] = [a.model];
  const opt = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) argv.push(flag, String(value));
  };
  const on = (flag: string, value: boolean | undefined) => {
    if (value) argv.push(flag);
  };
  opt("--served-model-name", a.servedModelName);
  opt("--host", a.host ?? "0.0.0.0");
  opt("--port", a.port);
  opt("--tensor-parallel-size", a.tensorParallelSize);
  opt("--gpu-memory-utilization", a.gpuMemoryUtilization);
  opt("--max-model-len", a.maxModelLen);
  opt("--quantization", a.quantization);
  opt("--dtype", a.dtype);
  opt("--kv-cache-dtype", a.kvCacheDtype);
  on("--enable-chunked-prefill", a.enableChunkedPrefill);
  opt("--max-num-seqs", a.maxNumSeqs);
  opt("--distributed-executor-backend", a.distributedExecutorBackend);
  on("--enable-auto-tool-choice", a.enableAutoToolChoice);
  opt("--tool-call-parser", a.toolCallParser);
  if (a.vision) {
    // JSON, not the old `image=3,video=0` form, which vLLM dropped.
    opt("--limit-mm-per-prompt", JSON.stringify(a.vision.limitMmPerPrompt));
    if (a.vision.maxPixels !== undefined) {
      opt("--mm-processor-kwargs", JSON.stringify({ max_pixels: a.vision.maxPixels }));
    }
    on("--skip-mm-profiling", a.vision.skipMmProfiling);
    opt("--mm-encoder-tp-mode", a.vision.mmEncoderTpMode);
  }
  on("--enable-sleep-mode", a.enableSleepMode);
  argv.push(...(a.extraArgs ?? []));
  return argv;
}

/** The argv as one shell-quoted line, for people to read and paste. */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((t) => (/^[\w@%+=:,./-]+$/.test(t) ? t : `'${t.replace(/'/g, `'\\''`)}'`)).join(" ");
}

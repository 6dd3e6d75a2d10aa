/**
 * Per-GPU memory estimate for a vLLM deployment.
 *
 * Pure: it knows vLLM's accounting, nothing of Pulumi or of our config file.
 * vLLM reserves `gpuMemoryUtilization × total` on each GPU, loads its shard of
 * the weights, keeps room for activations and non-torch allocations (CUDA
 * context, NCCL buffers, CUDA graphs), and gives the rest to the KV cache. It
 * refuses to start when the KV cache cannot hold one sequence of
 * `maxModelLen` tokens ("The model's max seq len (N) is larger than the maximum
 * number of tokens that can be stored in KV cache"), which is the check here.
 */

const MiB = 1024 * 1024;

/** Bytes per element of each KV cache dtype vLLM accepts. */
export const KV_CACHE_DTYPE_BYTES: Readonly<Record<string, number>> = {
  auto: 2, // the model's dtype; both our models compute in bf16
  bfloat16: 2,
  float16: 2,
  fp8: 1,
  fp8_e4m3: 1,
  fp8_e5m2: 1,
  fp8_inc: 1,
  fp8_ds_mla: 1,
};

/** What the estimate needs to know about the model. */
export interface ModelFootprint {
  /** Decoder layers that hold a KV cache. */
  layers: number;
  /** Key/value heads (GQA groups). */
  kvHeads: number;
  /** Size of one attention head. */
  headDim: number;
  /** Total size of the checkpoint's weight files, bytes. */
  checkpointBytes: number;
  /**
   * Bytes of weights that stay whole on every GPU instead of being split by
   * tensor parallelism (e.g. a vision encoder with `--mm-encoder-tp-mode data`).
   */
  replicatedBytes?: number;
}

export interface MemoryPlanInput {
  model: ModelFootprint;
  tensorParallelSize: number;
  /** vLLM's `--kv-cache-dtype`. */
  kvCacheDtype: string;
  /** vLLM's `--gpu-memory-utilization`, in (0, 1]. */
  gpuMemoryUtilization: number;
  /** Memory of the smallest GPU the model runs on, MiB (as nvidia-smi reports). */
  gpuMemoryMiB: number;
  /** vLLM's `--max-model-len`. */
  maxModelLen: number;
  /** Activations, CUDA graphs and non-torch memory per GPU, MiB. */
  overheadMiB: number;
}

export interface MemoryPlan {
  /** Memory vLLM may use on each GPU. */
  budgetMiB: number;
  /** This GPU's share of the weights. */
  weightsMiB: number;
  overheadMiB: number;
  /** What is left for the KV cache after weights and overhead. */
  kvCacheMiB: number;
  /** KV cache bytes one token takes on one GPU. */
  kvBytesPerToken: number;
  /** KV cache one sequence of maxModelLen tokens needs on one GPU. */
  sequenceMiB: number;
  /** kvCacheMiB − sequenceMiB: negative means vLLM refuses to start. */
  leftMiB: number;
  /** Sequences of maxModelLen that fit at once. */
  concurrentSequences: number;
  /** Largest max-model-len the KV cache can hold (a multiple of 1024), 0 if none. */
  maxFittingModelLen: number;
  fits: boolean;
}

export function kvBytesPerToken(model: ModelFootprint, tensorParallelSize: number, kvCacheDtype: string): number {
  const bytes = KV_CACHE_DTYPE_BYTES[kvCacheDtype];
  if (bytes === undefined) {
    throw new Error(`unknown KV cache dtype "${kvCacheDtype}"`);
  }
  // KV heads are split across tensor-parallel ranks; with more ranks than KV
  // heads, vLLM replicates them, so a rank never holds less than one head.
  const headsPerGpu = Math.max(1, Math.ceil(model.kvHeads / tensorParallelSize));
  return 2 /* K and V */ * model.layers * headsPerGpu * model.headDim * bytes;
}

export function planMemory(input: MemoryPlanInput): MemoryPlan {
  const { model, tensorParallelSize: tp } = input;
  const budgetMiB = input.gpuMemoryMiB * input.gpuMemoryUtilization;
  const replicated = model.replicatedBytes ?? 0;
  const weightsMiB = ((model.checkpointBytes - replicated) / tp + replicated) / MiB;
  const kvCacheMiB = budgetMiB - weightsMiB - input.overheadMiB;
  const perToken = kvBytesPerToken(model, tp, input.kvCacheDtype);
  const sequenceMiB = (input.maxModelLen * perToken) / MiB;
  const fittingTokens = kvCacheMiB > 0 ? Math.floor((kvCacheMiB * MiB) / perToken) : 0;
  return {
    budgetMiB,
    weightsMiB,
    overheadMiB: input.overheadMiB,
    kvCacheMiB,
    kvBytesPerToken: perToken,
    sequenceMiB,
    leftMiB: kvCacheMiB - sequenceMiB,
    concurrentSequences: fittingTokens > 0 ? Math.floor(fittingTokens / input.maxModelLen) : 0,
    maxFittingModelLen: Math.floor(fittingTokens / 1024) * 1024,
    fits: kvCacheMiB >= sequenceMiB,
  };
}

/** The plan as a small fixed-width table, for preview output and `check`. */
export function formatMemoryTable(plan: MemoryPlan, gpuMemoryMiB: number, maxModelLen: number): string {
  const gib = (mib: number) => `${(mib / 1024).toFixed(2)} GiB`;
  const rows: [string, string][] = [
    ["GPU memory", gib(gpuMemoryMiB)],
    ["budget (utilization)", gib(plan.budgetMiB)],
    ["weights (this GPU's share)", gib(plan.weightsMiB)],
    ["activations + non-torch", gib(plan.overheadMiB)],
    ["KV cache available", gib(plan.kvCacheMiB)],
    [`one ${maxModelLen}-token sequence`, gib(plan.sequenceMiB)],
    ["left", gib(plan.leftMiB)],
    ["max-model-len that fits", String(plan.maxFittingModelLen)],
    ["full-length sequences at once", String(plan.concurrentSequences)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v.padStart(11)}`).join("\n");
}

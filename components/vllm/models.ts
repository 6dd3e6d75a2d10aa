/**
 * Architecture numbers of the models we know, with where each came from.
 * Any other model gives the same numbers in its stack config (model.footprint).
 * The Hugging Face hub is out of reach from our CI, so these are copied from
 * public copies of each model's config.json; see the sources.
 */
import type { ModelFootprint } from "./memory";

const GB = 1e9;

export interface KnownModel {
  footprint: ModelFootprint;
  /** Context the model was trained for (config.json max_position_embeddings). */
  maxPositionEmbeddings: number;
  /** Activations, CUDA graphs and non-torch memory per GPU at TP2, MiB. */
  overheadMiB: number;
  vision: boolean;
  /** The dtype of the unquantized weights (config.json torch_dtype), where a source gives it. */
  dtype?: "bfloat16" | "float16" | "float32";
  sources: string[];
}

export const KNOWN_MODELS: Readonly<Record<string, KnownModel>> = {
  "Qwen/Qwen3-32B-AWQ": {
    footprint: {
      layers: 64,
      kvHeads: 8,
      headDim: 128,
      // AWQ 4-bit linear layers plus fp16 embeddings and lm_head: 19.33 GB,
      // computed from the architecture and matched by a vLLM log that loads
      // 4.58 GiB on each of 4 GPUs (18.32 GiB in all).
      checkpointBytes: 19.33 * GB,
    },
    maxPositionEmbeddings: 40960,
    // vLLM V1 logs at TP2 on 24-32 GB cards: ~1.6 GiB activation peak, ~0.1
    // GiB CUDA graphs, 0.2-0.5 GiB non-torch (NCCL). V0 logs of this very
    // checkpoint showed 2.74 GiB, but at 32k batched tokens; chunked prefill
    // keeps batches far smaller.
    overheadMiB: 2048,
    vision: false,
    sources: [
      "config.json of Qwen/Qwen3-32B (same architecture), copied in citsjtu2020/LLM-Prof sglang/Model_Config.md",
      "vllm-project/recipes models/Qwen/Qwen3-32B.yaml (context_length 40960)",
      "QwenLM/Qwen3 docs/source/inference/transformers.md (32768 native, 131072 with YaRN factor 4)",
      "jackypanster/qwen3-32b-awq log.output (vLLM memory profile of this checkpoint)",
    ],
  },
  "Qwen/Qwen3-VL-32B-Instruct-FP8": {
    footprint: {
      layers: 64,
      kvHeads: 8,
      headDim: 128,
      // 33.36B parameters: FP8 (block 128) linear layers, bf16 embeddings,
      // lm_head and vision tower: 35.5 GB.
      checkpointBytes: 35.5 * GB,
      // The vision tower (27 blocks of width 1152 plus mergers, ~0.59B
      // parameters in bf16) stays whole on each GPU with --mm-encoder-tp-mode
      // data. Counted only when that mode is on (see replicatedBytes in the schema).
      replicatedBytes: 1.18 * GB,
    },
    maxPositionEmbeddings: 262144,
    // No 4090 log for this model was found: the text model's figures (same
    // text tower). Multimodal profiling is skipped, so no worst-case image is
    // reserved; a larger overhead can be set in model.overheadMiB.
    overheadMiB: 2048,
    vision: true,
    // Vision tower, embeddings and lm_head stay bf16 (the FP8 checkpoint's
    // config.json torch_dtype; Qwen3-VL ships bf16).
    dtype: "bfloat16",
    sources: [
      "config.json text_config/vision_config of Qwen3-VL-32B (huggingface.co/quanliang/F1 config.json, same shape; parameter count 33,357,390,064 matches the published one)",
      "Qwen3-VL model card: 256K native context",
      "vllm-project/recipes Qwen/Qwen3-VL.md (flags used by the vLLM team)",
    ],
  },
};

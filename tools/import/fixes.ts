/**
 * Rewrites of old `vllm serve` spellings into what the pinned release takes.
 * Pure. Each rewrite says why and cites where the rule comes from, for the
 * importer's report; where no rewrite means the same thing, it says so and
 * the import asks the user to choose.
 */
import type { FlagTable, RemovedFlag } from "../../components/vllm/catalog";

/** A value a JSON flag may be given: an object of scalars. */
export type JsonRecord = Record<string, string | number | boolean>;

const scalar = (v: string): string | number | boolean => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v === "true" ? true : v === "false" ? false : v);

/**
 * A JSON flag's value in any syntax vLLM has had: JSON (`{"image": 3}`), the
 * pre-0.10 `key=value,key=value` form, and the `key:value` form some guides
 * used. Returns undefined when it is none of these.
 */
export function parseJsonRecord(value: string): { record: JsonRecord; syntax: "json" | "key=value" | "key:value" } | undefined {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return { record: parsed as JsonRecord, syntax: "json" };
    return undefined;
  } catch {
    // not JSON: try the older forms below
  }
  for (const sep of ["=", ":"] as const) {
    const pair = new RegExp(`^\\s*([A-Za-z_][\\w.-]*)\\s*${sep}\\s*([^,${sep}]+?)\\s*$`);
    const parts = value.split(",").map((p) => pair.exec(p));
    if (parts.length > 0 && parts.every((m) => m !== null)) {
      return { record: Object.fromEntries(parts.map((m) => [m![1], scalar(m![2])])), syntax: sep === "=" ? "key=value" : "key:value" };
    }
  }
  return undefined;
}

/** Spellings people use for a choice, keyed by flag: the value vLLM means by it. */
const CHOICE_ALIASES: Record<string, Record<string, string>> = {
  "--dtype": { bf16: "bfloat16", fp16: "float16", fp32: "float32", "torch.bfloat16": "bfloat16", "torch.float16": "float16" },
  "--kv-cache-dtype": { fp8_e4m3fn: "fp8_e4m3", float8: "fp8", "fp8-e4m3": "fp8_e4m3", "fp8-e5m2": "fp8_e5m2", bf16: "bfloat16", fp16: "float16" },
  "--quantization": { "awq-marlin": "awq_marlin", "gptq-marlin": "gptq_marlin" },
};

/** A value vLLM never had, and the choice that does what it says, with vLLM's own words for why. */
export interface MeantChoice {
  value: string;
  reason: string;
  source: string;
}

// Values that are not a spelling of a choice but name what one does.
// "Replicate the encoder on every rank" is what `data` does; `weights` splits
// it. vLLM's docstring of the field says so.
const REPLICATED_ENCODER: MeantChoice = {
  value: "data",
  reason: `vLLM has no "replicate" mode; its docstring for this field says "data" splits "the batched input data across TP ranks to process the data in parallel, while hosting the full weights on each TP rank", i.e. a replicated encoder ("weights" splits the encoder's weights instead)`,
  source: "vLLM vllm/config/multimodal.py, MultiModalConfig.mm_encoder_tp_mode docstring (as in the 0.21.0 wheel)",
};

const CHOICE_MEANINGS: Record<string, Record<string, MeantChoice>> = {
  "--mm-encoder-tp-mode": { replicate: REPLICATED_ENCODER, replicated: REPLICATED_ENCODER },
};

/**
 * The choice a value names by what it does (`--mm-encoder-tp-mode
 * replicate` → data), when that choice exists in the pinned release.
 */
export function meantChoice(flag: string, value: string, allowed: readonly string[]): MeantChoice | undefined {
  const meant = CHOICE_MEANINGS[flag]?.[value.toLowerCase()];
  return meant && allowed.includes(meant.value) ? meant : undefined;
}

/**
 * The choice `value` was meant to be, for a flag with choices or known
 * values: an alias, or the one choice equal to it ignoring case and - vs _.
 * Undefined when nothing matches for sure.
 */
export function intendedChoice(flag: string, value: string, allowed: readonly string[]): string | undefined {
  const alias = CHOICE_ALIASES[flag]?.[value.toLowerCase()];
  if (alias && allowed.includes(alias)) return alias;
  const norm = (s: string) => s.toLowerCase().replace(/-/g, "_");
  const hits = allowed.filter((a) => norm(a) === norm(value));
  return hits.length === 1 ? hits[0] : undefined;
}

/** What to do with a flag the pinned release removed. */
export type RemovedFix =
  | { kind: "drop"; reason: string }
  | { kind: "rewrite"; tokens: string[]; reason: string }
  | { kind: "setting"; key: "vision.mmEncoderTpMode"; value: string; reason: string }
  | { kind: "choose"; reason: string };

/** "vllm-project/vllm PR #36216", or the release, for the report's source column. */
export function removedSource(r: RemovedFlag): string {
  const pr = /PR #\d+/.exec(r.evidence)?.[0];
  return pr ? `vllm-project/vllm ${pr} (removed in ${r.removedIn})` : `removed in vLLM ${r.removedIn}`;
}

/**
 * The fix for a removed flag with its values. Flags removed without a
 * replacement are dropped (they had no effect, or the feature is gone);
 * those with a mechanical replacement are rewritten; the rest need a person.
 */
export function fixRemovedFlag(r: RemovedFlag & { note?: string }, values: readonly string[]): RemovedFix {
  const what = `removed in vLLM ${r.removedIn}`;
  switch (r.flag) {
    case "--disable-log-requests":
      return { kind: "drop", reason: `${what}; request logging has been off by default since 0.10.1 (--enable-log-requests turns it on)` };
    case "--no-disable-log-requests":
      return { kind: "rewrite", tokens: ["--enable-log-requests"], reason: `${what}; --enable-log-requests is its replacement` };
    case "--enable-multimodal-encoder-data-parallel":
      return { kind: "setting", key: "vision.mmEncoderTpMode", value: "data", reason: `${what}; --mm-encoder-tp-mode data is its replacement` };
    case "--disable-mm-preprocessor-cache":
      return { kind: "rewrite", tokens: ["--mm-processor-cache-gb", "0"], reason: `${what}; --mm-processor-cache-gb 0 is its replacement` };
    case "--override-pooler-config":
      return { kind: "rewrite", tokens: ["--pooler-config", ...values], reason: `${what}; --pooler-config is its replacement, with the same JSON` };
    case "--rope-scaling":
    case "--rope-theta": {
      const key = r.flag === "--rope-scaling" ? "rope_scaling" : "rope_theta";
      const parsed = r.flag === "--rope-scaling" ? parseJsonRecord(values[0] ?? "")?.record : Number(values[0]);
      if (parsed === undefined || (typeof parsed === "number" && !Number.isFinite(parsed))) {
        return { kind: "choose", reason: `${what}; its value ${JSON.stringify(values.join(" "))} is not one --hf-overrides can carry; write --hf-overrides '{"${key}": ...}' by hand` };
      }
      return { kind: "rewrite", tokens: ["--hf-overrides", JSON.stringify({ [key]: parsed })], reason: `${what}; --hf-overrides with the same ${key} is what vLLM's deprecation warning asked for` };
    }
  }
  if (r.replacement === null) return { kind: "drop", reason: `${what}${r.note ? `: ${r.note}` : ""}; nothing replaces it` };
  return { kind: "choose", reason: `${what}; its replacement is ${r.replacement}` };
}

/** The removal record for a flag the pinned table does not have. */
export function removedFlag(table: FlagTable, flag: string): (RemovedFlag & { note?: string }) | undefined {
  return table.removed.find((r) => r.flag === flag);
}

/**
 * The vLLM flag catalog: which flags `vllm serve` accepts at each supported
 * release, their value syntax and choices, and which were removed.
 *
 * The tables in ./flags/v<version>.json are built from each release's own
 * `vllm serve` parser (`npm run catalog -- --vllm <version>`, tools/catalog.ts:
 * the PyPI wheel, its argparse actions dumped); each table names its commit
 * and files. Pure: no Pulumi, no config file.
 *
 * The check is at least as strict as vLLM's parser and stricter in one way on
 * purpose: vLLM (argparse) accepts an unambiguous prefix of a flag, which can
 * change meaning when a later release adds a flag with the same prefix. We ask
 * for the full name instead.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface FlagSpec {
  names: string[];
  action: "store" | "store_true" | "store_false" | "boolean_optional" | "append" | "help" | "version";
  type?: "str" | "int" | "float" | "json" | "human_int" | "bool_str" | null;
  nargs?: "+" | "*" | "?" | null;
  choices?: (string | number)[] | null;
  /**
   * Values vLLM checks after parsing (registered tool parsers, quantization
   * methods): a bad one passes argparse but fails at start-up with exit 1.
   */
  knownValues?: string[];
  /** Extra literals the type accepts (e.g. max-model-len "auto"). */
  alsoAccepts?: string[];
  /** The flag takes the literal None. */
  acceptsNone?: boolean;
  source?: string;
}

export interface RemovedFlag {
  flag: string;
  removedIn: string;
  replacement: string | null;
  evidence: string;
}

export interface FlagTable {
  vllm: string;
  released: string;
  source: { repo: string; commit: string; files: string[] };
  positional: { name: string; nargs: string | null }[];
  options: FlagSpec[];
  removed: RemovedFlag[];
}

/** One thing wrong with an argv, for one flag. The message says what to do. */
export interface ArgvIssue {
  flag: string;
  message: string;
}

const FLAGS_DIR = join(__dirname, "flags");
const tables = new Map<string, FlagTable>();

function loadTables(): Map<string, FlagTable> {
  if (tables.size === 0) {
    for (const file of readdirSync(FLAGS_DIR).filter((f) => /^v\d+\.\d+\.\d+\.json$/.test(f))) {
      const table = JSON.parse(readFileSync(join(FLAGS_DIR, file), "utf8")) as FlagTable;
      tables.set(table.vllm, table);
    }
  }
  return tables;
}

/** The vLLM releases the catalog knows, oldest first. */
export function supportedVersions(): string[] {
  return [...loadTables().keys()].sort(compareVersions);
}

/** The command that adds a release's table to the catalog (tools/catalog.ts). */
export function addReleaseCommand(version: string): string {
  return `npm run catalog -- --vllm ${version}`;
}

/** Why a release is not usable, and the two ways out: a catalogued release, or adding this one. */
export function notCataloguedAdvice(version: string): string {
  return `vLLM ${version} is not in the flag catalog (known: ${supportedVersions().join(", ")}); pin one of those releases, or add it with \`${addReleaseCommand(version)}\``;
}

export function flagTable(version: string): FlagTable | undefined {
  return loadTables().get(version);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** "v0.11.0", "v0.11.0-cu128" or "0.11.0" → "0.11.0"; anything else → undefined. */
export function versionFromTag(tag: string): string | undefined {
  return /^v?(\d+\.\d+\.\d+)(?:[-+].*)?$/.exec(tag)?.[1];
}

/** vLLM's FlexibleArgumentParser turns underscores in a flag's name into dashes. */
function normaliseName(name: string): string {
  return name.startsWith("--") ? `--${name.slice(2).replace(/_/g, "-")}` : name;
}

function index(table: FlagTable): Map<string, FlagSpec> {
  const byName = new Map<string, FlagSpec>();
  for (const spec of table.options) for (const n of spec.names) byName.set(n, spec);
  return byName;
}

function checkValue(spec: FlagSpec, value: string, version: string): string | undefined {
  if (spec.alsoAccepts?.includes(value) || (spec.acceptsNone && value === "None")) return undefined;
  const t = spec.type ?? "str";
  if (t === "int" && !/^[-+]?\d+$/.test(value)) return `"${value}" is not an integer, which vLLM ${version} requires; write a whole number`;
  if (t === "float" && (value.trim() === "" || !Number.isFinite(Number(value)))) return `"${value}" is not a number, which vLLM ${version} requires; write one such as 0.9`;
  if (t === "human_int" && !/^\d+(\.\d+)?[kKmMgGtT]?$/.test(value)) {
    return `"${value}" is not a token count, which vLLM ${version} requires; write one such as 32768 or 32k`;
  }
  if (t === "json") {
    try {
      JSON.parse(value);
    } catch (e) {
      return `"${value}" is not valid JSON (${(e as Error).message}), and vLLM ${version} parses it with json.loads; write it as JSON, e.g. '{"image": 3}'`;
    }
  }
  // Some tables list numeric choices (e.g. block sizes); argv values are text.
  const choices = spec.choices?.map(String);
  if (choices && !choices.includes(value)) {
    return `"${value}" is not one of ${choices.map((c) => `"${c}"`).join(", ")} in vLLM ${version}; use one of those`;
  }
  if (spec.knownValues && !spec.knownValues.includes(value)) {
    return `"${value}" is not one vLLM ${version} knows (${spec.knownValues.join(", ")}), so it would fail at start-up; use one of those`;
  }
  return undefined;
}

/**
 * What to do about a removed flag, as one clause. The tables' replacement
 * texts are notes from the extraction, some several sentences long; where
 * one does not read as "use <it> instead", the clause is written here.
 */
const REMOVED_ADVICE: Record<string, string> = {
  "--no-enable-reasoning": "drop it, and omit --reasoning-parser to keep reasoning off",
  "--expand-tools-even-if-tool-choice-none": "drop it, since tools are always included now (--exclude-tools-when-tool-choice-none gives the old default)",
  "--no-disable-mm-preprocessor-cache": "drop it, since the preprocessor cache is on by default (--mm-processor-cache-gb sizes it)",
  "--no-guided-decoding-disable-additional-properties": "use --guided-decoding-disable-additional-properties false in vLLM 0.11, or --structured-outputs-config.disable_additional_properties false from 0.12, instead",
  "--no-guided-decoding-disable-any-whitespace": "use --guided-decoding-disable-any-whitespace false in vLLM 0.11, or --structured-outputs-config.disable_any_whitespace false from 0.12, instead",
  "--no-guided-decoding-disable-fallback": "use --guided-decoding-disable-fallback false in vLLM 0.11, or --structured-outputs-config.disable_fallback false from 0.12, instead",
  "--max-seq-len-to-capture": "set the CUDA graph capture sizes in --compilation-config (cudagraph_capture_sizes or max_cudagraph_capture_size) instead",
  "--rope-scaling": `use --hf-overrides '{"rope_scaling": {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}}' instead (the key is rope_parameters with Transformers v5; there is no --rope-parameters flag)`,
  "--rope-theta": `use --hf-overrides '{"rope_theta": <float>}' instead (inside rope_parameters with Transformers v5)`,
  "-O": "use --optimization-level <n>, or -cc for --compilation-config, instead",
  "--disable-log-requests": "drop it, since request logging is off by default (--enable-log-requests turns it on)",
};

export function removedAdvice(r: RemovedFlag): string {
  return REMOVED_ADVICE[r.flag] ?? (r.replacement ? `use ${r.replacement} instead` : "drop it");
}

/**
 * Checks an argv (what follows `vllm serve`) against one release's table.
 * Returns one issue per problem; an empty list means vLLM will parse it.
 */
export function checkArgv(table: FlagTable, argv: readonly string[]): ArgvIssue[] {
  const byName = index(table);
  const issues: ArgvIssue[] = [];
  const v = table.vllm;
  let positionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith("-") || token === "-" || /^-\d/.test(token)) {
      positionals++;
      if (positionals > table.positional.length) {
        issues.push({ flag: token, message: `unexpected value "${token}": vLLM ${v} takes at most ${table.positional.length} positional argument(s); put it after the flag it belongs to` });
      }
      continue;
    }
    const eq = token.indexOf("=");
    const rawName = eq >= 0 ? token.slice(0, eq) : token;
    const inline = eq >= 0 ? token.slice(eq + 1) : undefined;
    let name = normaliseName(rawName);
    let spec = byName.get(name);
    let dotted = false;
    if (!spec && name.includes(".")) {
      // `--limit-mm-per-prompt.image 3`: a sub-key of a JSON flag.
      const base = byName.get(name.slice(0, name.indexOf(".")));
      if (base && base.type === "json") {
        spec = base;
        dotted = true;
        name = name.slice(0, name.indexOf("."));
      }
    }
    if (!spec) {
      const removed = table.removed.find((r) => r.flag === name);
      if (removed) {
        const pr = /PR #\d+/.exec(removed.evidence)?.[0];
        issues.push({ flag: name, message: `was removed in vLLM ${removed.removedIn}${pr ? ` (vllm-project/vllm ${pr})` : ""}; the pinned vLLM ${v} rejects it: ${removedAdvice(removed)}` });
      } else {
        const prefixed = [...byName.keys()].filter((k) => k.startsWith(name));
        const elsewhere = supportedVersions().filter((o) => o !== v && flagTable(o)!.options.some((s) => s.names.includes(name)));
        issues.push({
          flag: name,
          message:
            prefixed.length > 0
              ? `is not a full flag name in vLLM ${v} (it abbreviates ${prefixed.slice(0, 4).join(", ")}); write the full name`
              : elsewhere.length > 0
                ? `is not a flag of vLLM ${v} (vLLM ${elsewhere.join(", ")} has it); pin one of those releases in image.tag, or drop it`
                : `is not a flag of vLLM ${v}; check the name against \`vllm serve --help\` for ${v}`,
        });
      }
      if (inline === undefined && i + 1 < argv.length && !argv[i + 1].startsWith("-")) i++;
      continue;
    }
    if (name === "--model") {
      // `vllm serve` takes the model as its positional argument: 0.11 refuses
      // a --model token outright, and from 0.20 it displaces the positional.
      issues.push({ flag: name, message: `is not for \`vllm serve\` in vLLM ${v}: the model is its positional argument (model.id); remove it` });
      if (inline === undefined && i + 1 < argv.length && !argv[i + 1].startsWith("-")) i++;
      continue;
    }
    if (spec.action !== "store" && spec.action !== "append") {
      if (inline !== undefined) issues.push({ flag: name, message: `takes no value in vLLM ${v}; write ${rawName} alone` });
      continue;
    }
    const values: string[] = [];
    if (inline !== undefined) {
      values.push(inline);
    } else {
      const many = spec.nargs === "+" || spec.nargs === "*";
      while (i + 1 < argv.length && !(argv[i + 1].startsWith("--") || /^-[a-zA-Z]/.test(argv[i + 1]))) {
        values.push(argv[++i]);
        if (!many) break;
      }
    }
    if (values.length === 0 && spec.nargs !== "?" && spec.nargs !== "*") {
      issues.push({ flag: name, message: `expects a value in vLLM ${v}; put it after the flag` });
      continue;
    }
    if (dotted) continue; // a sub-key's value may be any scalar; vLLM coerces it
    for (const value of values) {
      const problem = checkValue(spec, value, v);
      if (problem) issues.push({ flag: name, message: problem });
    }
  }
  return issues;
}

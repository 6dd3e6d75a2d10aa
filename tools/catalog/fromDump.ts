/**
 * From a dump of vLLM's `vllm serve` parser (tools/catalog/dump_parser.py) to
 * our flag table (components/vllm/flags/v<version>.json). Pure: the same dump
 * and tables give the same table, byte for byte once serialised.
 *
 * What the parser cannot say is kept from the tables we have: the curated
 * evidence of a release already catalogued (its branch-point commit, notes,
 * the PR behind each removal), and the removals listed for the previous
 * release.
 */
import type { FlagSpec, FlagTable, RemovedFlag } from "../../components/vllm/catalog";
import type { DumpAction, DumpType, ParserDump } from "./dump";

/** Where the table came from, besides the dump. */
export interface ReleaseMeta {
  /** The release's first upload to PyPI, ISO 8601 UTC. */
  uploaded: string;
  /** Which PyPI API gave `uploaded`. */
  uploadedFrom: string;
  /** The wheel's file name. */
  wheel: string;
}

/** An option as the table holds it, with the keys our tables may add. */
type Option = FlagSpec & Record<string, unknown>;

const ACTIONS: Record<string, FlagSpec["action"]> = {
  _StoreAction: "store",
  _StoreTrueAction: "store_true",
  _StoreFalseAction: "store_false",
  BooleanOptionalAction: "boolean_optional",
  _AppendAction: "append",
  _HelpAction: "help",
  _VersionAction: "version",
  // A vLLM Action subclass with its own __call__ (LoRAParserAction, the
  // deprecated --log-config-file): it consumes values like a store.
  Action: "store",
};

/** Plain type callables, by module:qualname. */
const TYPES: Record<string, NonNullable<FlagSpec["type"]>> = {
  "builtins:str": "str",
  "builtins:int": "int",
  "builtins:float": "float",
  "builtins:bool": "bool_str",
  "json:loads": "json",
};

/** The type of a value in our vocabulary, plus what it also accepts. */
export interface MappedType {
  type: NonNullable<FlagSpec["type"]>;
  acceptsNone?: boolean;
  alsoAcceptsPlainString?: boolean;
  alsoAccepts?: string[];
  note?: string;
}

/**
 * Reads a type callable of vLLM's parser. Throws on one it does not know, so
 * a new wrapper in a new release is looked at, not guessed.
 */
export function mapType(t: DumpType, flag: string): MappedType {
  const fn = t.name.split(":")[1] ?? t.name;
  if (TYPES[t.name]) return { type: TYPES[t.name] };
  if (fn === "optional_type.<locals>._optional_type" || fn === "parse_type.<locals>._parse_type") {
    if (!t.wraps || t.wraps.length !== 1) throw new Error(`${flag}: ${t.name} wraps ${t.wraps?.length ?? 0} callables`);
    const inner = mapType(t.wraps[0], flag);
    return fn.startsWith("optional_type") ? { ...inner, acceptsNone: true } : inner;
  }
  if (fn === "human_readable_int") return { type: "human_int" };
  if (fn === "human_readable_int_or_auto") return { type: "human_int", alsoAccepts: ["auto", "-1"] };
  if (fn === "union_dict_and_str") return { type: "json", alsoAcceptsPlainString: true };
  // Config dataclasses (--compilation-config, ...) are validated JSON.
  if (fn === "_compute_kwargs.<locals>.parse_dataclass" || fn === "get_kwargs.<locals>.parse_dataclass") return { type: "json" };
  // 0.34's --reasoning-parser: any text; "none" means unset.
  if (fn === "parse_reasoning_parser") return { type: "str" };
  if (fn.endsWith("<lambda>") && t.probes) {
    // A lambda says nothing by name: what it did with the probe inputs does.
    if (t.probes.every((p) => p.accepted)) {
      const rewritten = t.probes.find((p) => p.input === "AB-c");
      return rewritten?.text === "ab_c" ? { type: "str", note: "value is lower-cased and '-' replaced by '_' before the choice check" } : { type: "str" };
    }
  }
  throw new Error(`${flag}: unknown type callable ${t.name}; teach mapType in tools/catalog/fromDump.ts what it accepts`);
}

const KNOWN_VALUES: Record<string, { key: keyof ParserDump["knownValues"]; note: string }> = {
  tool_call_parser: {
    key: "toolCallParsers",
    note: "no argparse choices; checked after parsing at server start-up against the registered parsers (built-ins below plus any from --tool-parser-plugin); an unknown name raises KeyError (exit 1), not exit 2",
  },
  quantization: { key: "quantizationMethods", note: "no argparse choices; validated when the engine config is built (ModelConfig._verify_quantization): unknown -> ValueError (exit 1)" },
  distributed_executor_backend: {
    key: "distributedExecutorBackends",
    note: "no argparse choices (Literal plus str/type -> metavar); validated by the ParallelConfig pydantic model when the engine config is built",
  },
  // Argparse choices up to 0.21; from 0.34, a registry that plugins can extend.
  kv_cache_dtype: {
    key: "kvCacheDtypes",
    note: "no argparse choices; checked at engine start-up (vllm/v1/attention/selector.py) against vllm/config/cache.py KV_CACHE_DTYPES plus any a plugin registers: unknown -> AssertionError (exit 1)",
  },
};

// json.loads with no nargs: the three CORS flags take one JSON list.
const JSON_LIST_FLAGS = new Set(["allowed_origins", "allowed_methods", "allowed_headers"]);

/** A choice as our tables write it: numbers stay numbers, the rest as Python's str() shows it (None, True). */
export function choiceText(c: string | number | boolean | null): string | number {
  if (c === null) return "None";
  if (typeof c === "boolean") return c ? "True" : "False";
  return c;
}

/**
 * The file an action comes from: the config dataclass its kwargs were built
 * from (get_kwargs(SomeConfig), from the field's type and docstring), else
 * the file that called add_argument (a flag arg_utils.py defines with its own
 * kwargs, even inside a config's group).
 */
function sourceOf(a: DumpAction, dump: ParserDump): string {
  if (a.argparseClass === "_HelpAction") return `argparse (add_help=True) via ${dump.parserFile} FlexibleArgumentParser`;
  return a.configFile ?? a.addedBy ?? "unknown";
}

/** One dump action as a table option, curated keys left out. */
export function optionFromAction(a: DumpAction, dump: ParserDump): Option {
  const names = a.acceptedStrings.length > 0 ? a.acceptedStrings : a.optionStrings;
  const action = ACTIONS[a.argparseClass];
  if (!action) throw new Error(`${names[0]}: argparse class ${a.argparseClass} has no action in our tables`);
  const takesValue = action === "store" || action === "append";
  const mapped = a.type && takesValue ? mapType(a.type, names[0]) : undefined;
  const o: Option = {
    names,
    action,
    type: mapped?.type ?? null,
    nargs: takesValue && a.nargs !== null ? (String(a.nargs) as FlagSpec["nargs"]) : null,
    choices: a.choices === null ? null : a.choices.map(choiceText),
    source: sourceOf(a, dump),
  };
  if (mapped?.acceptsNone) o.acceptsNone = true;
  const custom = a.actionClass.startsWith("argparse:") ? undefined : a.actionClass.split(":")[1];
  if (custom) o.customAction = custom;
  const known = KNOWN_VALUES[a.dest];
  const values = known && a.choices === null ? dump.knownValues[known.key]?.values : undefined;
  if (values) o.knownValues = values;
  if (a.helpSuppressed || a.hiddenFromHelp) o.hidden = true;
  if (a.deprecated || a.helpSaysDeprecated) o.deprecated = true;
  if (mapped?.alsoAccepts) o.alsoAccepts = mapped.alsoAccepts;
  if (mapped?.alsoAcceptsPlainString) o.alsoAcceptsPlainString = true;
  const note = values ? known.note : JSON_LIST_FLAGS.has(a.dest) && o.type === "json" && o.nargs === null ? `type is json.loads with no nargs: pass one JSON list, e.g. '["*"]'` : mapped?.note;
  if (note) o.note = note;
  return o;
}

// What only a person reading the code or the release branch could say; kept
// from the committed table of the same release.
const CURATED_OPTION_KEYS = ["note", "releaseBranchOnly", "releaseBranchChoices"] as const;

function withCurated(o: Option, committed: Option | undefined): Option {
  if (!committed) return o;
  const out: Option = { ...o };
  for (const k of CURATED_OPTION_KEYS) {
    if (committed[k] !== undefined) out[k] = committed[k];
  }
  return out;
}

/** Every option string a table accepts. */
function acceptedNames(options: readonly FlagSpec[]): Set<string> {
  return new Set(options.flatMap((o) => o.names));
}

/**
 * The removals: those the previous release's table lists (still absent), and
 * each option string of the previous release that this one lacks. The parser
 * cannot name the PR, so the evidence says what was compared.
 */
export function removedSince(previous: FlagTable | undefined, options: readonly Option[], version: string): RemovedFlag[] {
  if (!previous) return [];
  const now = acceptedNames(options);
  const carried = previous.removed.filter((r) => !now.has(r.flag));
  const gone: RemovedFlag[] = [...acceptedNames(previous.options)]
    .filter((n) => !now.has(n) && !carried.some((r) => r.flag === n))
    .map((flag) => ({
      flag,
      removedIn: version,
      replacement: null,
      evidence: `not found: the PR was not looked up. Present in vLLM ${previous.vllm} (flags/v${previous.vllm}.json), absent from the parser of the released vllm==${version} wheel (npm run catalog); it went in ${version} or a release between, not bisected`,
    }));
  return [...carried, ...gone];
}

/** The commit as _version.py gives it ("g62d4bc3c7", setuptools-scm) without the "g". */
export function releaseCommit(commit: string | null): string | null {
  return commit ? commit.replace(/^g(?=[0-9a-f]{7,40}$)/, "") : null;
}

/**
 * The flag table of the dumped release. `previous` is the catalogued release
 * before it (for `removed`); `committed` the table we already have for this
 * same release. When that table was researched by hand (it names the
 * release's commit in source.releaseTagCommit), its curated evidence is kept
 * where the parser cannot know it; a table this tool wrote is regenerated,
 * but for the removals, whose evidence a person may have added since.
 */
export function tableFromDump(dump: ParserDump, meta: ReleaseMeta, previous?: FlagTable, committed?: FlagTable): FlagTable {
  const positionalActions = dump.actions.filter((a) => a.optionStrings.length === 0);
  const optionActions = dump.actions.filter((a) => a.optionStrings.length > 0);
  const commit = releaseCommit(dump.commit);
  // Same release, same commit: the committed provenance (the branch point in
  // upstream main, found by comparing trees) is research the tool cannot redo.
  const curated = committed && (committed.source as { releaseTagCommit?: string }).releaseTagCommit === commit ? committed : undefined;
  const committedByName = new Map<string, Option>();
  for (const o of curated?.options ?? []) committedByName.set(o.names[0], o as Option);
  const options = optionActions.map((a) => {
    const o = optionFromAction(a, dump);
    return withCurated(o, committedByName.get(o.names[0]));
  });
  const generatedSource = {
    repo: "vllm-project/vllm",
    commit,
    files: [...new Set(options.map((o) => o.source).filter((s): s is string => !!s && s.startsWith("vllm/")))].sort(),
    wheel: meta.wheel,
    uploaded: meta.uploaded,
    uploadedFrom: meta.uploadedFrom,
    tableBuiltFrom: `argparse actions of the \`vllm serve\` subparser built by the released vllm==${dump.vllm} wheel (PyPI), dumped by tools/catalog/dump_parser.py (npm run catalog)`,
    pythonUsed: dump.python,
  };
  const generatedParser = {
    allowAbbrev: true,
    underscoreToDash: true,
    dottedJsonKeys: true,
    notes: `Generated by npm run catalog from the vllm==${dump.vllm} wheel: the flags, their types, nargs and choices are that release's parser. FlexibleArgumentParser's behaviour around them (abbreviations, underscores, dotted JSON keys, --model, -O) was read for 0.11 to 0.21 (docs/vllm-flags.md) and not re-read for this release.`,
    // The stand-in prints them in the top-level usage line of its errors.
    ...(dump.subcommands?.length ? { subcommands: dump.subcommands } : {}),
  };
  const table = {
    vllm: dump.vllm,
    released: meta.uploaded.slice(0, 10),
    source: curated ? curated.source : generatedSource,
    parser: (curated as { parser?: unknown } | undefined)?.parser ?? generatedParser,
    positional: positionalActions.map((a) => ({ name: a.dest, nargs: a.nargs === null ? null : String(a.nargs), type: a.type ? mapType(a.type, a.dest).type : null, source: sourceOf(a, dump) })),
    options,
    removed: committed ? committedRemovals(committed, options, removedSince(previous, options, dump.vllm)) : removedSince(previous, options, dump.vllm),
  };
  return table as FlagTable;
}

/** A committed table's removals (their PRs found by hand), plus any the parser shows that it lacks. */
function committedRemovals(committed: FlagTable, options: readonly Option[], found: RemovedFlag[]): RemovedFlag[] {
  const now = acceptedNames(options);
  const kept = committed.removed.filter((r) => !now.has(r.flag));
  return [...kept, ...found.filter((f) => !kept.some((k) => k.flag === f.flag))];
}

/** The table as the repository stores it. */
export function serialise(table: FlagTable): string {
  return JSON.stringify(table, null, 2) + "\n";
}

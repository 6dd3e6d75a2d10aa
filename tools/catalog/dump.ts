/**
 * The shape of what tools/catalog/dump_parser.py prints: vLLM's `vllm serve`
 * argparse parser as plain data, uninterpreted.
 */

/** A type callable: its module:qualname, what it wraps, and for a lambda what it did with a few inputs. */
export interface DumpType {
  name: string;
  wraps?: DumpType[];
  probes?: { input: string; accepted: boolean; result?: string; text?: string }[];
}

export interface DumpAction {
  optionStrings: string[];
  /** Every string argparse matches to this action (some are hidden from help). */
  acceptedStrings: string[];
  dest: string;
  /** module:qualname of the Action class. */
  actionClass: string;
  /** The argparse class it is or derives from (_StoreAction, BooleanOptionalAction, Action, ...). */
  argparseClass: string;
  type: DumpType | null;
  nargs: string | number | null;
  const: unknown;
  choices: (string | number | boolean | null)[] | null;
  helpSuppressed: boolean;
  /** Registered for `vllm serve` but left out when `--help` is in argv (--model). */
  hiddenFromHelp: boolean;
  /** argparse's (or vLLM's emulated) deprecated=True. */
  deprecated: boolean;
  /** The help text announces a deprecation (0.21 marks some flags only there). */
  helpSaysDeprecated: boolean;
  group: string | null;
  /** The vLLM file whose code called add_argument. */
  addedBy: string | null;
  /** The file of the config dataclass whose field the flag's kwargs come from (get_kwargs), if any. */
  configFile: string | null;
}

export interface ParserDump {
  vllm: string;
  commit: string | null;
  python: string;
  prog: string;
  parserFile: string;
  usage: string | null;
  /** Argument groups; one named after a config class has that class's file. */
  groups: { title: string | null; file: string | null }[];
  actions: DumpAction[];
  /** The top-level `vllm` sub-commands, in the order its usage line lists them. */
  subcommands?: string[];
  knownValues: Partial<Record<"toolCallParsers" | "quantizationMethods" | "distributedExecutorBackends" | "kvCacheDtypes", { from: string; values: string[] }>>;
}

/**
 * A compose service's `command:` as vLLM would read it: the model (positional
 * or `--model`), then each option with its values, named as the pinned
 * release names it. Pure; the flag table decides how many values a flag takes.
 */
import { flagTable, supportedVersions, type FlagSpec, type FlagTable } from "../../components/vllm/catalog";

/** One option of the command line, as written and as vLLM names it. */
export interface CommandOption {
  /** The canonical name: `--max-model-len` for `--max_model_len` or `-tp` → `--tensor-parallel-size`. */
  flag: string;
  /** The tokens as written, for the report and for extraArgs. */
  tokens: string[];
  /** The values: from `--flag=value` or the tokens after the flag. */
  values: string[];
  /** Written with `=` (`--flag=value`). */
  inline: boolean;
  /** A `--flag.key value` sub-key of a JSON flag: the key. */
  subKey?: string;
  /** The pinned release's spec, or undefined for a flag it does not know. */
  spec?: FlagSpec;
}

export interface ParsedCommand {
  /** The model, from the positional or `--model`. */
  model?: string;
  /** Where the model came from. */
  modelFrom?: "positional" | "--model";
  /** Tokens before the options that launch the server (`vllm serve`, `python3 -m ...api_server`). */
  launcher: string[];
  options: CommandOption[];
  /** Positional tokens vLLM would not take (a second model, a stray value). */
  stray: string[];
}

/** vLLM's FlexibleArgumentParser turns underscores in a flag's name into dashes. */
export function canonicalName(name: string): string {
  return name.startsWith("--") ? `--${name.slice(2).replace(/_/g, "-")}` : name;
}

const isFlag = (t: string) => t.startsWith("--") || /^-[a-zA-Z]/.test(t);

function elsewhere(flag: string): FlagSpec | undefined {
  for (const v of supportedVersions()) {
    const spec = flagTable(v)!.options.find((o) => o.names.includes(flag));
    if (spec) return spec;
  }
  return undefined;
}

/**
 * Splits a command into the model and its options. A flag the table does not
 * know (a removed one, a typo) takes the next token as its value when that
 * token is not a flag, as argparse would for a flag that takes one.
 */
export function parseCommand(command: readonly string[], table: FlagTable): ParsedCommand {
  const byName = new Map<string, FlagSpec>();
  for (const spec of table.options) for (const n of spec.names) byName.set(n, spec);
  const tokens = [...command];
  const launcher: string[] = [];
  // The image's entrypoint is `vllm serve`; old files repeat it, or call the
  // pre-0.5 module directly (which took the model only as --model).
  if (tokens[0] === "vllm" && tokens[1] === "serve") launcher.push(...tokens.splice(0, 2));
  const api = tokens.findIndex((t) => t === "vllm.entrypoints.openai.api_server");
  if (api >= 0 && tokens.slice(0, api).every((t) => /^(python3?|-m)$/.test(t))) launcher.push(...tokens.splice(0, api + 1));

  const out: ParsedCommand = { launcher, options: [], stray: [] };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (!isFlag(token)) {
      if (out.model === undefined) {
        out.model = token;
        out.modelFrom = "positional";
      } else out.stray.push(token);
      continue;
    }
    const eq = token.indexOf("=");
    const written = eq >= 0 ? token.slice(0, eq) : token;
    let flag = canonicalName(written);
    let spec = byName.get(flag);
    let subKey: string | undefined;
    if (!spec && flag.includes(".")) {
      const base = byName.get(flag.slice(0, flag.indexOf(".")));
      if (base?.type === "json") {
        subKey = flag.slice(flag.indexOf(".") + 1);
        flag = flag.slice(0, flag.indexOf("."));
        spec = base;
      }
    }
    if (spec) flag = spec.names.find((n) => n.startsWith("--")) ?? flag;
    const option: CommandOption = { flag, tokens: [token], values: [], inline: eq >= 0, subKey, spec };
    // A flag the pinned release dropped still has its arity in an older table.
    const arity = spec ?? elsewhere(flag);
    if (eq >= 0) {
      option.values.push(token.slice(eq + 1));
    } else {
      const takesValue = !arity || subKey !== undefined || arity.action === "store" || arity.action === "append";
      const many = arity?.nargs === "+" || arity?.nargs === "*";
      while (takesValue && i + 1 < tokens.length && !isFlag(tokens[i + 1])) {
        option.values.push(tokens[++i]);
        option.tokens.push(tokens[i]);
        if (!many) break;
      }
    }
    if (flag === "--model" && out.model === undefined) {
      out.model = option.values[0];
      out.modelFrom = "--model";
      continue;
    }
    out.options.push(option);
  }
  return out;
}

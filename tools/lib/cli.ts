/**
 * The tools' command lines: node:util parseArgs, strict, plus `--help`. An
 * unknown option or a stray argument gives one line of what is wrong and the
 * usage line, exit 2, no stack trace.
 */
import { parseArgs } from "node:util";

type Spec = Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean }>;
export type CliValues<O extends Spec> = { [K in keyof O]: O[K]["type"] extends "boolean" ? boolean | undefined : O[K] extends { default: string } ? string : string | undefined };

/**
 * Parses argv against `options` (a `--help`/`-h` flag is added). Returns the
 * values, or the exit code when it printed the help (0) or a usage error (2).
 */
export function parseCli<O extends Spec>(argv: string[], options: O, usage: string): CliValues<O> | number {
  try {
    const values: Record<string, unknown> = parseArgs({ args: argv, options: { ...options, help: { type: "boolean", short: "h" } }, strict: true, allowPositionals: false }).values;
    if (values.help) {
      console.log(usage);
      return 0;
    }
    return values as CliValues<O>;
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage.split("\n")[0]}\n(--help for more)`);
    return 2;
  }
}

/**
 * What changed between two releases' flag tables, for the short report
 * `npm run catalog` prints. Pure.
 */
import type { FlagSpec, FlagTable } from "../../components/vllm/catalog";

export interface TableDiff {
  from: string;
  to: string;
  /** Options of `to` none of whose names `from` accepts (by first name). */
  added: string[];
  /** Option strings `from` accepts and `to` does not. */
  removed: string[];
  /** Options in both whose allowed values differ (argparse choices, else the values vLLM checks later). */
  choices: { flag: string; added: string[]; removed: string[]; kind?: string }[];
  /** Options in both whose value type changed. */
  types: { flag: string; from: string; to: string }[];
}

/** The values an option takes: argparse's choices, else those vLLM checks after parsing. */
function allowed(o: FlagSpec): { kind: string; values: string[] } {
  if (o.choices) return { kind: "choices", values: o.choices.map(String) };
  return { kind: "checked after parsing", values: o.knownValues ?? [] };
}

const label = (o: FlagSpec) => o.names.find((n) => n.startsWith("--")) ?? o.names[0];

export function diffTables(from: FlagTable, to: FlagTable): TableDiff {
  const fromNames = new Set(from.options.flatMap((o) => o.names));
  const toNames = new Set(to.options.flatMap((o) => o.names));
  const byName = new Map<string, FlagSpec>();
  for (const o of from.options) for (const n of o.names) byName.set(n, o);
  const d: TableDiff = { from: from.vllm, to: to.vllm, added: [], removed: [...fromNames].filter((n) => !toNames.has(n)), choices: [], types: [] };
  for (const o of to.options) {
    const old = o.names.map((n) => byName.get(n)).find((x) => x !== undefined);
    if (!old) {
      d.added.push(label(o));
      continue;
    }
    const before = allowed(old);
    const after = allowed(o);
    const plus = after.values.filter((c) => !before.values.includes(c));
    const minus = before.values.filter((c) => !after.values.includes(c));
    const kind = before.kind !== after.kind && before.values.length > 0 && after.values.length > 0 ? `${before.kind} -> ${after.kind}` : undefined;
    if (plus.length || minus.length || kind) d.choices.push({ flag: label(o), added: plus, removed: minus, ...(kind ? { kind } : {}) });
    if ((old.type ?? null) !== (o.type ?? null)) d.types.push({ flag: label(o), from: String(old.type ?? "none"), to: String(o.type ?? "none") });
  }
  return d;
}

/** The diff as a few lines: counts first, then the names. */
export function formatDiff(d: TableDiff): string {
  const lines = [`vLLM ${d.from} -> ${d.to}: ${d.added.length} added, ${d.removed.length} removed, ${d.choices.length} with changed choices, ${d.types.length} with a changed type`];
  if (d.added.length) lines.push(`  added:   ${d.added.join(" ")}`);
  if (d.removed.length) lines.push(`  removed: ${d.removed.join(" ")}`);
  for (const c of d.choices) lines.push(`  choices ${c.flag}: ${[...(c.kind ? [`(${c.kind})`] : []), ...c.added.map((x) => `+${x}`), ...c.removed.map((x) => `-${x}`)].join(" ")}`);
  for (const t of d.types) lines.push(`  type ${t.flag}: ${t.from} -> ${t.to}`);
  return lines.join("\n");
}

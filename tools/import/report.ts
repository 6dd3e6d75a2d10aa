/**
 * The import's report: every change (old value, new value, reason, source),
 * the secrets to set, the warnings and the memory table. Pure text.
 */
import type { Change, SecretFound } from "./mapService";
import { secretCommand } from "./stackYaml";

export interface ReportInput {
  stack: string;
  service: string;
  path: string;
  envFile?: string;
  changes: readonly Change[];
  secrets: readonly SecretFound[];
  warnings: readonly string[];
  memoryTable?: string;
}

export function formatReport(r: ReportInput): string {
  const lines = [`import ${r.stack}: wrote ${r.path} from service ${r.service}, ${r.changes.length} change(s):`];
  for (const c of r.changes) {
    lines.push(`  ${c.path}`, `    old:    ${c.old}   (${c.from})`, `    new:    ${c.new}`, `    reason: ${c.reason}`, `    source: ${c.source}`);
  }
  lines.push("", "secrets (never written to the stack file; run these, then `npm run check -- --stack " + r.stack + " --require-secrets`):");
  for (const key of ["apiKey", "hfToken"] as const) {
    const s = r.secrets.find((x) => x.key === key);
    if (!s) lines.push(`  ${secretCommand({ key, from: "", blank: true }, r.stack)}   (${key}: not in the compose files)`);
    else {
      if (s.blank) lines.push(`  # ${key}: ${s.from} came out blank${s.variable ? ` (${s.variable} is not set: no env file, or not in it)` : ""}`);
      lines.push(`  ${secretCommand(s, r.stack, r.envFile)}`);
    }
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (r.memoryTable) lines.push("", "memory per GPU:", ...r.memoryTable.split("\n").map((l) => `  ${l}`));
  return lines.join("\n");
}

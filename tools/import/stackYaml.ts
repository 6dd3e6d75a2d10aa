/**
 * The imported stack as a `Pulumi.<stack>.yaml` file, in the committed
 * stacks' shape: this project's namespace, a header that says where it came
 * from and how to set the secrets, and a comment above each changed key. Pure.
 */
import { Document, isMap, isScalar, type Pair, type YAMLMap } from "yaml";
import { PROJECT } from "../../components/config/stackFile";
import type { Change, SecretFound } from "./mapService";

/** A change as one comment line: `from: old → new: reason (source)`. */
export function changeLine(c: Change): string {
  const was = c.from.endsWith(c.old) ? c.from : `${c.from}: ${c.old}`;
  return `${was} → ${c.new}: ${c.reason} (${c.source})`;
}

/**
 * The command that stores a secret encrypted without printing it: read from
 * the env file's variable where it came from one, else prompted for.
 */
export function secretCommand(s: SecretFound, stack: string, envFile?: string): string {
  const set = `pulumi config set --secret ${s.key} --stack ${stack}`;
  if (s.variable && !s.blank && envFile) return `(set -a; . ${envFile}; printf %s "$${s.variable}") | ${set}`;
  if (s.variable && !s.blank) return `printf %s "$${s.variable}" | ${set}`;
  return `${set}   # prompts for the value`;
}

function pairAt(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && p.key.value === key) as Pair | undefined;
}

export interface StackFileInput {
  stack: string;
  service: string;
  files: readonly string[];
  envFile?: string;
  config: Record<string, unknown>;
  changes: readonly Change[];
  secrets: readonly SecretFound[];
}

export function renderStackFile(input: StackFileInput): string {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input.config)) config[`${PROJECT}:${k}`] = v;
  const doc = new Document({ config });
  const root = doc.get("config", true) as YAMLMap;
  const header = [
    ` ${input.stack}: imported by \`npm run import\` from service ${input.service} of ${input.files.join(" + ")}${input.envFile ? ` with ${input.envFile}` : ""}.`,
    " Each value comes from the compose files; a comment marks each one the import changed, and why.",
    " Secrets are not in this file: set them with",
    ...(input.secrets.length > 0 ? input.secrets : [{ key: "apiKey", blank: true, from: "" } as SecretFound, { key: "hfToken", blank: true, from: "" } as SecretFound]).map((s) => `   ${secretCommand(s, input.stack, input.envFile)}`),
  ];
  const missing = (["apiKey", "hfToken"] as const).filter((k) => !input.secrets.some((s) => s.key === k));
  for (const k of missing) if (input.secrets.length > 0) header.push(`   pulumi config set --secret ${k} --stack ${input.stack}   # not in the compose files`);
  doc.commentBefore = header.join("\n");

  for (const c of input.changes) {
    if (c.path === "apiKey" || c.path === "hfToken") continue; // the header covers them
    const [section, ...rest] = c.path.split(".");
    const top = pairAt(root, `${PROJECT}:${section}`);
    if (!top) continue;
    // The deepest key that exists carries the comment (a dropped flag has none of its own).
    let target: Pair = top;
    let node = top.value;
    for (const k of rest) {
      if (!isMap(node)) break;
      const p = pairAt(node, k);
      if (!p) break;
      target = p;
      node = p.value;
    }
    const key = target.key as { commentBefore?: string | null };
    const line = ` ${changeLine(c)}`;
    key.commentBefore = key.commentBefore ? `${key.commentBefore}\n${line}` : line;
  }
  return doc.toString({ lineWidth: 0 });
}

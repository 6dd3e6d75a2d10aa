/**
 * Reads a `Pulumi.<stack>.yaml` file the way the engine would hand its config
 * to the program: this project's keys with the namespace stripped, and for
 * secrets only whether they are set, encrypted, or in plaintext. Used by
 * `check` (no engine) and by preview to compare a stack with its siblings.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { OPTIONAL_SECRET_KEYS, SECRET_KEYS, SecretKey, SecretStates } from "./schema";

export const PROJECT = "myia-vllm";

export interface StackConfig {
  stack: string;
  /** Non-secret keys, namespace stripped. */
  raw: Record<string, unknown>;
  secrets: SecretStates;
  /** Keys of other namespaces (e.g. a provider's), which we leave alone. */
  foreignKeys: string[];
}

export function stackFilePath(dir: string, stack: string): string {
  return join(dir, `Pulumi.${stack}.yaml`);
}

/** Splits a namespaced config map into our keys, secret states and foreign keys. */
export function splitConfig(
  stack: string,
  config: Record<string, unknown>,
  isSecret: (key: string, value: unknown) => boolean,
): StackConfig {
  const raw: Record<string, unknown> = {};
  const secrets = Object.fromEntries(SECRET_KEYS.map((k) => [k, "missing"])) as SecretStates;
  const foreignKeys: string[] = [];
  for (const [full, value] of Object.entries(config)) {
    const [ns, key] = full.includes(":") ? [full.slice(0, full.indexOf(":")), full.slice(full.indexOf(":") + 1)] : [PROJECT, full];
    if (ns !== PROJECT) {
      foreignKeys.push(full);
    } else if (([...SECRET_KEYS, ...OPTIONAL_SECRET_KEYS] as readonly string[]).includes(key)) {
      secrets[key as SecretKey] = isSecret(full, value) ? "secret" : "plaintext";
    } else {
      raw[key] = value;
    }
  }
  return { stack, raw, secrets, foreignKeys };
}

/**
 * Encrypted in a stack file: `{secure: ...}`, or an object (e.g. apiKeys set
 * with `--secret --path apiKeys.app-a`) whose every leaf is.
 */
const isSecureValue = (_: string, v: unknown): boolean =>
  typeof v === "object" && v !== null && ("secure" in v || (Object.keys(v).length > 0 && Object.values(v).every((x) => isSecureValue(_, x))));

export function readStackFile(dir: string, stack: string): StackConfig {
  const doc = (parse(readFileSync(stackFilePath(dir, stack), "utf8")) ?? {}) as { config?: Record<string, unknown> };
  return splitConfig(stack, doc.config ?? {}, isSecureValue);
}

/** Every stack file in the project folder but `except`. */
export function siblingStacks(dir: string, except: string): StackConfig[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && s !== except)
    .map((s) => readStackFile(dir, s));
}

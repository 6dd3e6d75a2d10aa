/**
 * Which docker and command plugins the engine runs with, as
 * scripts/plugins.sh resolved them (official, or our offline build), so every
 * engine run (demo, tests, switch) can say which one it used, and the engine
 * suites know whether they can run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface ResolvedPlugin {
  name: string;
  version: string;
  /** "official (installed)", "official (downloaded)", "offline build (...)" or "STAND-IN (...)". */
  source: string;
  path: string;
}

const CACHE = process.env.MYIA_CACHE ?? join(homedir(), ".cache", "myia-vllm");
const RESOLVED_FILE = join(CACHE, "plugins", "resolved.tsv");

/** The record scripts/plugins.sh wrote, as the PATH of this process finds each binary. */
export function resolvedPlugins(file = RESOLVED_FILE): ResolvedPlugin[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [name, version, source, path] = line.split("\t");
      return { name, version, source, path };
    });
}

const onPath = (bin: string) => spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" }).stdout.trim();

/**
 * Why the engine suites that deploy cannot run, or false when they can: both
 * plugins resolved, and the offline ones reachable on this process's PATH.
 */
export function missingPlugins(): string | false {
  if (!onPath("pulumi")) return "the pulumi CLI is not on PATH: source scripts/toolchain.sh (npm test does)";
  const got = resolvedPlugins();
  for (const name of ["docker", "command"]) {
    const p = got.find((x) => x.name === name);
    if (!p) return `no ${name} plugin resolved: run \`source scripts/toolchain.sh && toolchain_plugins\` (npm test does)`;
    if (!p.source.startsWith("official") && onPath(`pulumi-resource-${name}`) !== p.path) return `the ${name} plugin resolved at ${p.path} is not first on PATH: source scripts/toolchain.sh in this shell`;
  }
  return false;
}

/** One line a plugin, for the output of an engine run. */
export function describePlugins(): string[] {
  return resolvedPlugins().map((p) => `plugin ${p.name} ${p.version}: ${p.source} (${p.path})`);
}

/**
 * Which docker and command plugins the engine runs with, as
 * scripts/plugins.sh resolved them (official, or our offline build), so every
 * engine run (demo, tests, switch) can say which one it used, and the engine
 * suites know whether they can run.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface ResolvedPlugin {
  name: string;
  version: string;
  /** "official (installed)", "official (downloaded)", "offline build (...)" or "STAND-IN (...)". */
  source: string;
  path: string;
}

const CACHE = process.env.MYIA_CACHE || join(homedir(), ".cache", "myia-vllm");
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

const onPath = (bin: string, env: NodeJS.ProcessEnv = process.env) => spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8", env }).stdout.trim();

/**
 * Puts what our toolchain built on this process's PATH where the shell did
 * not (a new shell, without `source scripts/toolchain.sh`): the Pulumi CLI
 * in $MYIA_CACHE/bin and the offline plugins scripts/plugins.sh resolved.
 * The engine then finds them as it would after the script.
 */
export function useToolchain(env: NodeJS.ProcessEnv = process.env): void {
  const dirs: string[] = [];
  if (!onPath("pulumi", env) && existsSync(join(CACHE, "bin", "pulumi"))) dirs.push(join(CACHE, "bin"));
  for (const p of resolvedPlugins()) {
    if (!p.source.startsWith("official") && existsSync(p.path) && onPath(`pulumi-resource-${p.name}`, env) !== p.path) dirs.push(dirname(p.path));
  }
  if (dirs.length > 0) env.PATH = [...dirs, env.PATH ?? ""].join(":");
}

/**
 * Why the engine cannot run here, or false when it can: the CLI and both
 * plugins resolved, the offline ones reachable on this process's PATH. One
 * line each, with what to run.
 */
export function missingPlugins(): string | false {
  if (!onPath("pulumi")) return "the Pulumi CLI is not on PATH, nor built in $MYIA_CACHE/bin: run `bash scripts/toolchain.sh` (builds it from the Go module proxy; npm test and npm run demo do), or install Pulumi";
  const got = resolvedPlugins();
  for (const name of ["docker", "command"]) {
    const p = got.find((x) => x.name === name);
    if (!p) return `no ${name} plugin resolved: run \`bash scripts/toolchain.sh\` (official where installed or downloadable, else our offline build; npm test and npm run demo do)`;
    if (!p.source.startsWith("official") && onPath(`pulumi-resource-${name}`) !== p.path) return `the ${name} plugin resolved at ${p.path} is not first on PATH: source scripts/toolchain.sh in this shell`;
  }
  return false;
}

/** One line a plugin, for the output of an engine run. */
export function describePlugins(): string[] {
  return resolvedPlugins().map((p) => `plugin ${p.name} ${p.version}: ${p.source} (${p.path})`);
}

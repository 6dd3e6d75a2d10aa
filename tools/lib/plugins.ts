/**
 * Which docker, command and kubernetes plugins the engine runs with, as
 * scripts/plugins.sh resolved them (official, or our offline build), so every
 * engine run (demo, tests, switch) can say which one it used, and the engine
 * suites know whether they can run. Our offline builds sit in Pulumi's plugin
 * cache, where the engine finds them as it finds an official plugin; only
 * where no pulumi CLI could install them are they on PATH.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface ResolvedPlugin {
  name: string;
  version: string;
  /** "official (installed)", "official (downloaded)", "offline build (...)" or "STAND-IN (...)"; ", on PATH" when not in the plugin cache. */
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

/** Pulumi's plugin cache, where `pulumi plugin install` puts a plugin. */
export const PLUGIN_CACHE = join(process.env.PULUMI_HOME || join(homedir(), ".pulumi"), "plugins");
const inPluginCache = (p: ResolvedPlugin) => p.path.startsWith(PLUGIN_CACHE + "/");
/** Where scripts/plugins.sh keeps its builds (before PR #19 it put their folders on PATH). */
const BUILDS = join(CACHE, "plugins");

const onPath = (bin: string, env: NodeJS.ProcessEnv = process.env) => spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8", env }).stdout.trim();

/**
 * Puts what our toolchain built on this process's PATH where the shell did
 * not (a new shell, without `source scripts/toolchain.sh`): the Pulumi CLI
 * in $MYIA_CACHE/bin, and an offline plugin only where it is not in Pulumi's
 * plugin cache. A build folder left on PATH by an older toolchain.sh is taken
 * off when that plugin is in the cache: the engine would prefer it there and
 * warn "using pulumi-resource-... from $PATH".
 */
export function useToolchain(env: NodeJS.ProcessEnv = process.env): void {
  const dirs: string[] = [];
  if (!onPath("pulumi", env) && existsSync(join(CACHE, "bin", "pulumi"))) dirs.push(join(CACHE, "bin"));
  const cached = new Set<string>();
  for (const p of resolvedPlugins()) {
    if (inPluginCache(p)) cached.add(p.name);
    else if (!p.source.startsWith("official") && existsSync(p.path) && onPath(`pulumi-resource-${p.name}`, env) !== p.path) dirs.push(dirname(p.path));
  }
  const kept = (env.PATH ?? "").split(":").filter((d) => !(d.startsWith(BUILDS + "/") && [...cached].some((name) => existsSync(join(d, `pulumi-resource-${name}`)))));
  env.PATH = [...dirs, ...kept].join(":");
}

/**
 * Why the engine cannot run here, or false when it can: the CLI and both
 * plugins the program uses resolved, each where the engine will find it (in
 * Pulumi's plugin cache with nothing on PATH shadowing it, or first on PATH).
 * One line each, with what to run.
 */
export function missingPlugins(env: NodeJS.ProcessEnv = process.env): string | false {
  if (!onPath("pulumi", env)) return "the Pulumi CLI is not on PATH, nor built in $MYIA_CACHE/bin: run `bash scripts/toolchain.sh` (builds it from the Go module proxy; npm test and npm run demo do), or install Pulumi";
  const got = resolvedPlugins();
  for (const name of ["docker", "command"]) {
    const p = got.find((x) => x.name === name);
    if (!p) return `no ${name} plugin resolved: run \`bash scripts/toolchain.sh\` (official where installed or downloadable, else our offline build; npm test and npm run demo do)`;
    const first = onPath(`pulumi-resource-${name}`, env);
    if (inPluginCache(p)) {
      if (!existsSync(p.path)) return `the ${name} plugin resolved at ${p.path} is no longer in Pulumi's plugin cache: run \`bash scripts/toolchain.sh\``;
      if (first && first !== p.path) return `pulumi-resource-${name} on PATH (${first}) shadows the one resolved in Pulumi's plugin cache (${p.path}): take its folder off PATH, or open a new shell`;
    } else if (!p.source.startsWith("official") && first !== p.path) return `the ${name} plugin resolved at ${p.path} is not first on PATH: source scripts/toolchain.sh in this shell`;
  }
  return false;
}

/** One line a plugin, for the output of an engine run. */
export function describePlugins(): string[] {
  return resolvedPlugins().map((p) => `plugin ${p.name} ${p.version}: ${p.source} (${p.path})`);
}

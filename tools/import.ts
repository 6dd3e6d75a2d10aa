/**
 * npm run import -- -f docker-compose.yml -f profiles/<profile>.yml [--env-file .env] --stack <name>
 *
 * Writes Pulumi.<name>.yaml from the old compose files. The real Compose
 * parses them (`docker compose config --format json`: the merge of the -f
 * files, ${VAR:-default} interpolation, the env file, the Compose spec);
 * tools/import maps the service to the stack schema and fixes what the
 * pinned vLLM would reject. Prints every change with its reason and source,
 * and the commands that set the secrets; never writes a secret.
 */
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative, resolve } from "node:path";
import { stackFilePath } from "../components/config/stackFile";
import { importService } from "./import/mapService";
import { formatReport } from "./import/report";
import { secretVariables, type ComposeProject } from "./import/service";
import { renderStackFile } from "./import/stackYaml";
import { checkStack } from "./check";
import { parseCli } from "./lib/cli";

const USAGE = `usage: npm run import -- -f <compose.yml> [-f <profile.yml> ...] --stack <name> [--env-file <.env>] [--dir <project>] [--service <name>] [--tag <release>] [--footprint <json>] [--force]

Parses the compose files with the real Compose (docker compose config), maps the service to a stack
file, fixes what the pinned vLLM would reject (each fix commented in the file and reported with its
reason and source), and checks the result as \`npm run check\` does. Secrets are never written: it
prints the \`pulumi config set --secret\` commands.
  -f, --file <path>     a compose file, as for docker compose -f (repeat: later files override)
  --env-file <path>     the env file Compose interpolates from (default: Compose's, .env beside the first file)
  --stack, -s <name>    the stack to write: Pulumi.<name>.yaml
  --dir <project>       where to write it (default: .)
  --service <name>      the service to import, when the files define several
  --tag <release>       the vLLM image tag to pin, e.g. v0.11.0 (default where the files say latest: the newest catalogued release)
  --profile <name>      the profile name (default: the stack name)
  --footprint <json>    model.footprint, for a model outside the catalog
  --force               overwrite an existing stack file
Exit: 0 written and valid, 1 the import needs a choice (printed) or Compose refused the files, 2 usage.
Needs docker compose v2 (source scripts/toolchain.sh && source scripts/compose.sh && toolchain_compose).`;

/** How to run Compose: the docker CLI plugin, else the binary our toolchain caches. */
export function composeCommand(): string[] | undefined {
  if (spawnSync("docker", ["compose", "version"], { stdio: "ignore" }).status === 0) return ["docker", "compose"];
  const cached = join(process.env.MYIA_CACHE ?? join(homedir(), ".cache", "myia-vllm"), "bin", "docker-compose");
  if (existsSync(cached) && spawnSync(cached, ["version"], { stdio: "ignore" }).status === 0) return [cached];
  return undefined;
}

/** `docker compose ... config --format json`, or Compose's own message. */
function composeConfig(compose: string[], files: readonly string[], envFile: string | undefined, interpolate: boolean): { project: ComposeProject } | { error: string } {
  const args = [...compose.slice(1), ...files.flatMap((f) => ["-f", f]), ...(envFile ? ["--env-file", envFile] : []), "config", "--format", "json", ...(interpolate ? [] : ["--no-interpolate"])];
  const r = spawnSync(compose[0], args, { encoding: "utf8" });
  if (r.status !== 0) return { error: (r.stderr || r.stdout || `${compose.join(" ")} exited ${r.status}`).trim() };
  return { project: JSON.parse(r.stdout) as ComposeProject };
}

/** A path relative to here when it is below here, else absolute. */
function shortPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
}

export interface ImportRun {
  code: number;
  out: string;
}

export function runImport(argv: string[]): ImportRun {
  const lines: string[] = [];
  const log = console.log;
  const err = console.error;
  // parseCli prints usage itself; capture it so callers (tests) see one text.
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  let values;
  try {
    values = parseCli(
      argv,
      {
        file: { type: "string", short: "f", multiple: true } as { type: "string"; short: string },
        "env-file": { type: "string" },
        stack: { type: "string", short: "s" },
        dir: { type: "string", default: "." },
        service: { type: "string" },
        tag: { type: "string" },
        profile: { type: "string" },
        footprint: { type: "string" },
        force: { type: "boolean" },
      },
      USAGE,
    );
  } finally {
    console.log = log;
    console.error = err;
  }
  if (typeof values === "number") return { code: values, out: lines.join("\n") };
  const files = (values.file as unknown as string[] | undefined) ?? [];
  const usage = (why: string) => ({ code: 2, out: `${why}\n${USAGE.split("\n")[0]}\n(--help for more)` });
  if (files.length === 0) return usage("-f <compose file> is required");
  if (!values.stack) return usage("--stack <name> is required");
  let footprint: Record<string, unknown> | undefined;
  if (values.footprint) {
    try {
      footprint = JSON.parse(values.footprint) as Record<string, unknown>;
    } catch (e) {
      return usage(`--footprint is not JSON (${(e as Error).message})`);
    }
  }
  const dir = resolve(values.dir);
  const path = stackFilePath(dir, values.stack);
  if (existsSync(path) && !values.force) return { code: 1, out: `import ${values.stack}: ${path} exists; pass --force to overwrite it, or pick another --stack` };

  const compose = composeCommand();
  if (!compose) return { code: 1, out: "import: docker compose v2 is not installed; run `source scripts/toolchain.sh && source scripts/compose.sh && toolchain_compose`" };
  const merged = composeConfig(compose, files, values["env-file"], true);
  if ("error" in merged) return { code: 1, out: `import ${values.stack}: docker compose refused the files:\n${merged.error}` };
  const raw = composeConfig(compose, files, values["env-file"], false);
  const result = importService(merged.project, {
    stack: values.stack,
    profile: values.profile,
    tag: values.tag,
    service: values.service,
    footprint,
    secretVariables: "error" in raw ? {} : secretVariables(raw.project.services?.[values.service ?? Object.keys(raw.project.services ?? {})[0]] ?? {}),
  });
  if (!result.ok) {
    const out = [`import ${values.stack}: nothing written, ${result.errors.length} thing(s) to choose:`, ...result.errors.map((e) => `  ${e}`)];
    return { code: 1, out: out.join("\n") };
  }
  const shown = files.map((f) => shortPath(resolve(f)));
  writeFileSync(path, renderStackFile({ stack: values.stack, service: result.service, files: shown, envFile: values["env-file"], config: result.config, changes: result.changes, secrets: result.secrets }));
  const report = formatReport({ stack: values.stack, service: result.service, path: shortPath(path), envFile: values["env-file"], changes: result.changes, secrets: result.secrets, warnings: result.warnings, memoryTable: result.memoryTable });
  // The same check `npm run check` runs, beside the stacks already in the folder.
  const check = checkStack(dir, values.stack, false);
  return { code: check.ok ? 0 : 1, out: `${report}\n\n${check.ok ? `npm run check -- --stack ${values.stack}: OK` : check.report}` };
}

export function main(argv = process.argv.slice(2)): number {
  const r = runImport(argv);
  (r.code === 0 ? console.log : console.error)(r.out);
  return r.code;
}

if (require.main === module) process.exitCode = main();

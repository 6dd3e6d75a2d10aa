/**
 * npm run catalog -- --vllm <version>
 *
 * Writes components/vllm/flags/v<version>.json from the release itself: the
 * wheel from PyPI, its commit (vllm/_version.py), its upload date (PyPI), and
 * the real `vllm serve` parser of that release, built in a throwaway
 * virtualenv under $MYIA_CACHE/catalog (CPU only). Prints what changed
 * against the catalogued release before it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { compareVersions, type FlagTable } from "../components/vllm/catalog";
import { diffTables, formatDiff } from "./catalog/diff";
import type { ParserDump } from "./catalog/dump";
import { catalogCache, dumpParser, findPython, unpacked, venvFor, wheel, wheelInfo } from "./catalog/env";
import { serialise, tableFromDump } from "./catalog/fromDump";
import { uploadTime } from "./catalog/pypi";
import { parseCli } from "./lib/cli";

const FLAGS_DIR = join(__dirname, "..", "components", "vllm", "flags");

const USAGE = `usage: npm run catalog -- --vllm <version> [--dir <flags folder>]

Adds (or regenerates) the flag table of one vLLM release, components/vllm/flags/v<version>.json,
from the release itself: the wheel from PyPI, its commit from the wheel's vllm/_version.py, its
upload date from PyPI, and every action of the real \`vllm serve\` parser of that release, built in
a virtualenv under $MYIA_CACHE/catalog (default ~/.cache/myia-vllm/catalog; CPU only, about 6 GB
per torch version, reused across releases). Flags the previous catalogued release had and this
one lacks are listed as removed. A release already catalogued keeps its curated evidence (branch
point, notes, the PR of each removal). Prints what changed against the previous catalogued release.
  --vllm <version>      the release, e.g. 0.34.0 (see \`pip index versions vllm\`)
  --dir <folder>        where the tables are (default: components/vllm/flags)
Needs Python 3.12 (python3.12, pyenv's, or MYIA_CATALOG_PYTHON) and PyPI.
Exit: 0 written or unchanged, 1 failed, 2 usage.`;

function readTables(dir: string): Map<string, FlagTable> {
  const tables = new Map<string, FlagTable>();
  for (const f of readdirSync(dir).filter((x) => /^v\d+\.\d+\.\d+\.json$/.test(x))) {
    const t = JSON.parse(readFileSync(join(dir, f), "utf8")) as FlagTable;
    tables.set(t.vllm, t);
  }
  return tables;
}

/** The catalogued release just before `version`, if any. */
export function previousRelease(versions: Iterable<string>, version: string): string | undefined {
  return [...versions].filter((v) => compareVersions(v, version) < 0).sort(compareVersions).pop();
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const values = parseCli(argv, { vllm: { type: "string" }, dir: { type: "string", default: FLAGS_DIR } }, USAGE);
  if (typeof values === "number") return values;
  const version = values.vllm;
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) {
    console.error(`--vllm needs a release such as 0.34.0\n${USAGE.split("\n")[0]}`);
    return 2;
  }
  const t0 = Date.now();
  const step = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${s}`);
  try {
    const python = findPython();
    step(`vllm==${version}: wheel from PyPI`);
    const whl = wheel(python, version);
    const info = wheelInfo(python, whl);
    if (info.version !== version) throw new Error(`the wheel says version ${info.version}, not ${version}`);
    const up = await uploadTime(version);
    step(`${basename(whl)}: commit ${info.commit ?? "(none in _version.py)"}, uploaded ${up.time}`);
    const pkg = unpacked(python, whl, version);
    const venv = venvFor(python, info, up.time, step);
    step(`dumping the parser (${venv.dir})`);
    const { dump, installed } = dumpParser(venv, pkg, info, up.time, step);
    const dumpDir = join(catalogCache(), "dumps");
    mkdirSync(dumpDir, { recursive: true });
    writeFileSync(join(dumpDir, `v${version}.json`), dump);
    const parsed = JSON.parse(dump) as ParserDump;
    const tables = readTables(values.dir);
    const prevVersion = previousRelease(tables.keys(), version);
    const previous = prevVersion ? tables.get(prevVersion) : undefined;
    const table = tableFromDump(parsed, { uploaded: up.time, uploadedFrom: up.from, wheel: basename(whl) }, previous, tables.get(version));
    const file = join(values.dir, `v${version}.json`);
    const text = serialise(table);
    const before = existsSync(file) ? readFileSync(file, "utf8") : undefined;
    if (before !== text) writeFileSync(file, text);
    step(`${before === undefined ? "wrote" : before === text ? "unchanged" : "rewrote"} ${file}: ${table.options.length} options, ${table.removed.length} removed${installed.length ? `; installed for the import: ${installed.join(", ")}` : ""}`);
    if (previous) console.log(formatDiff(diffTables(previous, table)));
    else console.log(`(no catalogued release before ${version} to compare with)`);
    return 0;
  } catch (e) {
    console.error(`catalog: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) void main().then((code) => (process.exitCode = code));

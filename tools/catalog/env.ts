/**
 * The throwaway Python side of `npm run catalog`: the release's wheel from
 * PyPI, unpacked, and a virtualenv (one per torch pin, reused across
 * releases) holding what importing vLLM's parser needs and no more. Found by
 * trying: the dump script says which module is missing, we install the
 * wheel's own requirement for it, resolved as of the release's upload day.
 * Everything lives under $MYIA_CACHE/catalog, outside the repo.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { constraints, requirementForModule, torchPin } from "./requirements";

/** pip with --uploaded-prior-to (resolve dependencies as they were when the release came out). */
const PIP = "pip==26.3";
const HERE = __dirname;

export interface WheelInfo {
  version: string;
  requiresPython: string | null;
  requiresDist: string[];
  commit: string | null;
}

export function catalogCache(): string {
  return join(process.env.MYIA_CACHE ?? join(homedir(), ".cache", "myia-vllm"), "catalog");
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; quiet?: boolean } = {}): SpawnSyncReturns<string> {
  const r = spawnSync("nice", [cmd, ...args], { encoding: "utf8", env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", ...opts.env }, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}

function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${(r.stderr || r.stdout).trim().split("\n").slice(-15).join("\n")}`);
  return r.stdout;
}

/** A CPython 3.12 (the vLLM images' Python): $MYIA_CATALOG_PYTHON, python3.12, or pyenv's. */
export function findPython(): string {
  const candidates = [process.env.MYIA_CATALOG_PYTHON, "python3.12"];
  const pyenv = join(process.env.PYENV_ROOT ?? join(homedir(), ".pyenv"), "versions");
  if (existsSync(pyenv)) for (const v of readdirSync(pyenv).filter((d) => d.startsWith("3.12")).sort().reverse()) candidates.push(join(pyenv, v, "bin", "python3.12"));
  for (const c of candidates) {
    if (!c) continue;
    const r = spawnSync(c, ["-c", "import sys; print(sys.version_info[:2] == (3, 12))"], { encoding: "utf8" });
    if (r.status === 0 && r.stdout.trim() === "True") return c;
  }
  throw new Error("no Python 3.12 found (the vLLM images run 3.12); set MYIA_CATALOG_PYTHON to one");
}

/** The wheel of `vllm==<version>` from PyPI, downloaded once. */
export function wheel(python: string, version: string): string {
  const dir = join(catalogCache(), "wheels");
  mkdirSync(dir, { recursive: true });
  const find = () => readdirSync(dir).find((f) => f.startsWith(`vllm-${version}-`) && f.endsWith(".whl"));
  if (!find()) must(run(python, ["-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d", dir, `vllm==${version}`]), `pip download vllm==${version}`);
  const file = find();
  if (!file) throw new Error(`pip downloaded no wheel of vllm ${version}`);
  return join(dir, file);
}

export function wheelInfo(python: string, wheelPath: string): WheelInfo {
  return JSON.parse(must(run(python, [join(HERE, "wheel_info.py"), wheelPath]), "reading the wheel")) as WheelInfo;
}

/** The wheel unpacked (a wheel is a zip; nothing to build), for PYTHONPATH. */
export function unpacked(python: string, wheelPath: string, version: string): string {
  const dir = join(catalogCache(), "pkgs", version);
  if (!existsSync(join(dir, ".complete"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    must(run(python, ["-m", "zipfile", "-e", wheelPath, dir]), "unpacking the wheel");
    writeFileSync(join(dir, ".complete"), "");
  }
  return dir;
}

interface Venv {
  python: string;
  dir: string;
}

/** A virtualenv for one torch pin: pip that can resolve as of a date, and torch with the libraries it loads. */
export function venvFor(python: string, info: WheelInfo, uploaded: string, log: (s: string) => void): Venv {
  const torch = torchPin(info.requiresDist);
  const dir = join(catalogCache(), "venvs", `torch-${torch}-py312`);
  const py = join(dir, "bin", "python");
  if (!existsSync(join(dir, ".complete"))) {
    log(`  creating ${dir} (torch ${torch}; PyPI's Linux torch is the CUDA build, so its CUDA libraries come too: it cannot import without them)`);
    rmSync(dir, { recursive: true, force: true });
    must(run(python, ["-m", "venv", dir]), "python -m venv");
    must(run(py, ["-m", "pip", "install", "-q", PIP]), `pip install ${PIP}`);
    must(run(py, ["-m", "pip", "install", "-q", `--uploaded-prior-to=${uploaded}`, `torch==${torch}`]), `pip install torch==${torch}`);
    writeFileSync(join(dir, ".complete"), "");
  }
  return { python: py, dir };
}

function pipInstall(venv: Venv, info: WheelInfo, uploaded: string, reqs: string[]): void {
  const c = join(venv.dir, `constraints-${info.version}.txt`);
  writeFileSync(c, constraints(info.requiresDist));
  must(run(venv.python, ["-m", "pip", "install", "-q", `--uploaded-prior-to=${uploaded}`, "-c", c, ...reqs]), `pip install ${reqs.join(" ")}`);
}

/**
 * Runs dump_parser.py against the unpacked release until it imports: each
 * missing module is installed (the wheel's requirement for it) and
 * remembered in the venv, so the next release installs them in one go.
 */
export function dumpParser(venv: Venv, pkgDir: string, info: WheelInfo, uploaded: string, log: (s: string) => void): { dump: string; installed: string[] } {
  const learnedFile = join(venv.dir, "learned-modules.json");
  const learned: string[] = existsSync(learnedFile) ? JSON.parse(readFileSync(learnedFile, "utf8")) : [];
  if (learned.length > 0) pipInstall(venv, info, uploaded, [...new Set(learned.map((m) => requirementForModule(m, info.requiresDist)))]);
  const installed: string[] = [];
  for (let attempt = 0; attempt < 80; attempt++) {
    const r = run(venv.python, [join(HERE, "dump_parser.py")], { env: { PYTHONPATH: pkgDir, PYTHONHASHSEED: "0" } });
    if (r.status === 0) return { dump: r.stdout, installed };
    if (r.status !== 3) must(r, "dump_parser.py");
    const missing = (JSON.parse(r.stdout) as { missingModule: string }).missingModule;
    const req = requirementForModule(missing, info.requiresDist);
    if (installed.includes(req)) throw new Error(`installed ${req} for module ${missing}, and it is still missing`);
    log(`  vLLM's import needs ${missing}: pip install ${req}`);
    pipInstall(venv, info, uploaded, [req]);
    installed.push(req);
    if (!learned.includes(missing)) {
      learned.push(missing);
      writeFileSync(learnedFile, JSON.stringify(learned, null, 1));
    }
  }
  throw new Error("dump_parser.py still misses modules after 80 installs");
}

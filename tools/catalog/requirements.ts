/**
 * What a vLLM wheel's METADATA asks for, read as data: which torch it pins
 * (that decides the virtualenv) and which requirement answers a module that
 * vLLM's import found missing. Pure.
 */

/** PEP 503 normalised distribution name: "Foo_Bar.baz" → "foo-bar-baz". */
export function normaliseDist(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** The distribution a Requires-Dist line names ("transformers<5,>=4" → "transformers"). */
export function requirementName(req: string): string {
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(req);
  if (!m) throw new Error(`not a requirement: ${req}`);
  return normaliseDist(m[1]);
}

/** A Requires-Dist line without its extras, so pip installs the library and not its optional stack. */
export function withoutExtras(req: string): string {
  return req.replace(/^(\s*[A-Za-z0-9][A-Za-z0-9._-]*)\s*\[[^\]]*\]/, "$1");
}

/** Lines that apply to every platform or to this one (x86_64 Linux, CPython 3.12); extras-only lines are dropped. */
export function applicable(requiresDist: readonly string[]): string[] {
  return requiresDist.filter((r) => {
    const marker = r.split(";")[1];
    if (!marker) return true;
    if (/extra\s*==/.test(marker)) return false;
    if (/platform_machine\s*==/.test(marker) && !/platform_machine\s*==\s*["']x86_64["']/.test(marker)) return false;
    if (/platform_machine\s*!=\s*["']x86_64["']/.test(marker)) return false;
    return true;
  });
}

/** The exact torch version the wheel pins (each vLLM release pins one). */
export function torchPin(requiresDist: readonly string[]): string {
  for (const r of applicable(requiresDist)) {
    if (requirementName(r) !== "torch") continue;
    const m = /==\s*([0-9][0-9a-z.+]*)/.exec(r.split(";")[0]);
    if (m) return m[1];
  }
  throw new Error("the wheel pins no torch version (no Requires-Dist: torch==X)");
}

// Modules whose distribution has another name. Only the ones vLLM's import
// of its parser reaches; anything else is looked up under its own name.
const MODULE_DISTS: Record<string, string> = {
  yaml: "pyyaml",
  zmq: "pyzmq",
  cv2: "opencv-python-headless",
  PIL: "pillow",
  cpuinfo: "py-cpuinfo",
  google: "protobuf",
  sentencepiece: "sentencepiece",
  openai_harmony: "openai-harmony",
  msgspec: "msgspec",
  jwt: "pyjwt",
  dateutil: "python-dateutil",
  multipart: "python-multipart",
};

/**
 * What to `pip install` for a module vLLM's import found missing: the wheel's
 * own requirement line for it (its version range, extras dropped), else the
 * bare distribution name (a dependency of a dependency).
 */
export function requirementForModule(module: string, requiresDist: readonly string[]): string {
  const top = module.split(".")[0];
  const dist = normaliseDist(MODULE_DISTS[top] ?? top);
  const line = applicable(requiresDist).find((r) => requirementName(r) === dist);
  return line ? withoutExtras(line) : dist;
}

/**
 * A pip constraints file: every requirement of the wheel, without extras, so
 * a dependency pulled in for one module never moves torch or another pinned
 * library off the release's range.
 */
export function constraints(requiresDist: readonly string[]): string {
  return applicable(requiresDist).map(withoutExtras).join("\n") + "\n";
}

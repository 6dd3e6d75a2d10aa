import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderArgv } from "./argv";
import { checkArgv, compareVersions, flagTable, supportedVersions, versionFromTag } from "./catalog";

const v011 = flagTable("0.11.0")!;
const v021 = flagTable("0.21.0")!;
const flags = (issues: { flag: string; message: string }[]) => issues.map((i) => `${i.flag}: ${i.message}`);

describe("the flag tables", () => {
  it("cover a v0.11 release and the newest on PyPI, each citing vLLM's source", () => {
    assert.deepEqual(supportedVersions(), ["0.11.0", "0.20.0", "0.21.0", "0.34.0"]);
    for (const v of supportedVersions()) {
      const t = flagTable(v)!;
      // The hand-curated tables cite the branch point in upstream main (a
      // full sha); npm run catalog cites the release's own commit as the
      // wheel's _version.py abbreviates it.
      assert.match(t.source.commit, /^[0-9a-f]{9,40}$/, v);
      assert.ok(t.source.files.includes("vllm/engine/arg_utils.py"), v);
      assert.ok(t.options.length > 150, `${v} has only ${t.options.length} options`);
    }
  });

  it("record what changed between releases", () => {
    const has = (t: typeof v011, f: string) => t.options.some((o) => o.names.includes(f));
    assert.ok(has(v011, "--swap-space") && !has(v021, "--swap-space"));
    assert.equal(v021.removed.find((r) => r.flag === "--swap-space")?.removedIn, "0.18.0");
    assert.ok(has(v011, "--rope-scaling") && !has(v021, "--rope-scaling"));
  });
});

describe("checkArgv", () => {
  it("accepts what both stacks render, in every supported release", () => {
    const argv = renderArgv({
      model: "Qwen/Qwen3-VL-32B-Instruct-FP8", port: 5003, tensorParallelSize: 2, gpuMemoryUtilization: 0.85, maxModelLen: 16384, kvCacheDtype: "fp8",
      enableChunkedPrefill: true, enableAutoToolChoice: true, toolCallParser: "hermes", distributedExecutorBackend: "mp", quantization: "awq_marlin",
      vision: { limitMmPerPrompt: { image: 3, video: 0 }, maxPixels: 599040, skipMmProfiling: true, mmEncoderTpMode: "data" },
    });
    for (const v of supportedVersions()) assert.deepEqual(checkArgv(flagTable(v)!, argv), [], v);
  });

  it("names an unknown flag", () => {
    assert.deepEqual(flags(checkArgv(v011, ["m", "--max-modle-len", "4096"])), ["--max-modle-len: is not a flag of vLLM 0.11.0; check the name against `vllm serve --help` for 0.11.0"]);
  });

  it("names a removed flag, with its release and PR", () => {
    assert.deepEqual(flags(checkArgv(v021, ["m", "--swap-space", "16"])), ["--swap-space: was removed in vLLM 0.18.0 (vllm-project/vllm PR #36216); the pinned vLLM 0.21.0 rejects it: drop it"]);
  });

  it("points to the release that has a newer flag", () => {
    assert.match(flags(checkArgv(v011, ["m", "--attention-backend", "FLASH_ATTN"]))[0], /\(vLLM 0\.20\.0, 0\.21\.0, 0\.34\.0 has it\)/);
  });

  it("accepts underscores and the = form, as vLLM's parser does", () => {
    assert.deepEqual(checkArgv(v011, ["m", "--max_model_len", "4096", "--gpu-memory-utilization=0.9"]), []);
  });

  it("refuses an abbreviation vLLM would accept: it changes meaning across releases", () => {
    assert.match(flags(checkArgv(v011, ["m", "--tensor-parallel", "2"]))[0], /is not a full flag name .* write the full name/);
  });

  it("checks value types, JSON, choices and the values vLLM checks at start-up", () => {
    assert.deepEqual(flags(checkArgv(v011, ["m", "--port", "80a", "--gpu-memory-utilization", "most", "--limit-mm-per-prompt", "image=3", "--kv-cache-dtype", "fp9", "--tool-call-parser", "hermes3", "--quantization", "awq_marlin"])), [
      '--port: "80a" is not an integer, which vLLM 0.11.0 requires; write a whole number',
      '--gpu-memory-utilization: "most" is not a number, which vLLM 0.11.0 requires; write one such as 0.9',
      `--limit-mm-per-prompt: "image=3" is not valid JSON (Unexpected token 'i', "image=3" is not valid JSON), and vLLM 0.11.0 parses it with json.loads; write it as JSON, e.g. '{"image": 3}'`,
      '--kv-cache-dtype: "fp9" is not one of "auto", "bfloat16", "fp8", "fp8_e4m3", "fp8_e5m2", "fp8_inc" in vLLM 0.11.0; use one of those',
      `--tool-call-parser: "hermes3" is not one vLLM 0.11.0 knows (${v011.options.find((o) => o.names.includes("--tool-call-parser"))!.knownValues!.join(", ")}), so it would fail at start-up; use one of those`,
    ]);
  });

  it("takes dotted sub-keys of JSON flags and human token counts", () => {
    assert.deepEqual(checkArgv(v011, ["m", "--limit-mm-per-prompt.image", "3", "--max-model-len", "32k"]), []);
    assert.deepEqual(checkArgv(v021, ["m", "--max-model-len", "auto"]), []);
  });

  it("refuses a value given to a switch, and a missing value", () => {
    assert.deepEqual(flags(checkArgv(v011, ["m", "--enforce-eager=yes", "--port"])), ["--enforce-eager: takes no value in vLLM 0.11.0; write --enforce-eager alone", "--port: expects a value in vLLM 0.11.0; put it after the flag"]);
  });

  it("refuses --model: vllm serve takes the model as its positional argument", () => {
    for (const t of [v011, v021]) assert.match(flags(checkArgv(t, ["m", "--model", "other"]))[0], /^--model: is not for `vllm serve` .* remove it$/);
  });

  it("refuses a second positional argument", () => {
    assert.match(flags(checkArgv(v011, ["m", "other"]))[0], /^other: unexpected value "other"/);
  });
});

describe("versions", () => {
  it("reads the release from an image tag", () => {
    assert.equal(versionFromTag("v0.11.0"), "0.11.0");
    assert.equal(versionFromTag("v0.21.0-cu129"), "0.21.0");
    assert.equal(versionFromTag("latest"), undefined);
    assert.ok(compareVersions("0.9.2", "0.11.0") < 0);
  });
});

/**
 * Every message the catalog can give, for every table: each removed flag,
 * one from another release, an abbreviation, each kind of bad value, a
 * misplaced value, --model. Each must be one sentence that says what is
 * wrong, what to do, and on what authority (the vLLM release or PR).
 */
function everyMessage(): string[] {
  const out: string[] = [];
  for (const v of supportedVersions()) {
    const t = flagTable(v)!;
    const spec = (type: string) => t.options.find((o) => o.action === "store" && o.type === type && !o.choices)!.names[0];
    const choice = t.options.find((o) => o.choices && o.choices.length > 0)!.names[0];
    const known = t.options.find((o) => o.knownValues)!.names[0];
    const flag = t.options.find((o) => o.action === "boolean_optional")!.names[0];
    const elsewhere = supportedVersions()
      .filter((o) => o !== v)
      .flatMap((o) => flagTable(o)!.options.flatMap((s) => s.names))
      .find((n) => !t.options.some((s) => s.names.includes(n)) && !t.removed.some((r) => r.flag === n) && n.startsWith("--"));
    const argvs: string[][] = [
      ...t.removed.map((r) => ["m", r.flag, "1"]),
      ["m", "--max-num-batched", "8"],
      ["m", "--not-a-flag-anywhere"],
      ["m", spec("int"), "x"],
      ["m", spec("float"), "x"],
      ["m", spec("json"), "image=3"],
      ["m", choice, "nope"],
      ["m", known, "nope"],
      ["m", `${flag}=1`],
      ["m", spec("int")],
      ["m", "other"],
      ["m", "--model", "x"],
      ...(elsewhere ? [["m", elsewhere, "1"]] : []),
    ];
    for (const argv of argvs) out.push(...checkArgv(t, argv).map((i) => `${i.flag} ${i.message}`));
  }
  return out;
}

describe("catalog messages", () => {
  const messages = everyMessage();

  it("cover each table's removed flags and each kind of problem", () => {
    assert.ok(messages.length > 100, `only ${messages.length} messages`);
  });

  for (const m of messages) {
    it(m.length > 90 ? `${m.slice(0, 90)}...` : m, () => {
      // Quoted values (JSON, argparse choices) may hold anything; judge the prose.
      const prose = m.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, "Q").replace(/\be\.g\./g, "eg");
      assert.doesNotMatch(prose, /\.\s+\S/, "one sentence: no sentence break");
      assert.doesNotMatch(prose, /\.$/, "no closing period, like every config error");
      assert.match(prose, /[;:] (use|drop|write|pin|put|remove|check|set)\b/, "says what to do");
      assert.match(m, /vLLM (\d+\.\d+(\.\d+)?)/, "names the release it is about");
      assert.doesNotMatch(prose, /\.\s*instead\b/, "no dangling 'instead'");
    });
  }
});

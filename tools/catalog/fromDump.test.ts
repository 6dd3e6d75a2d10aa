import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { FlagSpec, FlagTable } from "../../components/vllm/catalog";
import { checkArgv } from "../../components/vllm/catalog";
import type { ParserDump } from "./dump";
import { choiceText, mapType, releaseCommit, removedSince, serialise, tableFromDump } from "./fromDump";

// 22 actions of vllm==0.34.0's real parser, dumped by dump_parser.py (known value lists cut to 6).
const dump = JSON.parse(readFileSync(join(__dirname, "testdata", "dump-0.34.0-sample.json"), "utf8")) as ParserDump;
const meta = { uploaded: "2026-11-28T17:02:11.123Z", uploadedFrom: "https://pypi.org/simple/vllm/ upload-time", wheel: "vllm-0.34.0-cp38-abi3-manylinux_2_28_x86_64.whl" };

const opt = (names: string[], extra: Partial<FlagSpec> = {}): FlagSpec => ({ names, action: "store", type: "str", nargs: null, choices: null, source: "vllm/config/cache.py", ...extra });
const previous: FlagTable = {
  vllm: "0.21.0",
  released: "2026-05-15",
  source: { repo: "vllm-project/vllm", commit: "5cba6839e", files: [] },
  positional: [{ name: "model_tag", nargs: "?" }],
  options: [
    opt(["--max-model-len"], { type: "human_int" }),
    opt(["--calculate-kv-scales", "--no-calculate-kv-scales"], { action: "boolean_optional", type: null }),
    opt(["--kv-cache-dtype"], { choices: ["auto", "fp8"] }),
  ],
  removed: [
    { flag: "--swap-space", removedIn: "0.18.0", replacement: null, evidence: "PR #36216" },
    { flag: "--max-model-len", removedIn: "0.1.0", replacement: null, evidence: "made up: back in this release" },
  ],
};

const table = tableFromDump(dump, meta, previous);
const option = (name: string) => table.options.find((o) => o.names.includes(name)) as FlagSpec & Record<string, unknown>;

describe("tableFromDump", () => {
  it("writes the table's header from the dump and the PyPI upload", () => {
    assert.equal(table.vllm, "0.34.0");
    assert.equal(table.released, "2026-11-28");
    assert.equal(table.source.commit, "62d4bc3c7");
    assert.equal((table.source as unknown as Record<string, unknown>).wheel, meta.wheel);
    assert.deepEqual(table.positional, [{ name: "model_tag", nargs: "?", type: "str", source: "vllm/entrypoints/common/cli_args.py" }]);
    assert.equal(table.options.length, 21, "every action but the positional");
  });

  it("maps vLLM's type wrappers to our type names", () => {
    assert.deepEqual([option("--tensor-parallel-size").type, option("--tensor-parallel-size").acceptsNone], ["int", undefined]);
    assert.deepEqual([option("--api-key").type, option("--api-key").nargs, option("--api-key").acceptsNone], ["str", "+", true]);
    assert.deepEqual([option("--max-model-len").type, option("--max-model-len").alsoAccepts], ["human_int", ["auto", "-1"]]);
    assert.deepEqual([option("--hf-overrides").type, option("--hf-overrides").alsoAcceptsPlainString], ["json", true]);
    assert.equal(option("--compilation-config").type, "json", "a config dataclass is validated JSON");
    assert.equal(option("--gpu-memory-utilization").type, "float");
  });

  it("reads a lambda by what it did with the probe inputs", () => {
    assert.equal(option("--moe-backend").type, "str");
    assert.match(String(option("--moe-backend").note), /lower-cased/);
    assert.equal(option("--device-ids").type, "str");
    assert.equal(option("--device-ids").note, undefined, "it keeps the text's case");
  });

  it("lists every string argparse matches, hidden ones included", () => {
    assert.deepEqual(option("--enable-auto-tool-choice").names, ["--enable-auto-tool-choice", "--no-enable-auto-tool-choice", "--disable-auto-tool-choice"]);
    assert.equal(option("--enable-auto-tool-choice").action, "boolean_optional");
    assert.equal(option("--enable-auto-tool-choice").customAction, "EnableDisableAction");
    assert.equal(option("--enable-auto-tool-choice").nargs, null);
  });

  it("keeps custom actions as stores that name their class", () => {
    assert.deepEqual([option("--lora-modules").action, option("--lora-modules").customAction], ["store", "LoRAParserAction"]);
    assert.deepEqual([option("--log-config-file").action, option("--log-config-file").type], ["store", null]);
    assert.equal(option("--middleware").action, "append");
    assert.equal(option("-h").action, "help");
    assert.equal(option("-h").source, "argparse (add_help=True) via vllm/utils/argparse_utils.py FlexibleArgumentParser");
  });

  it("writes None in choices as Python shows it, and attributes each flag to its config file", () => {
    assert.deepEqual(option("--mm-encoder-attn-dtype").choices, ["fp8", "None"]);
    assert.equal(option("--mm-encoder-attn-dtype").source, "vllm/config/multimodal.py");
    assert.equal(option("--headless").source, "vllm/entrypoints/common/cli_args.py");
    assert.equal(option("--device-ids").source, "vllm/engine/arg_utils.py", "defined in arg_utils.py itself, inside ParallelConfig's group");
  });

  it("marks --model hidden: vLLM leaves it out when help is asked for", () => {
    assert.equal(option("--model").hidden, true);
    assert.equal(option("--tensor-parallel-size").hidden, undefined);
  });

  it("adds the values vLLM checks after parsing, with why", () => {
    assert.deepEqual(option("--tool-call-parser").knownValues, dump.knownValues.toolCallParsers!.values);
    assert.deepEqual(option("--kv-cache-dtype").knownValues, dump.knownValues.kvCacheDtypes!.values);
    assert.equal(option("--kv-cache-dtype").choices, null);
    assert.match(String(option("--quantization").note), /exit 1/);
    assert.match(String(option("--allowed-origins").note), /one JSON list/);
  });

  it("lists what the previous release had and this one lacks, and carries its removals", () => {
    assert.deepEqual(
      table.removed.map((r) => [r.flag, r.removedIn]),
      [
        ["--swap-space", "0.18.0"],
        ["--calculate-kv-scales", "0.34.0"],
        ["--no-calculate-kv-scales", "0.34.0"],
      ],
      "--max-model-len is back, so no longer removed",
    );
    assert.match(table.removed[1].evidence, /^not found: /);
  });

  it("gives a table catalog.ts checks argv with", () => {
    assert.deepEqual(checkArgv(table, ["Qwen/Qwen3-0.6B", "--tensor-parallel-size", "2", "--kv-cache-dtype", "fp8", "--disable-auto-tool-choice"]), []);
    assert.match(checkArgv(table, ["--kv-cache-dtype", "fp9"])[0].message, /not one vLLM 0\.34\.0 knows/);
    assert.match(checkArgv(table, ["--calculate-kv-scales"])[0].message, /was removed in vLLM 0\.34\.0/);
  });

  it("is deterministic: the same inputs serialise to the same bytes", () => {
    assert.equal(serialise(tableFromDump(dump, meta, previous)), serialise(table));
  });

  it("keeps a committed table's curated evidence for the same release", () => {
    const committed = structuredClone(table) as FlagTable;
    (committed.source as unknown as Record<string, unknown>).releaseTagCommit = "62d4bc3c7";
    (committed.source as unknown as Record<string, unknown>).howChosen = "by hand";
    (committed.options.find((o) => o.names[0] === "--headless") as unknown as Record<string, unknown>).note = "read in the code";
    committed.removed[1] = { ...committed.removed[1], evidence: "PR #1 removed it" };
    const again = tableFromDump(dump, meta, previous, committed);
    assert.equal((again.source as unknown as Record<string, unknown>).howChosen, "by hand");
    assert.equal((again.options.find((o) => o.names[0] === "--headless") as unknown as Record<string, unknown>).note, "read in the code");
    assert.equal(again.removed[1].evidence, "PR #1 removed it");
    assert.equal(again.removed.length, 3);
  });

  it("regenerates a table it wrote itself, keeping only the removals' evidence", () => {
    const generated = structuredClone(table) as FlagTable;
    (generated.options.find((o) => o.names[0] === "--headless") as unknown as Record<string, unknown>).note = "stale";
    ((generated as unknown as { parser: { notes: string } }).parser).notes = "stale";
    generated.removed[1] = { ...generated.removed[1], evidence: "PR #2 removed it" };
    const again = tableFromDump(dump, meta, previous, generated);
    assert.equal((again.options.find((o) => o.names[0] === "--headless") as unknown as Record<string, unknown>).note, undefined);
    assert.match(((again as unknown as { parser: { notes: string } }).parser).notes, /^Generated by npm run catalog/);
    assert.equal(again.removed[1].evidence, "PR #2 removed it");
  });

  it("records vllm's top-level sub-commands, for the stand-in's usage line", () => {
    assert.deepEqual(((table as unknown as { parser: { subcommands?: string[] } }).parser).subcommands, dump.subcommands);
    assert.ok(dump.subcommands!.includes("snapshot"));
  });
});

describe("the pieces", () => {
  it("refuses a type callable it does not know", () => {
    assert.throws(() => mapType({ name: "vllm.engine.arg_utils:parse_something_new" }, "--x"), /teach mapType/);
    assert.throws(() => mapType({ name: "m:<lambda>", probes: [{ input: "abc", accepted: false }] }, "--x"), /unknown type callable/);
  });

  it("strips setuptools-scm's g from the commit", () => {
    assert.equal(releaseCommit("g62d4bc3c7"), "62d4bc3c7");
    assert.equal(releaseCommit("gabcdefx"), "gabcdefx", "not a sha after the g");
    assert.equal(releaseCommit(null), null);
  });

  it("writes choices as Python's str() does", () => {
    assert.deepEqual([null, true, 3, "x"].map(choiceText), ["None", "True", 3, "x"]);
  });

  it("has no removals without a previous release", () => {
    assert.deepEqual(removedSince(undefined, [], "0.34.0"), []);
  });
});

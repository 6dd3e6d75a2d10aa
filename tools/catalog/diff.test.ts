import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { FlagSpec, FlagTable } from "../../components/vllm/catalog";
import { diffTables, formatDiff } from "./diff";

const opt = (names: string[], extra: Partial<FlagSpec> = {}): FlagSpec => ({ names, action: "store", type: "str", nargs: null, choices: null, ...extra });
const table = (vllm: string, options: FlagSpec[]): FlagTable => ({ vllm, released: "", source: { repo: "", commit: "", files: [] }, positional: [], options, removed: [] });

describe("diffTables", () => {
  const a = table("0.21.0", [
    opt(["--port"], { type: "int" }),
    opt(["--swap-space"]),
    opt(["--kv-cache-dtype"], { choices: ["auto", "fp8", "fp8_inc"] }),
    opt(["--x", "--no-x"], { action: "boolean_optional", type: null }),
    opt(["--log-config-file"]),
  ]);
  const b = table("0.34.0", [
    opt(["--port"], { type: "int" }),
    opt(["--kv-cache-dtype"], { knownValues: ["auto", "fp8", "nvfp4"] }),
    opt(["--x"], { action: "boolean_optional", type: null }),
    opt(["--log-config-file"], { type: null }),
    opt(["--spec-model"]),
  ]);
  const d = diffTables(a, b);

  it("lists added options, removed option strings, changed values and types", () => {
    assert.deepEqual(d.added, ["--spec-model"]);
    assert.deepEqual(d.removed, ["--swap-space", "--no-x"]);
    assert.deepEqual(d.choices, [{ flag: "--kv-cache-dtype", added: ["nvfp4"], removed: ["fp8_inc"], kind: "choices -> checked after parsing" }]);
    assert.deepEqual(d.types, [{ flag: "--log-config-file", from: "str", to: "none" }]);
  });

  it("prints counts, then names", () => {
    const text = formatDiff(d);
    assert.match(text, /^vLLM 0\.21\.0 -> 0\.34\.0: 1 added, 2 removed, 1 with changed choices, 1 with a changed type\n/);
    assert.match(text, /choices --kv-cache-dtype: \(choices -> checked after parsing\) \+nvfp4 -fp8_inc/);
  });

  it("is empty between a table and itself", () => {
    assert.match(formatDiff(diffTables(a, a)), /0 added, 0 removed, 0 with changed choices, 0 with a changed type$/);
  });
});

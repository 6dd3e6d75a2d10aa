import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatMemoryTable, kvBytesPerToken, planMemory } from "./memory";
import { KNOWN_MODELS } from "./models";

const MiB = 1024 * 1024;

describe("kvBytesPerToken", () => {
  it("splits KV heads across tensor-parallel ranks", () => {
    // Qwen3-32B: 64 layers, 8 KV heads of 128. fp8 at TP2: 2 × 64 × 4 × 128 × 1 = 65536 B.
    const model = { layers: 64, kvHeads: 8, headDim: 128, checkpointBytes: 0 };
    assert.equal(kvBytesPerToken(model, 2, "fp8"), 65536);
    // bf16 ("auto") at TP1: 2 × 64 × 8 × 128 × 2 = 262144 B (256 KiB, as the model card implies).
    assert.equal(kvBytesPerToken(model, 1, "auto"), 262144);
  });

  it("never gives a rank less than one KV head", () => {
    const model = { layers: 2, kvHeads: 2, headDim: 64, checkpointBytes: 0 };
    assert.equal(kvBytesPerToken(model, 4, "fp8"), 2 * 2 * 1 * 64);
  });

  it("rejects an unknown dtype", () => {
    assert.throws(() => kvBytesPerToken({ layers: 1, kvHeads: 1, headDim: 1, checkpointBytes: 0 }, 1, "fp4"), /unknown KV cache dtype/);
  });
});

describe("planMemory", () => {
  it("matches the hand-computed plan for medium (Qwen3-32B-AWQ, 0.95, 32k, fp8, TP2)", () => {
    const m = KNOWN_MODELS["Qwen/Qwen3-32B-AWQ"];
    const plan = planMemory({ model: m.footprint, tensorParallelSize: 2, kvCacheDtype: "fp8", gpuMemoryUtilization: 0.95, gpuMemoryMiB: 24564, maxModelLen: 32768, overheadMiB: 2048 });
    // budget 24564 × 0.95 = 23335.8 MiB
    assert.equal(plan.budgetMiB.toFixed(1), "23335.8");
    // weights 19.33e9 / 2 B = 9217.26 MiB
    assert.equal(plan.weightsMiB.toFixed(2), (19.33e9 / 2 / MiB).toFixed(2));
    assert.equal(plan.weightsMiB.toFixed(2), "9217.26");
    // KV 23335.8 − 9217.26 − 2048 = 12070.54 MiB
    assert.equal(plan.kvCacheMiB.toFixed(2), "12070.54");
    // one sequence 32768 × 65536 B = 2048 MiB
    assert.equal(plan.sequenceMiB, 2048);
    assert.equal(plan.leftMiB.toFixed(2), "10022.54");
    // 12070.54 MiB / 64 KiB = 193128 tokens → 188 × 1024 = 192512; 5 full sequences
    assert.equal(plan.maxFittingModelLen, 192512);
    assert.equal(plan.concurrentSequences, 5);
    assert.equal(plan.fits, true);
  });

  it("refuses the old medium-vl compose's 131072 tokens and names what fits", () => {
    const m = KNOWN_MODELS["Qwen/Qwen3-VL-32B-Instruct-FP8"];
    const plan = planMemory({ model: m.footprint, tensorParallelSize: 2, kvCacheDtype: "fp8", gpuMemoryUtilization: 0.85, gpuMemoryMiB: 24564, maxModelLen: 131072, overheadMiB: 2048 });
    // budget 20879.4; weights (35.5e9 − 1.18e9)/2 + 1.18e9 B = 17.16e9 + 1.18e9 = 18.34e9 B = 17490.39 MiB
    assert.equal(plan.weightsMiB.toFixed(2), "17490.39");
    // KV 20879.4 − 17490.39 − 2048 = 1341.01 MiB; a 131072 sequence needs 8192 MiB
    assert.equal(plan.kvCacheMiB.toFixed(2), "1341.01");
    assert.equal(plan.sequenceMiB, 8192);
    assert.equal(plan.fits, false);
    // 1341.01 MiB / 64 KiB = 21456 tokens → 20 × 1024
    assert.equal(plan.maxFittingModelLen, 20480);
  });

  it("reports no room when weights and overhead exceed the budget", () => {
    const plan = planMemory({ model: { layers: 64, kvHeads: 8, headDim: 128, checkpointBytes: 60e9 }, tensorParallelSize: 2, kvCacheDtype: "fp8", gpuMemoryUtilization: 0.9, gpuMemoryMiB: 24564, maxModelLen: 1024, overheadMiB: 2048 });
    assert.ok(plan.kvCacheMiB < 0);
    assert.equal(plan.maxFittingModelLen, 0);
    assert.equal(plan.fits, false);
  });
});

describe("formatMemoryTable", () => {
  it("shows weights, KV for one sequence and what is left", () => {
    const plan = planMemory({ model: KNOWN_MODELS["Qwen/Qwen3-32B-AWQ"].footprint, tensorParallelSize: 2, kvCacheDtype: "fp8", gpuMemoryUtilization: 0.95, gpuMemoryMiB: 24564, maxModelLen: 32768, overheadMiB: 2048 });
    const table = formatMemoryTable(plan, 24564, 32768);
    assert.match(table, /weights \(this GPU's share\)\s+9\.00 GiB/);
    assert.match(table, /one 32768-token sequence\s+2\.00 GiB/);
    assert.match(table, /left\s+9\.79 GiB/);
    assert.match(table, /max-model-len that fits\s+192512/);
  });
});

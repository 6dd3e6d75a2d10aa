import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { NvidiaSmiParseError, parseComputeApps, parseQueryGpu } from "./nvidiaSmi";

// Real captures from an H200 host, copied unchanged from shared/fixtures.
const fixture = (f: string) => readFileSync(join(__dirname, "../../test/fixtures/nvidia-smi", f), "utf8");

describe("parseQueryGpu", () => {
  it("parses the real idle capture (noheader, nounits)", () => {
    const gpus = parseQueryGpu(fixture("h200x2-idle-query-gpu.csv"));
    assert.equal(gpus.length, 2);
    assert.deepEqual(gpus[1], {
      index: 1,
      uuid: "GPU-f019b024-2270-6597-3d36-c2bf381e4529",
      name: "NVIDIA H200",
      memoryTotalMiB: 143771,
      memoryUsedMiB: 0,
      memoryFreeMiB: 143156,
      driverVersion: "580.159.04",
      computeCap: "9.0",
      pciBusId: "00000000:00:07.0",
    });
  });

  it("parses the header-and-units form by its header", () => {
    const gpus = parseQueryGpu(fixture("h200x2-idle-query-gpu-with-header.csv"));
    assert.deepEqual(gpus.map((g) => [g.index, g.name, g.memoryTotalMiB, g.memoryUsedMiB]), [
      [0, "NVIDIA H200", 143771, 0],
      [1, "NVIDIA H200", 143771, 0],
    ]);
  });

  it("parses the busy capture with the columns it was queried with", () => {
    const gpus = parseQueryGpu(fixture("h200x2-busy-memory.csv"), ["index", "memory.total", "memory.used", "memory.free"]);
    assert.equal(gpus[1].memoryUsedMiB, 19601);
    assert.equal(gpus[1].memoryFreeMiB, 123556);
  });

  it("rejects a row with the wrong number of columns, saying which line", () => {
    assert.throws(() => parseQueryGpu("0, GPU-x, NVIDIA H200, 143771\n"), (e: Error) => e instanceof NvidiaSmiParseError && /line 1: expected 9 columns/.test(e.message));
  });

  it("rejects a memory figure that is not one", () => {
    assert.throws(() => parseQueryGpu(fixture("h200x2-idle-query-gpu.csv").replace("143771", "lots")), /memory.total "lots" is not a MiB figure/);
  });
});

describe("parseComputeApps", () => {
  it("parses the real busy capture", () => {
    assert.deepEqual(parseComputeApps(fixture("h200x2-busy-compute-apps.csv")), [{ pid: 573, gpuUuid: "GPU-f019b024-2270-6597-3d36-c2bf381e4529", usedMemoryMiB: 19592 }]);
  });

  it("gives an empty list when no process runs", () => {
    assert.deepEqual(parseComputeApps("\n"), []);
  });
});

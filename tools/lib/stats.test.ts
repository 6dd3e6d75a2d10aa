import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { percentile, pool, summarize } from "./stats";

describe("summarize", () => {
  it("gives nearest-rank p50/p95 and the max", () => {
    const s = summarize(Array.from({ length: 20 }, (_, i) => 20 - i)); // 1..20 unsorted
    assert.deepEqual(s, { count: 20, p50: 10, p95: 19, max: 20 });
  });
  it("handles one value", () => {
    assert.deepEqual(summarize([7]), { count: 1, p50: 7, p95: 7, max: 7 });
  });
  it("is NaN on nothing", () => {
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});

describe("pool", () => {
  it("never runs more than the concurrency at once, and keeps failures", async () => {
    let running = 0;
    let peak = 0;
    const out = await pool(10, 3, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (i === 4) throw new Error("boom");
      return i;
    });
    assert.equal(peak, 3);
    assert.equal(out.filter((r) => r.status === "rejected").length, 1);
    assert.deepEqual(out.map((r) => (r.status === "fulfilled" ? r.value : -1)), [0, 1, 2, 3, -1, 5, 6, 7, 8, 9]);
  });
});

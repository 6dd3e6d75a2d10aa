import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pollEvery } from "./poll";

describe("pollEvery", () => {
  it("ticks until stopped, and stop waits for the last tick", async () => {
    const ticks: number[] = [];
    const p = pollEvery(10, async (t) => {
      ticks.push(t);
      await new Promise((r) => setTimeout(r, 5));
    });
    await new Promise((r) => setTimeout(r, 60));
    await p.stop();
    const n = ticks.length;
    assert.ok(n >= 3, `only ${n} ticks`);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(ticks.length, n, "no tick after stop");
  });

  it("ends by itself when a tick returns false", async () => {
    let n = 0;
    const p = pollEvery(1, async () => ++n < 3);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(n, 3);
    await p.stop();
  });
});

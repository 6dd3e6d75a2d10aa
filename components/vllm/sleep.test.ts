import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatStandbyPlan, MIN_STANDBY_VERSION, sleepTakesMode, standbyGpuPlan, standbyHostRamMiB, standbyReleaseProblem } from "./sleep";

const member = (stack: string, util: number, gpus = [0, 1], weightsMiB = 19000) => ({ stack, gpus, gpuMemoryUtilization: util, gpuMemoryMiB: 24564, weightsMiB });

describe("standby releases", () => {
  it("refuses releases without the fixes, naming the PRs and the release to pin", () => {
    for (const v of ["0.11.0", "0.20.0", "0.21.0"]) assert.match(standbyReleaseProblem(v) ?? "", /vllm#44483.*pin image\.tag v0\.34\.0 or later, or turn host\.standby\.enabled off/);
    assert.equal(standbyReleaseProblem(MIN_STANDBY_VERSION), undefined);
    assert.equal(standbyReleaseProblem("0.35.1"), undefined);
  });
  it("mode=wait exists from 0.17 (vllm#34528)", () => {
    assert.equal(sleepTakesMode("0.11.0"), false);
    assert.equal(sleepTakesMode("0.17.0"), true);
  });
});

describe("standbyGpuPlan", () => {
  it("adds each sleeping peer's leftover on shared GPUs to this model's budget", () => {
    const p = standbyGpuPlan(member("medium", 0.9), [member("medium-vl", 0.85)], 1536);
    assert.deepEqual([p.budgetMiB, p.peersLeftoverMiB, p.fits, p.maxUtilization], [22108, 1536, true, 0.93]);
  });
  it("refuses a utilization that leaves no room for the leftover (medium's 0.95)", () => {
    const p = standbyGpuPlan(member("medium", 0.95), [member("medium-vl", 0.85)], 1536);
    assert.equal(p.fits, false);
    assert.equal(p.maxUtilization, 0.93);
  });
  it("ignores peers on other GPUs, and itself", () => {
    const p = standbyGpuPlan(member("medium", 0.99), [member("medium", 0.9), member("other", 0.9, [2, 3])], 1536);
    assert.equal(p.peersLeftoverMiB, 0);
    assert.equal(p.fits, true);
  });
  it("the host RAM is every member's weights plus the reserve", () => {
    assert.equal(standbyHostRamMiB([member("a", 0.9, [0], 19000.2), member("b", 0.9, [0], 35000)], 8192), 62193);
  });
  it("formats its rows", () => {
    assert.match(formatStandbyPlan(standbyGpuPlan(member("medium", 0.9), [member("medium-vl", 0.85)], 1536), ["medium-vl"]), /standby: asleep \(medium-vl\)\s+1\.50 GiB/);
  });
});

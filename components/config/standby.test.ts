import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readStackFile } from "./stackFile";
import { validateStack } from "./load";
import { hostRamProblem } from "./standby";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..");

/** Both committed stacks, with standby and the given overrides. */
function stacks(standby: boolean | [boolean, boolean], mediumUtil = 0.9, mediumTag = "v0.34.0") {
  const [a, b] = Array.isArray(standby) ? standby : [standby, standby];
  const m = readStackFile(REPO, "medium");
  const vl = readStackFile(REPO, "medium-vl");
  m.raw.host = { standby: { enabled: a } };
  m.raw.image = { tag: mediumTag };
  m.raw.vllm = { ...(m.raw.vllm as object), gpuMemoryUtilization: mediumUtil };
  vl.raw.host = { standby: { enabled: b } };
  for (const s of [m, vl]) s.secrets = { apiKey: "secret", hfToken: "secret" };
  return { m, vl };
}

describe("standby in the host group", () => {
  it("off by default: no facts, and nothing rendered", () => {
    const m = readStackFile(REPO, "medium");
    m.secrets = { apiKey: "secret", hfToken: "secret" };
    const v = validateStack(m, [readStackFile(REPO, "medium-vl")]);
    assert.equal(v.ok, true);
    if (!v.ok) return;
    assert.equal(v.profile.standby, undefined);
    assert.ok(!v.profile.argv.includes("--enable-sleep-mode"));
  });

  it("on: renders --enable-sleep-mode, and plans the peer's leftover", () => {
    const { m, vl } = stacks(true);
    const v = validateStack(m, [vl]);
    assert.equal(v.ok, true, v.ok ? "" : v.errors.join("\n"));
    if (!v.ok) return;
    assert.ok(v.profile.argv.includes("--enable-sleep-mode"));
    assert.deepEqual(v.profile.standby?.peers, ["medium-vl"]);
    assert.equal(v.profile.standby?.gpu.peersLeftoverMiB, 1536);
    assert.match(v.profile.standby?.table ?? "", /standby: asleep \(medium-vl\)/);
  });

  it("refuses, all at once: an old release, a utilization with no room for the peer, a group that disagrees", () => {
    const { m, vl } = stacks(true, 0.95, "v0.11.0");
    const v = validateStack(m, [vl]);
    assert.equal(v.ok, false);
    if (v.ok) return;
    assert.ok(v.errors.some((e) => /^host\.standby\.enabled: vLLM 0\.11\.0 lacks fixes standby relies on/.test(e)), v.errors.join("\n"));
    const fit = stacks(true, 0.95);
    const f = validateStack(fit.m, [fit.vl]);
    assert.equal(f.ok, false);
    if (!f.ok) assert.match(f.errors.join("\n"), /^vllm\.gpuMemoryUtilization: 0\.95 × 24564 MiB = 23336 MiB per GPU, plus 1536 MiB that medium-vl keep\(s\) asleep .* lower it to at most 0\.93/m);
    const split = stacks([true, false]);
    const s = validateStack(split.m, [split.vl]);
    assert.equal(s.ok, false);
    if (!s.ok) assert.match(s.errors.join("\n"), /^host\.standby\.enabled: is true here but false in stack medium-vl, which shares GPUs 0,1 of host local; standby is a property of the host group/m);
  });

  it("the host's RAM must hold every model's pinned weights plus the reserve", () => {
    const { m, vl } = stacks(true);
    const v = validateStack(m, [vl]);
    if (!v.ok || !v.profile.standby) throw new Error("expected standby facts");
    assert.equal(hostRamProblem(v.profile.standby, 256 * 1024), undefined);
    assert.match(hostRamProblem(v.profile.standby, 32 * 1024) ?? "", /^host\.standby\.enabled: the host has 32\.0 GiB of RAM, but standby pins every model's weights in it \(medium [\d.]+ GiB, medium-vl [\d.]+ GiB\) .*; add RAM, or turn host\.standby\.enabled off$/);
    assert.match(hostRamProblem(v.profile.standby, undefined) ?? "", /could not read the host's RAM/);
  });
});

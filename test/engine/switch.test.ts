/**
 * npm run switch, with the real engine and plugins against the stand-in GPU
 * host: a good switch; a target that never becomes healthy (rolls back by
 * itself, medium answers again); a target that dies after a few requests
 * (validation fails, rolls back). Outside npm test, skipped, saying why,
 * where no docker and command plugins were resolved.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { mustInspect, remove } from "../helpers/docker";
import { engineProject, needsPlugins } from "../helpers/engineProject";

const API_KEY = `sk-switch-${randomBytes(8).toString("hex")}`;
const project = engineProject();

const runSwitch = (to: string) => project.tool("switch", ["--to", to, "--requests", "10"]);

describe("npm run switch", { skip: needsPlugins }, () => {
  before(async () => {
    for (const n of ["myia_vllm-medium-qwen3", "myia_vllm-medium-vl-qwen3"]) await remove(n);
    await project.configure(API_KEY, "hf_switch", 2);
    const up = await project.op("medium", { op: "up" });
    assert.equal(up.ok, true, up.output);
  });

  after(async () => {
    for (const s of ["medium-vl", "medium"]) await project.op(s, { op: "destroy" });
  });

  it("switches medium -> medium-vl: preview, up, validate, with the downtime", async () => {
    const r = await runSwitch("medium-vl");
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /switch medium -> medium-vl/);
    assert.match(r.out, /preview medium-vl: ok/);
    assert.match(r.out, /validate medium-vl: PASSED/);
    assert.match(r.out, /switched to medium-vl; no model answered for [\d.]+ s/);
    assert.equal((await mustInspect("myia_vllm-medium-qwen3")).State.Status, "exited");
  });

  it("rolls back by itself when the target never becomes healthy", async () => {
    await project.op("medium", { op: "configure", config: { "container.env.STANDIN_FAIL": { value: "unhealthy" }, "container.readyTimeoutSeconds": { value: "8" } } });
    const r = await runSwitch("medium");
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /medium failed at up:/);
    assert.match(r.out, /did not become healthy/);
    assert.match(r.out, /rolled back: medium-vl answers again; no model answered for [\d.]+ s/);
    assert.equal((await mustInspect("myia_vllm-medium-vl-qwen3")).State.Status, "running");
    await project.op("medium", { op: "configure", remove: ["container.env.STANDIN_FAIL"], config: { "container.readyTimeoutSeconds": { value: "30" } } });
  });

  it("rolls back when the target dies after a few requests", async () => {
    await project.op("medium", { op: "configure", config: { "container.env.STANDIN_DIE_AFTER": { value: "4" } } });
    const r = await runSwitch("medium");
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /medium failed at validate:/);
    assert.match(r.out, /rolled back: medium-vl answers again/);
    await project.op("medium", { op: "configure", remove: ["container.env.STANDIN_DIE_AFTER"] });
  });

  it("refuses a second switch while one runs", async () => {
    const first = runSwitch("medium");
    await new Promise((r) => setTimeout(r, 1500));
    const second = await runSwitch("medium-vl");
    assert.equal(second.code, 2, second.out);
    assert.match(second.out, /another switch is running \(pid \d+\); wait for it to end/);
    assert.equal((await first).code, 0);
  });
});

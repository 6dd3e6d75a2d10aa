/**
 * Standby (host.standby.enabled) with the real Pulumi engine, dockerd and the
 * stand-in vLLM, whose GPU memory is the stand-in host's ledger: the model
 * not serving sleeps in vLLM's sleep mode, and a switch wakes it.
 *
 * Both stacks run vLLM 0.34.0 (the oldest catalogued release with the fixes)
 * at utilizations that leave room for the other's leftover; the host's RAM
 * is a fixture (MYIA_HOST_MEMINFO), as its GPUs are (the fake nvidia-smi).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { watchOutage } from "../../tools/lib/outage";
import { clientFromOutputs } from "../../tools/lib/client";
import { inspect, logs, mustInspect, removeLeftovers, stop } from "../helpers/docker";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { setStackValue } from "../../tools/lib/stacks";
import { byHand, enableStandby, MEDIUM, MEMINFO, sleeping, VL } from "../helpers/standby";

const LOAD_SECONDS = 4;
const WAKE_SECONDS = 1;
const API_KEY = `sk-standby-${randomBytes(10).toString("hex")}`;
const HF_TOKEN = `hf_sb${randomBytes(10).toString("hex")}`;

const project = engineProject({ MYIA_HOST_MEMINFO: MEMINFO("gpu-box-128g.txt") });
const { op, workDir } = project;
const setUtilization = (stack: string, value: number) => setStackValue(workDir, stack, ["vllm", "gpuMemoryUtilization"], value);

async function chat(port: number, key: string | null, model: string) {
  const r = await fetch(`https://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
  });
  return { status: r.status, retryAfter: r.headers.get("retry-after"), body: await r.text() };
}

async function up(stack: string) {
  const outage = watchOutage([MEDIUM.port, VL.port]);
  const t0 = Date.now();
  const r = await op(stack, { op: "up" });
  const down = await outage.stop();
  console.log(`up ${stack}: ${((Date.now() - t0) / 1000).toFixed(1)} s; no model answered for ${(down / 1000).toFixed(1)} s (stand-in load ${LOAD_SECONDS} s, wake ${WAKE_SECONDS} s)`);
  assert.equal(r.ok, true, r.output);
  return Object.assign(r, { down });
}

/** Serving: the model answers through its gateway. Asleep: its gateway refuses with 503 and Retry-After, and the model sleeps. */
async function assertServing(awake: typeof MEDIUM, asleep: typeof MEDIUM) {
  assert.equal((await chat(awake.port, API_KEY, awake.model)).status, 200);
  assert.equal(await sleeping(awake), false);
  assert.equal(await sleeping(asleep), true);
  assert.equal((await inspect(asleep.container))?.State.Status, "running", "a sleeping model's container keeps running");
  const refused = await chat(asleep.port, API_KEY, asleep.model);
  assert.equal(refused.status, 503, refused.body);
  assert.ok(Number(refused.retryAfter) > 0, "503 with Retry-After");
  assert.match(refused.body, /"code":503/, "the gateway's own answer, never the engine's");
}

describe("standby with the real engine", { skip: needsPlugins }, () => {
  before(async () => {
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
    await project.configure(API_KEY, HF_TOKEN, LOAD_SECONDS);
    await enableStandby(project, { sleepSeconds: 0.5, wakeSeconds: WAKE_SECONDS });
  });

  after(async () => {
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
  });

  it("1. preview refuses what cannot work: GPU memory without room for the sleeping peer, a host whose RAM cannot hold the weights", async () => {
    setUtilization(MEDIUM.stack, 0.95);
    const gpu = await op(MEDIUM.stack, { op: "preview" });
    assert.equal(gpu.ok, false);
    assert.match(gpu.output, /vllm\.gpuMemoryUtilization: 0\.95 × 24564 MiB = 23336 MiB per GPU, plus 1536 MiB that medium-vl keep\(s\) asleep \(host\.standby\.leftoverMiB\), is over the GPU's 24564 MiB.*lower it to at most 0\.93/);
    setUtilization(MEDIUM.stack, 0.9);

    project.extraEnv.MYIA_HOST_MEMINFO = MEMINFO("small-32g.txt");
    const ram = await op(MEDIUM.stack, { op: "preview" });
    project.extraEnv.MYIA_HOST_MEMINFO = MEMINFO("gpu-box-128g.txt");
    assert.equal(ram.ok, false);
    assert.match(ram.output, /host\.standby\.enabled: the host has 31\.3 GiB of RAM, but standby pins every model's weights in it \(medium [\d.]+ GiB, medium-vl [\d.]+ GiB\)/);

    const fine = await op(MEDIUM.stack, { op: "preview" });
    assert.equal(fine.ok, true, fine.output);
    assert.match(fine.output, /standby: asleep \(medium-vl\)\s+1\.50 GiB/, "the memory plan shows the peer's leftover");
  });

  it("2. up medium: rendered with --enable-sleep-mode and dev mode, gated by a canary completion", async () => {
    const r = await up(MEDIUM.stack);
    clientFromOutputs(r.outputs as never);
    const c = await mustInspect(MEDIUM.container);
    assert.ok(c.Args.includes("--enable-sleep-mode"), JSON.stringify(c.Args));
    assert.ok(c.Config.Env.includes("VLLM_SERVER_DEV_MODE=1"));
    assert.match(r.output, /myia_vllm-medium-qwen3: a canary completion answered/);
  });

  it("3. migration: medium is drained and put to sleep (mode=wait), medium-vl starts beside it and is gated with an image", async () => {
    const r = await up(VL.stack);
    assert.match(r.output, /put myia_vllm-medium-qwen3 to sleep in \d+ s \(standby; POST \/sleep\?level=1&mode=wait\)/);
    assert.match(r.output, /myia_vllm-medium-vl-qwen3: a canary completion with an image answered/);
    await assertServing(VL, MEDIUM);
  });

  it("4. rollback: medium wakes (no load, same container) within the wake time plus a little", async () => {
    const before = await mustInspect(MEDIUM.container);
    const r = await up(MEDIUM.stack);
    assert.match(r.output, /woke myia_vllm-medium-qwen3 in \d+ s \(standby: no load\)/);
    const now = await mustInspect(MEDIUM.container);
    assert.equal(now.Id, before.Id);
    assert.equal(now.State.StartedAt, before.State.StartedAt, "not started again");
    const log = await logs(MEDIUM.container);
    assert.equal(log.match(/Loading model weights/g)?.length, 1, "loaded once, at its first start");
    assert.match(log, /wake up the engine with tags: None/);
    assert.ok(r.down < (LOAD_SECONDS + 3) * 1000, `downtime ${r.down} ms: a wake, not a load`);
    await assertServing(MEDIUM, VL);
    // And back again: the same containers, in the same states as at the migration, still switch.
    const again = await up(VL.stack);
    assert.match(again.output, /woke myia_vllm-medium-vl-qwen3/);
    await assertServing(VL, MEDIUM);
  });

  it("5. the dev routes are refused on the public port, with and without the key", async () => {
    for (const [method, path] of [["POST", "/sleep?level=1"], ["POST", "/wake_up"], ["GET", "/is_sleeping"], ["POST", "/collective_rpc"], ["POST", "/reset_prefix_cache"]]) {
      for (const key of [null, API_KEY]) {
        const r = await fetch(`https://127.0.0.1:${VL.port}${path}`, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });
        assert.equal(r.status, key ? 404 : 401, `${method} ${path}`);
      }
    }
    assert.equal(await sleeping(VL), false, "medium-vl still awake");
  });

  it("6. a failed wake wakes the old model back", async () => {
    // medium-vl asleep keeps so much that medium cannot wake (vllm#36651: the leftover grows over cycles).
    await op(VL.stack, { op: "configure", config: { "container.env.STANDIN_SLEEP_LEFTOVER_MIB": { value: "20000" } } });
    await up(VL.stack);
    const r = await op(MEDIUM.stack, { op: "up" });
    assert.equal(r.ok, false);
    assert.match(r.output, /myia_vllm-medium-qwen3 did not wake/);
    assert.match(r.output, /woke myia_vllm-medium-vl-qwen3 back: it serves again/);
    await assertServing(VL, MEDIUM);
    await op(VL.stack, { op: "configure", remove: ["container.env.STANDIN_SLEEP_LEFTOVER_MIB"] });
    await up(VL.stack);
    await assertServing(VL, MEDIUM);
  });

  it("7a. drift: the models swapped by hand are seen at preview and swapped back by up", async () => {
    await byHand(VL, "/sleep?level=1");
    await byHand(MEDIUM, "/wake_up");
    const preview = await op(VL.stack, { op: "preview" });
    assert.equal(preview.ok, true, preview.output);
    assert.match(preview.output, /standby on GPUs 0,1: awake myia_vllm-medium-qwen3; asleep myia_vllm-medium-vl-qwen3/);
    assert.equal(await sleeping(VL), true, "preview changes nothing");
    await up(VL.stack);
    await assertServing(VL, MEDIUM);
  });

  it("7b. drift: the serving model put to sleep by hand is seen by refresh and woken by up", async () => {
    await byHand(VL, "/sleep?level=1");
    const refresh = await op(VL.stack, { op: "refresh" });
    assert.equal(refresh.ok, true, refresh.output);
    assert.match(refresh.output, /myia_vllm-medium-vl-qwen3 is asleep and no model of the group is awake \(put to sleep by hand\?\); up wakes it/);
    await up(VL.stack);
    await assertServing(VL, MEDIUM);
  });

  it("7c. drift: a sleeping container stopped by hand starts cold on its stack's up, the other going to sleep", async () => {
    await stop(MEDIUM.container);
    const r = await up(MEDIUM.stack);
    assert.match(r.output, /put myia_vllm-medium-vl-qwen3 to sleep/);
    assert.doesNotMatch(r.output, /woke myia_vllm-medium-qwen3/, "a cold start, not a wake");
    assert.match(await logs(MEDIUM.container), /Loading model weights/);
    await assertServing(MEDIUM, VL);
  });

  it("8. switch and validate with standby on: the GPU budget counts the sleeping peer, a failed wake rolls back to a model woken again", async () => {
    const to = await project.tool("switch", ["--to", VL.stack, "--requests", "6"]);
    assert.equal(to.code, 0, to.out);
    assert.match(to.out, /switch medium -> medium-vl/);
    assert.match(to.out, /GPU memory\s+ok\s+GPU 0 \d+\/\d+ MiB \(\d+ \+ 1536 × 1 asleep: medium\)/, "validate counts the sleeping peer's leftover");
    assert.match(to.out, /validate medium-vl: PASSED/);
    await assertServing(VL, MEDIUM);

    const alone = await project.tool("validate", ["--stack", VL.stack, "--requests", "4"]);
    assert.equal(alone.code, 0, alone.out);

    // medium cannot wake (medium-vl asleep would keep too much): the up wakes medium-vl back, the switch rolls back to it.
    await op(VL.stack, { op: "configure", config: { "container.env.STANDIN_SLEEP_LEFTOVER_MIB": { value: "20000" } } });
    await up(VL.stack);
    const failed = await project.tool("switch", ["--to", MEDIUM.stack, "--requests", "4"]);
    assert.equal(failed.code, 1, failed.out);
    assert.match(failed.out, /medium failed at up:/);
    assert.match(failed.out, /did not wake/);
    assert.match(failed.out, /rolled back: medium-vl answers again/);
    await assertServing(VL, MEDIUM);
    await op(VL.stack, { op: "configure", remove: ["container.env.STANDIN_SLEEP_LEFTOVER_MIB"] });
    await up(VL.stack);
    await assertServing(VL, MEDIUM);
  });
});

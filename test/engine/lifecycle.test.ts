/**
 * Migration, rollback, failure, drift, config change, destroy and secrets,
 * with the real Pulumi engine, the docker and command plugins, a real
 * dockerd with the stand-in GPU runtime and the stand-in vLLM image, and real
 * HTTP. Stacks run this program inline through the Automation API, each
 * operation in a process of its own (test/helpers/engineOp.ts).
 *
 * The plugins are the ones scripts/plugins.sh resolved (official where
 * installed, else our offline builds); npm test resolves them first, so the
 * suite runs on every machine, and says which plugins it ran with.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { handRun, inspect, logs, mustInspect, networkInfo, remove, removeLeftovers } from "../helpers/docker";
import { watchOutage } from "../../tools/lib/outage";
import { clientFromOutputs } from "../../tools/lib/client";
import { pngDataUrl, solidPng } from "../../tools/lib/png";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { stoppedByHandIsRepaired } from "../helpers/scenarios";

const LOAD_SECONDS = 3;

const API_KEY = `sk-life-${randomBytes(10).toString("hex")}`;
const HF_TOKEN = `hf_life${randomBytes(10).toString("hex")}`;
const MEDIUM = { stack: "medium", port: 5002, container: "myia_vllm-medium-qwen3", model: "Qwen/Qwen3-32B-AWQ" };
const VL = { stack: "medium-vl", port: 5003, container: "myia_vllm-medium-vl-qwen3", model: "Qwen/Qwen3-VL-32B-Instruct-FP8" };

const project = engineProject();
const { workDir, cache, captured, op } = project;

async function chat(port: number, key: string | null, content: unknown, model: string) {
  const r = await fetch(`https://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: "user", content }] }),
  });
  return { status: r.status, body: await r.text() };
}

/** `up`, timed, with the time no model answered on either port (probed every 100 ms). */
async function timedUp(what: string, stack: string) {
  const outage = watchOutage([MEDIUM.port, VL.port]);
  const t0 = Date.now();
  const r = await op(stack, { op: "up" });
  const down = await outage.stop();
  console.log(`${what}: up took ${((Date.now() - t0) / 1000).toFixed(1)} s; no model answered for ${(down / 1000).toFixed(1)} s (stand-in load ${LOAD_SECONDS} s)`);
  return r;
}

const state = async (name: string) => (await inspect(name))?.State.Status as string | undefined;

describe("lifecycle with the real engine", { skip: needsPlugins }, () => {
  before(async () => {
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
    await project.configure(API_KEY, HF_TOKEN, LOAD_SECONDS);
  });

  after(async () => {
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
  });

  it("1. fresh host: up medium, healthy, answers with the key and refuses without", async () => {
    const r = await op(MEDIUM.stack, { op: "up" });
    assert.equal(r.ok, true, r.output);
    assert.equal(await state(MEDIUM.container), "running");
    // HTTPS by default: every request below verifies the certificate against the stack's CA.
    clientFromOutputs(r.outputs as never);
    assert.equal((await chat(MEDIUM.port, API_KEY, "hello", MEDIUM.model)).status, 200);
    assert.equal((await chat(MEDIUM.port, null, "hello", MEDIUM.model)).status, 401);
    assert.equal((r.outputs as Record<string, unknown>).endpoint, "https://localhost:5002/v1");
  });

  it("2. migration: preview shows the change, up takes the GPUs over, medium-vl takes an image", async () => {
    const preview = await op(VL.stack, { op: "preview" });
    assert.equal(preview.ok, true, preview.output);
    assert.match(preview.output, /\+\s+docker:index:Container\s+medium-vl-container\s+create/);
    assert.equal(await state(MEDIUM.container), "running", "preview must change nothing");

    const r = await timedUp("migration", VL.stack);
    assert.equal(r.ok, true, r.output);
    assert.equal(await state(MEDIUM.container), "exited", "medium is stopped and kept");
    assert.equal(await state(VL.container), "running");
    const red = { type: "image_url", image_url: { url: pngDataUrl(solidPng(32, 32, [220, 20, 20])) } };
    const answer = await chat(VL.port, API_KEY, [{ type: "text", text: "colour?" }, red], VL.model);
    assert.equal(answer.status, 200, answer.body);
    assert.match(await logs(VL.container), /Using cached weights/, "the weights were fetched before the takeover");
  });

  it("3. rollback: up medium brings medium back from the cached image and weights", async () => {
    const r = await timedUp("rollback", MEDIUM.stack);
    assert.equal(r.ok, true, r.output);
    assert.equal(await state(VL.container), "exited");
    assert.equal(await state(MEDIUM.container), "running");
    assert.equal((await chat(MEDIUM.port, API_KEY, "hello", MEDIUM.model)).status, 200);
    assert.equal((await logs(MEDIUM.container)).match(/Downloading weights/g)?.length ?? 0, 0, "no weight download on rollback");
  });

  it("4. failed migration: up fails with the log lines; one command restores medium; nothing is lost", async () => {
    await op(VL.stack, { op: "configure", config: { "container.env.STANDIN_FAIL": { value: "unhealthy" }, "container.readyTimeoutSeconds": { value: "10" } } });
    const r = await op(VL.stack, { op: "up" });
    assert.equal(r.ok, false);
    assert.match(r.output, /did not become healthy/);
    assert.match(r.output, /\| .*Loading model weights/);
    const restore = await op(MEDIUM.stack, { op: "up" });
    assert.equal(restore.ok, true, restore.output);
    assert.equal(await state(MEDIUM.container), "running");
    assert.equal((await chat(MEDIUM.port, API_KEY, "hello", MEDIUM.model)).status, 200);
    assert.ok(readdirSync(join(cache, "hf", "hub")).length >= 2, "the HF cache keeps both models");
    for (const s of [MEDIUM.stack, VL.stack]) assert.match(String((await op(s, { op: "export" })).state), /docker:index\/container:Container/);
    await op(VL.stack, { op: "configure", remove: ["container.env.STANDIN_FAIL"], config: { "container.readyTimeoutSeconds": { value: "30" } } });
  });

  it("5a. drift: a container stopped by hand is seen by refresh and started by up", async () => {
    await stoppedByHandIsRepaired(op, MEDIUM.stack, MEDIUM.container);
  });

  it("5b. drift: a container removed by hand is created again by up", async () => {
    await remove(MEDIUM.container);
    const up = await op(MEDIUM.stack, { op: "up" });
    assert.equal(up.ok, true, up.output);
    assert.equal(await state(MEDIUM.container), "running");
  });

  it("5c. drift: a container replaced by hand with other env is reported at preview and repaired by up", async () => {
    const was = await mustInspect(MEDIUM.container);
    await remove(MEDIUM.container);
    await handRun(MEDIUM.container, { Image: was!.Config.Image, Cmd: was!.Config.Cmd, Env: [...was!.Config.Env, "VLLM_LOGGING_LEVEL=DEBUG"], Labels: was!.Config.Labels, HostConfig: was!.HostConfig });
    const preview = await op(MEDIUM.stack, { op: "preview" });
    assert.match(preview.output, /container myia_vllm-medium-qwen3 differs from the one declared \(its environment differs\): changed by hand, or config not applied yet; up replaces it/);
    const up = await op(MEDIUM.stack, { op: "up" });
    assert.equal(up.ok, true, up.output);
    const now = await mustInspect(MEDIUM.container);
    assert.ok(!now.Config.Env.includes("VLLM_LOGGING_LEVEL=DEBUG"), "the declared container replaced the hand-made one");
    assert.equal(now.State.Status, "running");
    assert.match(up.output, /set myia_vllm-medium-qwen3 aside as myia_vllm-medium-qwen3-replaced-\d+/);
  });

  it("6. config change: a vision flag replaces that container only; a healthcheck change reaches the container", async () => {
    await op(VL.stack, { op: "up" });
    await op(VL.stack, { op: "configure", config: { "vision.limitMmPerPrompt.image": { value: "2" }, "container.healthcheck.intervalSeconds": { value: "7" } } });
    const preview = await op(VL.stack, { op: "preview" });
    assert.equal(preview.ok, true, preview.output);
    assert.match(preview.output, /\+-\s+docker:index:Container\s+medium-vl-container\s+replace/);
    assert.doesNotMatch(preview.output, /docker:index:RemoteImage\s+medium-vl-image\s+replace/);
    // Replaced: the container, and the steps around it that run again for a
    // new container (the takeover, which sees it differ from the new config,
    // and the health gates, vLLM's and the gateway's, keyed on its id). The
    // image, the weights and the gateway's container stay.
    const replaced = [...preview.output.matchAll(/^ \+- +\S+ (\S+) replace/gm)].map((m) => m[1]).sort();
    assert.deepEqual(replaced, ["medium-vl-container", "medium-vl-gateway-ready", "medium-vl-ready", "medium-vl-takeover"]);
    const up = await op(VL.stack, { op: "up" });
    assert.equal(up.ok, true, up.output);
    const c = await mustInspect(VL.container);
    assert.ok(c.Args.includes('{"image":2,"video":0}'), JSON.stringify(c.Args));
    assert.equal(c.Config.Healthcheck?.Interval, 7e9);
  });

  it("7. interrupted up: after pulumi is killed mid-update, `pulumi cancel` then up recovers", async () => {
    await op(VL.stack, { op: "configure", config: { "vision.limitMmPerPrompt.image": { value: "3" } } });
    const before = (await mustInspect(VL.container)).Id;
    let pid = 0;
    const run = op(VL.stack, { op: "up" }, (p) => (pid = p));
    // Kill the whole run (Automation API, pulumi CLI, plugins) once it is replacing the container.
    for (let i = 0; i < 300 && (await inspect(VL.container))?.Id === before; i++) await new Promise((r) => setTimeout(r, 50));
    process.kill(-pid, "SIGKILL");
    assert.equal((await run).killed, true);

    const locked = await op(VL.stack, { op: "up" });
    assert.equal(locked.ok, false);
    assert.match(locked.output, /the stack is currently locked by 1 lock\(s\)\. Either wait for the other process\(es\) to end or delete the lock file with `pulumi cancel`/);
    assert.equal((await op(VL.stack, { op: "cancel" })).ok, true);
    const next = await op(VL.stack, { op: "up" });
    assert.equal(next.ok, true, next.output);
    assert.equal(await state(VL.container), "running");
    assert.equal((await chat(VL.port, API_KEY, "hello", VL.model)).status, 200);
  });

  it("8. destroy of one stack removes its container only", async () => {
    const r = await op(VL.stack, { op: "destroy" });
    assert.equal(r.ok, true, r.output);
    assert.equal(await inspect(VL.container), undefined);
    assert.equal(await inspect(`${VL.container}-gateway`), undefined, "its gateway goes with it");
    assert.equal(await networkInfo("myia-vllm-medium-vl"), undefined, "and its network");
    assert.ok(await inspect(MEDIUM.container), "the other stack's container stays");
    assert.ok(existsSync(join(cache, "hf", "hub")), "the HF cache stays");
  });

  it("9. secrets: never in plaintext in state, stack files, argv or captured logs", async () => {
    const texts = [String((await op(MEDIUM.stack, { op: "export" })).state), String((await op(VL.stack, { op: "export" })).state)];
    for (const f of ["Pulumi.medium.yaml", "Pulumi.medium-vl.yaml"]) texts.push(readFileSync(join(workDir, f), "utf8"));
    const c = await mustInspect(MEDIUM.container);
    texts.push(JSON.stringify([c.Path, c.Args]), await logs(MEDIUM.container), ...captured);
    for (const t of texts) assert.ok(!t.includes(API_KEY) && !t.includes(HF_TOKEN), t.slice(0, 200));
  });
});

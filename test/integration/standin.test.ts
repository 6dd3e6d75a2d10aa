/**
 * The containers our program declares, run for real: a real dockerd with the
 * stand-in GPU runtime, the stand-in vLLM image (strict CLI parser, /health
 * only after loading, API key on /v1/*), real HTTP. The container settings
 * come from components/docker/containerSpec and the image from
 * components/vllm/image, the same code VllmService uses; the health gate is
 * the same script `pulumi up` runs.
 *
 * Containers started by hand (test/helpers/docker), not by the engine: these
 * tests hold the stand-in image to the real one's behaviour, and prove the
 * rendered argv, env, healthcheck and gate; the engine suites deploy them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { validateProfile } from "../../components/config/schema";
import { imageRef } from "../../components/vllm/image";
import { readyGateScript } from "../../components/docker/readyGate";
import { prefetchWeightsScript } from "../../components/docker/weights";
import { handRunProfile, logs, mustInspect, remove } from "../helpers/docker";
import { pngDataUrl, solidPng } from "../../tools/lib/png";
import { testProfile } from "../helpers/profile";

const API_KEY = "sk-itest-3f9c2a7b1e";
const HF_TOKEN = "hf_itest_8d4e6f0a2c";
const FAST = ["STANDIN_LOAD_SECONDS=1", "STANDIN_DOWNLOAD_SECONDS=1"];
const names: string[] = [];

function gate(containerName: string, port: number, timeoutSeconds: number) {
  const t0 = Date.now();
  const r = spawnSync("sh", ["-c", readyGateScript({ containerName, port, timeoutSeconds })], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

async function http(port: number, path: string, init: RequestInit = {}) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text) };
}

function chat(port: number, model: string, content: unknown, key: string | null = API_KEY) {
  return http(port, "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: "user", content }], max_tokens: 16 }),
  });
}

async function run(stack: string, opts: { extraEnv?: string[]; vllm?: Record<string, unknown>; cacheDir?: string } = {}) {
  const p = testProfile(stack, { cacheDir: opts.cacheDir, vllm: opts.vllm });
  const name = `itest-${stack}-${process.pid}-${names.length}`;
  p.server.containerName = name;
  // One profile's port is held by one container at a time, as on the real host.
  for (const n of names) await remove(n);
  names.push(name);
  await handRunProfile(p, { stack, lease: "local:gpus=0,1", apiKey: API_KEY, hfToken: HF_TOKEN, extraEnv: [...FAST, ...(opts.extraEnv ?? [])] });
  return { p, name };
}

describe("stand-in GPU host: the containers our stacks declare", () => {
  after(async () => {
    for (const n of names) await remove(n);
  });

  it("medium: parses, loads, passes the gate, answers with the key and refuses without", async () => {
    const { p, name } = await run("medium");
    const g = gate(name, p.server.port, 60);
    assert.equal(g.code, 0, g.stderr);
    assert.equal((await http(p.server.port, "/health")).status, 200);
    assert.equal((await http(p.server.port, "/v1/models")).status, 401);
    const models = await http(p.server.port, "/v1/models", { headers: { authorization: `Bearer ${API_KEY}` } });
    assert.equal(models.status, 200);
    assert.equal(models.json().data[0].id, "Qwen/Qwen3-32B-AWQ");
    const answer = await chat(p.server.port, "Qwen/Qwen3-32B-AWQ", "Say hello");
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json().object, "chat.completion");
    assert.equal((await chat(p.server.port, "Qwen/Qwen3-32B-AWQ", "Say hello", null)).status, 401);

    const info = await mustInspect(name);
    assert.equal(info.State.Health?.Status === "healthy" || info.State.Running, true);
    // The GPUs as a device request (`--gpus '"device=0,1"'`), which the stand-in host accepts.
    assert.deepEqual(info.HostConfig.DeviceRequests?.map((d) => d.DeviceIDs), [["0", "1"]]);
    assert.ok(!info.Config.Env.some((e) => e.startsWith("NVIDIA_VISIBLE_DEVICES=")), "no pinning by env: the device request is the pin");
    // Secrets: in the environment only, never in the argv, never in the logs.
    const argv = JSON.stringify([info.Path, info.Args]);
    assert.ok(!argv.includes(API_KEY) && !argv.includes(HF_TOKEN), argv);
    const log = await logs(name);
    assert.ok(!log.includes(API_KEY) && !log.includes(HF_TOKEN));
    assert.match(log, /Downloading weights/);
  });

  it("medium-vl: takes an image, and refuses more images than the profile allows", async () => {
    const { p, name } = await run("medium-vl");
    assert.equal(gate(name, p.server.port, 60).code, 0);
    const red = { type: "image_url", image_url: { url: pngDataUrl(solidPng(64, 64, [220, 20, 20])) } };
    const one = await chat(p.server.port, p.model.id, [{ type: "text", text: "What colour is this?" }, red]);
    assert.equal(one.status, 200, one.text);
    assert.match(one.json().choices[0].message.content, /red/);
    const four = await chat(p.server.port, p.model.id, [{ type: "text", text: "Compare" }, red, red, red, red]);
    assert.equal(four.status, 400, four.text);
    assert.match(four.json().message, /at most 3/i);
  });

  it("a second start of a model finds its weights in the shared HF cache", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "myia-shared-cache-"));
    const first = await run("medium", { cacheDir });
    assert.equal(gate(first.name, first.p.server.port, 60).code, 0);
    await remove(first.name);
    const second = await run("medium", { cacheDir });
    assert.equal(gate(second.name, second.p.server.port, 60).code, 0);
    assert.match(await logs(second.name), /Using cached weights/);
  });

  it("the weights prefetch `up` runs before the takeover fills the cache the server then finds", async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), "myia-prefetch-"));
    const p = testProfile("medium-vl", { cacheDir });
    const r = spawnSync("sh", ["-c", prefetchWeightsScript({ image: imageRef(p), model: p.model.id, hfCachePath: p.host.hfCachePath })], {
      encoding: "utf8",
      env: { ...process.env, HF_TOKEN, STANDIN_DOWNLOAD_SECONDS: "1" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Downloading weights for Qwen\/Qwen3-VL-32B-Instruct-FP8/);
    assert.ok(!r.stdout.includes(HF_TOKEN) && !r.stderr.includes(HF_TOKEN));
    const { p: served, name } = await run("medium-vl", { cacheDir });
    assert.equal(gate(name, served.server.port, 60).code, 0);
    assert.match(await logs(name), /Using cached weights/);
  });

  it("a container that crashes at start fails the gate, which shows its last log lines", async () => {
    const { p, name } = await run("medium", { extraEnv: ["STANDIN_FAIL=crash"] });
    const g = gate(name, p.server.port, 30);
    assert.equal(g.code, 1);
    assert.match(g.stderr, /did not become healthy/);
    assert.match(g.stderr, /\| .*(Error|error)/);
  });

  it("a container that never loads fails the gate at its timeout", async () => {
    const { p, name } = await run("medium", { extraEnv: ["STANDIN_FAIL=unhealthy"] });
    const g = gate(name, p.server.port, 4);
    assert.equal(g.code, 1);
    assert.match(g.stderr, /still not healthy after 4s/);
    assert.ok(g.seconds < 15, `gate took ${g.seconds}s`);
  });

  it("a flag the pinned vLLM removed: our check refuses it, and so does the stand-in's parser", async () => {
    // The old medium-vl compose passed --swap-space 16; medium-vl pins vLLM 0.34.0.
    const p = testProfile("medium-vl");
    const raw = { profile: p.profile, image: p.image, model: { id: p.model.id }, server: p.server, vllm: { gpuMemoryUtilization: 0.85, maxModelLen: 16384, extraArgs: ["--swap-space", "16"] } };
    const check = validateProfile(raw, { apiKey: "secret", hfToken: "secret" });
    assert.equal(check.ok, false);
    assert.match(check.ok ? "" : check.errors.join("\n"), /--swap-space was removed in vLLM 0\.18\.0/);
    // Past our check, the same argv meets vLLM's parser (the stand-in's copy of it).
    p.argv = [...p.argv, "--swap-space", "16"];
    // No restart policy here: the point is the parser's exit code, not a crash loop.
    p.container.restart = "no";
    p.server.containerName = `itest-removed-${process.pid}`;
    for (const n of names) await remove(n);
    names.push(p.server.containerName);
    await handRunProfile(p, { stack: "medium-vl", lease: "local:gpus=0,1", apiKey: API_KEY, hfToken: HF_TOKEN, extraEnv: FAST });
    let info = await mustInspect(p.server.containerName);
    for (let i = 0; i < 50; i++) {
      info = await mustInspect(p.server.containerName);
      if (info.State.Status === "exited") break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(info.State.ExitCode, 2, `${JSON.stringify(info.State)} ${JSON.stringify(info.Args)} ${await logs(p.server.containerName)}`);
    assert.match(await logs(p.server.containerName), /unrecognized arguments: --swap-space 16/);
  });
});

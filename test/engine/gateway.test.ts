/**
 * The gateway, through the real engine: vLLM's own key check leaves every
 * route outside /v1 open (the hole is shown on the stand-in first); with the
 * gateway (the real Caddy, caddy:2.11.9 built by scripts/build-gateway.sh),
 * nothing but /health answers without the key, and streaming, long replies,
 * image uploads and client disconnects pass through. The gateway is stopped
 * with its model on migration, back on rollback, and repaired on drift.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inspect, logs, mustInspect, networkInfo, remove, removeLeftovers, removeNetwork, stop } from "../helpers/docker";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { noisePng, pngDataUrl } from "../../tools/lib/png";
import { hostAccess, validate } from "../../tools/validate";
import { REPO, testProfile } from "../helpers/profile";
import { UNGUARDED_ROUTES } from "../../components/vllm/routes";
import { clientFromOutputs } from "../../tools/lib/client";

const API_KEY = `sk-gw-${randomBytes(12).toString("hex")}`;
const HF_TOKEN = `hf_gw${randomBytes(10).toString("hex")}`;
const VL = { stack: "medium-vl", port: 5003, container: "myia_vllm-medium-vl-qwen3", model: "Qwen/Qwen3-VL-32B-Instruct-FP8" };
const MEDIUM = { stack: "medium", port: 5002, container: "myia_vllm-medium-qwen3" };
const GATEWAY = `${VL.container}-gateway`;
const TOKEN_MS = 40;
// Plain HTTP while the gateway is off (vLLM's own port), HTTPS through it.
let BASE = `http://127.0.0.1:${VL.port}`;

const project = engineProject();
const { op } = project;

const auth = (key: string | null): Record<string, string> => ({ "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) });

async function call(path: string, key: string | null, init: { method?: string; body?: unknown } = {}) {
  const r = await fetch(`${BASE}${path}`, { method: init.method ?? "GET", headers: auth(key), body: init.body === undefined ? undefined : JSON.stringify(init.body), signal: AbortSignal.timeout(60_000) });
  return { status: r.status, text: await r.text() };
}

const chatBody = (content: unknown, extra: Record<string, unknown> = {}) => ({ model: VL.model, messages: [{ role: "user", content }], ...extra });

async function up(stack: string) {
  const r = await op(stack, { op: "up" });
  assert.equal(r.ok, true, r.output);
  return r;
}

const quiet = { requests: 8, concurrency: 4, log: () => undefined };
const target = () => ({ stack: VL.stack, profile: testProfile(VL.stack), baseUrl: BASE, apiKey: API_KEY, containerName: VL.container });
// validate's host checks run the fake nvidia-smi, first on PATH, and docker.
process.env.PATH = `${join(REPO, "standin/nvidia")}:${process.env.PATH}`;
const host = hostAccess(testProfile(VL.stack));

describe("gateway with the real engine", { skip: needsPlugins }, () => {
  before(async () => {
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
    await project.configure(API_KEY, HF_TOKEN, 2);
    await op(VL.stack, { op: "configure", config: { "container.env.STANDIN_TOKEN_MS": { value: String(TOKEN_MS) }, "gateway.enabled": { value: "false" } } });
  });

  after(async () => {
    for (const s of [VL.stack, MEDIUM.stack]) await op(s, { op: "destroy" });
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
  });

  it("without the gateway, the hole is real: POST /invocations with no key gets a completion", async () => {
    const r = await up(VL.stack);
    assert.match(r.output, /gateway\.enabled: is false, so vLLM's own port 5003 is published/);
    const hole = await call("/invocations", null, { method: "POST", body: chatBody("Say hi.") });
    assert.equal(hole.status, 200, hole.text);
    assert.match(JSON.parse(hole.text).choices[0].message.content, /\[vllm stand-in\]/);
    assert.equal((await call("/v1/models", null)).status, 401, "vLLM's own check covers /v1 only");
    // validate sees it and fails the deployment.
    const report = await validate(target(), host, quiet);
    const check = report.checks.find((c) => c.name === "no key, no answer")!;
    assert.equal(check.ok, false);
    assert.match(check.detail, /answered without the key: POST \/invocations 200 .*POST \/tokenize 200/);
  });

  it("with it: preview shows the gateway; up puts it on the port and vLLM on a private network only", async () => {
    await op(VL.stack, { op: "configure", remove: ["gateway.enabled"] });
    const preview = await op(VL.stack, { op: "preview" });
    assert.equal(preview.ok, true, preview.output);
    assert.match(preview.output, /\+\s+command:local:Command\s+medium-vl-network\s+create/);
    assert.match(preview.output, /\+\s+myia:vllm:Gateway\s+medium-vl-gateway\s+create/);
    assert.match(preview.output, /\+\s+docker:index:Container\s+medium-vl-gateway-container\s+create/);
    const r = await up(VL.stack);
    assert.match(r.output, new RegExp(`${GATEWAY} answers https://localhost:5003/health \\(TLS checked against its CA\\) and refuses /invocations without the key`));
    // From here on, every request verifies the gateway's certificate against the stack's CA.
    assert.equal(clientFromOutputs(r.outputs as never).baseUrl, "https://localhost:5003");
    BASE = `https://127.0.0.1:${VL.port}`;
    const v = await mustInspect(VL.container);
    assert.deepEqual(Object.keys(v.NetworkSettings.Networks), ["myia-vllm-medium-vl"], "vLLM is on its private network only");
    assert.deepEqual(v.HostConfig.PortBindings ?? {}, {}, "vLLM publishes no port");
    const g = await mustInspect(GATEWAY);
    assert.equal(g.HostConfig.PortBindings?.["5003/tcp"]?.[0]?.HostPort, "5003");
    assert.ok(!JSON.stringify([g.Path, g.Args]).includes(API_KEY), "the key is not in the gateway's argv");
    const net = await networkInfo("myia-vllm-medium-vl");
    assert.deepEqual(Object.values(net?.Containers ?? {}).map((c) => c.Name).sort(), [VL.container, GATEWAY].sort());
  });

  it("refuses every listed route without the key, serves /v1 only with it, /health for everyone", async () => {
    for (const route of UNGUARDED_ROUTES) {
      const r = await call(route.path, null, { method: route.method, body: route.body });
      assert.equal(r.status, 401, `${route.method} ${route.path} without the key: ${r.status} ${r.text}`);
      // With the key it is still not forwarded: the gateway answers 404 itself.
      const k = await call(route.path, API_KEY, { method: route.method, body: route.body });
      assert.equal(k.status, 404, `${route.method} ${route.path} with the key: ${k.status} ${k.text}`);
      assert.match(k.text, /not served by this gateway/);
    }
    for (const sneaky of ["/v1/../invocations", "/V1/../invocations", "//invocations", "/health/../invocations", "/%69nvocations", "/metrics", "/version"]) {
      const r = await fetch(`${BASE}${sneaky}`, { method: "POST", headers: auth(null), body: JSON.stringify(chatBody("hi")) });
      assert.ok([401, 404, 405].includes(r.status), `${sneaky}: ${r.status} ${await r.text()}`);
    }
    assert.equal((await call("/v1/models", null)).status, 401);
    assert.equal((await call("/v1/models", "sk-wrong-key-0123456789")).status, 401);
    const models = await call("/v1/models", API_KEY);
    assert.equal(models.status, 200, models.text);
    assert.equal(JSON.parse(models.text).data[0].id, VL.model);
    assert.equal((await fetch(`${BASE}/health`)).status, 200);
    const report = await validate(target(), host, quiet);
    assert.equal(report.ok, true, JSON.stringify(report.checks, null, 2));
    assert.match(report.checks.find((c) => c.name === "no key, no answer")!.detail, /16 routes refused without the key/);
  });

  it("streams: the first token arrives before the last, as vLLM sends them", async () => {
    const tokens = 40;
    const t0 = performance.now();
    const r = await fetch(`${BASE}/v1/chat/completions`, { method: "POST", headers: auth(API_KEY), body: JSON.stringify(chatBody("Count.", { stream: true, min_tokens: tokens })) });
    assert.equal(r.status, 200);
    const arrivals: number[] = [];
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of r.body!) {
      const s = decoder.decode(chunk as Uint8Array, { stream: true });
      text += s;
      for (const line of s.split("\n")) if (line.startsWith("data: {") && line.includes('"content":"t')) arrivals.push(performance.now() - t0);
    }
    const first = arrivals[0];
    const last = arrivals[arrivals.length - 1];
    console.log(`stream through the gateway: ${arrivals.length} token chunks, first at ${first.toFixed(0)} ms, last at ${last.toFixed(0)} ms (${TOKEN_MS} ms a token)`);
    assert.ok(arrivals.length >= tokens - 20, `${arrivals.length} chunks`);
    assert.ok(last - first >= (arrivals.length - 2) * TOKEN_MS * 0.8, `tokens were buffered: first ${first} ms, last ${last} ms`);
    assert.match(text, /data: \[DONE\]/);
  });

  it("long replies: a non-streamed reply that takes 6 s is not cut by any proxy timeout", async () => {
    const t0 = Date.now();
    const r = await call("/v1/chat/completions", API_KEY, { method: "POST", body: chatBody("Write at length.", { min_tokens: 150 }) });
    const took = Date.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).usage.completion_tokens, 150);
    assert.ok(took >= 150 * TOKEN_MS, `${took} ms`);
  });

  it("images: 3 of 768x768 in base64 pass; a body over gateway.maxBodyMiB gets 413", async () => {
    const images = [1, 2, 3].map((seed) => ({ type: "image_url", image_url: { url: pngDataUrl(noisePng(768, 768, seed)) } }));
    const body = chatBody([{ type: "text", text: "Describe the three images." }, ...images]);
    console.log(`3 images of 768x768 (random pixels, PNG, base64): ${(JSON.stringify(body).length / 2 ** 20).toFixed(1)} MiB`);
    const r = await call("/v1/chat/completions", API_KEY, { method: "POST", body });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.match(JSON.parse(r.text).choices[0].message.content, /3 images: 768x768/);
    const big = chatBody([{ type: "text", text: "x".repeat(17 * 2 ** 20) }]);
    const tooBig = await call("/v1/chat/completions", API_KEY, { method: "POST", body: big });
    assert.equal(tooBig.status, 413, tooBig.text.slice(0, 300));
    assert.match(tooBig.text, /request body over 16 MiB \(gateway\.maxBodyMiB\)/);
  });

  it("a client that disconnects reaches vLLM, which aborts the request", async () => {
    const ac = new AbortController();
    const r = await fetch(`${BASE}/v1/chat/completions`, { method: "POST", headers: auth(API_KEY), body: JSON.stringify(chatBody("Go on.", { stream: true, min_tokens: 500 })), signal: ac.signal });
    const reader = r.body!.getReader();
    for (let i = 0; i < 3; i++) await reader.read();
    ac.abort();
    let aborted = false;
    for (let i = 0; i < 40 && !aborted; i++) {
      aborted = /Aborted request chatcmpl-/.test(await logs(VL.container));
      if (!aborted) await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(aborted, "vLLM did not see the client go away");
  });

  it("/metrics is served without the key only when exposed, and only to the listed addresses", async () => {
    // The host reaches the published port through Docker's proxy, which connects from the network's gateway address.
    const hostSide = String((await networkInfo("myia-vllm-medium-vl"))?.IPAM?.Config?.[0]?.Gateway);
    await op(VL.stack, { op: "configure", config: { "gateway.expose[0].path": { value: "/metrics" }, "gateway.expose[0].from[0]": { value: "10.255.255.254/32" } } });
    await up(VL.stack);
    assert.equal((await call("/metrics", null)).status, 401, "exposed to another address only");
    await op(VL.stack, { op: "configure", config: { "gateway.expose[0].from[0]": { value: hostSide } } });
    await up(VL.stack);
    const m = await call("/metrics", null);
    assert.equal(m.status, 200, m.text);
    assert.match(m.text, /vllm:request_success_total/);
    assert.equal((await call("/version", null)).status, 401, "/version stays closed");
    assert.equal((await call("/invocations", null, { method: "POST", body: chatBody("hi") })).status, 401);
    await op(VL.stack, { op: "configure", remove: ["gateway"] });
    await up(VL.stack);
    assert.equal((await call("/metrics", null)).status, 401);
  });

  it("a migration drains the serving gateway: a stream in flight ends whole, a new request gets 503 with Retry-After, then the model stops", async () => {
    // 150 tokens at 40 ms: about 6 s, in flight when the takeover begins.
    const stream = fetch(`${BASE}/v1/chat/completions`, { method: "POST", headers: auth(API_KEY), body: JSON.stringify(chatBody("Go on.", { stream: true, min_tokens: 150 })) }).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 300));
    const migration = op(MEDIUM.stack, { op: "up" });
    // New requests while it drains: refused cleanly, before any byte of a reply.
    let refused: { status: number; retryAfter: string | null; text: string } | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const r = await fetch(`${BASE}/v1/models`, { headers: auth(API_KEY) }).catch(() => undefined);
      if (r && r.status === 503) refused = { status: r.status, retryAfter: r.headers.get("retry-after"), text: await r.text() };
      else await new Promise((res) => setTimeout(res, 100));
    }
    const text = await stream;
    const r = await migration;
    assert.equal(r.ok, true, r.output);
    assert.ok(refused, "no 503 while the gateway drained");
    assert.equal(refused.retryAfter, "10");
    assert.match(refused.text, /being switched off/);
    assert.match(text, /"finish_reason":"(stop|length)"/, `the stream in flight was cut: ${text.slice(-200)}`);
    assert.match(text, /data: \[DONE\]/);
    assert.match(r.output, new RegExp(`drained: ${GATEWAY} refused new requests \\(503, Retry-After\\), and the 1 in flight finished in \\d+ s`));
  });

  it("migration stops the gateway with its model; rollback brings both back", async () => {
    await up(MEDIUM.stack);
    assert.equal((await inspect(VL.container))?.State.Status, "exited");
    assert.equal((await inspect(GATEWAY))?.State.Status, "exited", "the gateway is stopped with its model");
    await assert.rejects(fetch(`${BASE}/health`), "port 5003 refuses connections");
    assert.equal((await fetch(`https://127.0.0.1:${MEDIUM.port}/health`)).status, 200, "medium answers through its own gateway");
    await up(VL.stack);
    assert.equal((await inspect(`${MEDIUM.container}-gateway`))?.State.Status, "exited");
    assert.equal((await call("/v1/models", API_KEY)).status, 200);
    assert.equal((await call("/invocations", null, { method: "POST", body: chatBody("hi") })).status, 401);
  });

  it("drift: the network of a stopped stack, removed by hand, is made again by up, with the containers that ran on it", async () => {
    // medium-vl serves; medium is stopped, so Docker lets its network go.
    await removeNetwork("myia-vllm-medium");
    const preview = await op(MEDIUM.stack, { op: "preview" });
    assert.equal(preview.ok, true, preview.output);
    assert.match(preview.output, /warning: network myia-vllm-medium is gone \(removed by hand, or pruned while this stack was stopped\): up makes it again before the containers start/);
    const r = await up(MEDIUM.stack);
    assert.match(r.output, /removed myia_vllm-medium-qwen3: its network myia-vllm-medium is made again \(it was gone\); up creates it anew/);
    assert.equal((await networkInfo("myia-vllm-medium"))?.Labels?.["org.myia.network"], "command");
    assert.deepEqual(Object.keys((await mustInspect(MEDIUM.container)).NetworkSettings.Networks), ["myia-vllm-medium"]);
    assert.equal((await fetch(`https://127.0.0.1:${MEDIUM.port}/health`)).status, 200, "medium answers through its gateway again");
    // Repaired: the next preview warns no more.
    assert.doesNotMatch((await op(MEDIUM.stack, { op: "preview" })).output, /is gone/);
    await up(VL.stack);
  });

  it("drift: a gateway stopped or removed by hand is seen and repaired by up", async () => {
    await stop(GATEWAY);
    const preview = await op(VL.stack, { op: "preview" });
    assert.match(preview.output, /medium-vl-gateway-container/);
    await up(VL.stack);
    assert.equal((await inspect(GATEWAY))?.State.Status, "running");
    await remove(GATEWAY);
    await up(VL.stack);
    assert.equal((await inspect(GATEWAY))?.State.Status, "running");
    assert.equal((await call("/v1/models", API_KEY)).status, 200);
    assert.equal((await call("/tokenize", null, { method: "POST", body: { prompt: "hi" } })).status, 401);
  });

  it("the key is in no file, argv or log: not the state's plaintext, the Caddyfile, or the gateway's output", async () => {
    const state = String((await op(VL.stack, { op: "export" })).state);
    assert.ok(!state.includes(API_KEY), "state");
    assert.ok(!state.includes("BEGIN PRIVATE KEY") && !state.includes("BEGIN EC PRIVATE KEY"), "no private key of the CA or the certificate in state");
    assert.match(state, /reverse_proxy myia_vllm-medium-vl-qwen3:5003/, "the Caddyfile is in state, readable: it holds no secret");
    const g = await mustInspect(GATEWAY);
    assert.ok(!JSON.stringify([g.Path, g.Args, g.Config.Cmd, g.Config.Labels]).includes(API_KEY));
    assert.ok(!(await logs(GATEWAY)).includes(API_KEY), "gateway logs");
  });
});

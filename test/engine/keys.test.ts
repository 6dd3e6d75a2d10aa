/**
 * Keys and transport, through the real engine and the real Caddy: the
 * gateway serves HTTPS with the host's CA (a client that trusts it verifies
 * the certificate; one that does not is refused by its own TLS check), a key
 * per client named in the access log, and a rotation (add B, move a client
 * to B, revoke A) that changes the gateway's config alone: vLLM's container
 * keeps its id and start time, the gateway is not restarted, and no request
 * fails for any reason but "A was revoked".
 */
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as https from "node:https";
import * as tls from "node:tls";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { clientFromOutputs } from "../../tools/lib/client";
import { docker, logs, mustInspect, removeLeftovers } from "../helpers/docker";
import { engineProject, needsPlugins } from "../helpers/engineProject";

const API_KEY = `sk-vllm-${randomBytes(12).toString("hex")}`;
const KEY_A = `sk-a-${randomBytes(12).toString("hex")}`;
const KEY_B = `sk-b-${randomBytes(12).toString("hex")}`;
const HF_TOKEN = `hf_keys${randomBytes(10).toString("hex")}`;
const VL = { stack: "medium-vl", port: 5003, container: "myia_vllm-medium-vl-qwen3", model: "Qwen/Qwen3-VL-32B-Instruct-FP8" };
const MEDIUM = { stack: "medium", container: "myia_vllm-medium-qwen3" };
const GATEWAY = `${VL.container}-gateway`;
const BASE = `https://localhost:${VL.port}`;

const project = engineProject();
const { op } = project;

async function up(stack: string) {
  const r = await op(stack, { op: "up" });
  assert.equal(r.ok, true, r.output);
  return r;
}

/** One streamed chat: "ok" when it ends with a finish_reason, else the HTTP status or the error. */
async function streamOnce(key: string): Promise<string> {
  try {
    const r = await fetch(`${BASE}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: VL.model, messages: [{ role: "user", content: "Count." }], stream: true, min_tokens: 20 }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await r.text();
    if (r.status !== 200) return String(r.status);
    return /"finish_reason":"(stop|length)"/.test(text) && text.includes("data: [DONE]") ? "ok" : `cut: ${text.slice(-120)}`;
  } catch (e) {
    return `error: ${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? "")}`;
  }
}

/** A client streaming with `key` in a loop until stopped, or until its key is refused. */
function client(key: string) {
  const results: { at: number; outcome: string }[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const outcome = await streamOnce(key);
      results.push({ at: Date.now(), outcome });
      if (outcome === "401") break;
    }
  })();
  return {
    results,
    async stop() {
      stopped = true;
      await done;
      return results;
    },
  };
}

/** vLLM's and the gateway's container: id, start time, restarts. */
async function identity(name: string) {
  const c = await mustInspect(name);
  return { id: c.Id, startedAt: c.State.StartedAt, restarts: c.RestartCount };
}

describe("keys and transport with the real engine", { skip: needsPlugins }, () => {
  before(async () => {
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
    await project.configure(API_KEY, HF_TOKEN, 2);
    await op(VL.stack, { op: "configure", config: { "container.env.STANDIN_TOKEN_MS": { value: "20" }, "apiKeys.app-a": { value: KEY_A, secret: true } } });
  });

  after(async () => {
    for (const s of [VL.stack, MEDIUM.stack]) await op(s, { op: "destroy" });
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
  });

  it("serves HTTPS by default: verified against the host's CA, refused by a client that does not trust it", async () => {
    const r = await up(VL.stack);
    assert.match(r.output, /client key\(s\) loaded \(app-a\), without a restart/);
    const c = clientFromOutputs(r.outputs as never);
    assert.equal(c.baseUrl, BASE);
    assert.match(String(c.caCertificate), /^-----BEGIN CERTIFICATE-----/);
    // Verified: the process trusts the CA from the stack's output, nothing else.
    assert.equal((await fetch(`${BASE}/health`)).status, 200);
    assert.equal((await fetch(`https://127.0.0.1:${VL.port}/health`)).status, 200, "the certificate names 127.0.0.1 too");
    // A client with only the system's roots refuses the certificate itself, before any HTTP.
    const refused = await new Promise<string>((resolve) => {
      https.get(`${BASE}/health`, { ca: tls.rootCertificates as string[] }, () => resolve("answered")).on("error", (e: NodeJS.ErrnoException) => resolve(String(e.code)));
    });
    assert.match(refused, /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/);
    // Plain HTTP on the port gets no answer from the API.
    const plain = await fetch(`http://127.0.0.1:${VL.port}/health`).then((x) => x.status).catch(() => 0);
    assert.notEqual(plain, 200);
    // The CA's key stays in the host's volume: not in the container's definition, nor state.
    const state = String((await op(VL.stack, { op: "export" })).state);
    assert.doesNotMatch(state, /PRIVATE KEY/);
    assert.ok(!state.includes(KEY_A) && !state.includes(API_KEY));
  });

  it("accepts each client's key, not vLLM's own, and names the client in the access log, never the key", async () => {
    assert.equal(await streamOnce(KEY_A), "ok");
    assert.equal(await streamOnce(API_KEY), "401", "vLLM's own key is the gateway's alone once clients have keys");
    assert.equal(await streamOnce(KEY_B), "401");
    const log = await logs(GATEWAY);
    assert.match(log, /"client":"app-a"/);
    for (const k of [KEY_A, API_KEY]) assert.ok(!log.includes(k), "a key in the gateway's log");
  });

  it("rotation: add B, move a client to B, revoke A; vLLM untouched, nothing fails but A once revoked", async () => {
    const vllmBefore = await identity(VL.container);
    const gwBefore = await identity(GATEWAY);
    const a = client(KEY_A);

    await op(VL.stack, { op: "configure", config: { "apiKeys.app-b": { value: KEY_B, secret: true } } });
    const preview = await op(VL.stack, { op: "preview" });
    assert.equal(preview.ok, true, preview.output);
    assert.deepEqual(preview.changeSummary, { same: (preview.changeSummary as Record<string, number>).same, update: 1 }, `only the gateway's clients change:\n${preview.output}`);
    assert.match(preview.output, /~\s+command:local:Command\s+medium-vl-gateway-clients\s+update/);
    const t0 = Date.now();
    await up(VL.stack);
    const b = client(KEY_B);
    await new Promise((r) => setTimeout(r, 1500));

    await op(VL.stack, { op: "configure", remove: ["apiKeys.app-a"] });
    const tRevoke = Date.now();
    const revoked = await up(VL.stack);
    const upSeconds = (Date.now() - tRevoke) / 1000;
    // A's loop ends at its first 401; let B go on a little past the revocation.
    const aResults = await a.stop();
    await new Promise((r) => setTimeout(r, 1000));
    const bResults = await b.stop();

    const refusedAt = aResults.find((x) => x.outcome === "401")?.at;
    assert.ok(refusedAt !== undefined && refusedAt >= tRevoke, "A is refused, and only after its revocation");
    const failedA = aResults.filter((x) => x.outcome !== "ok" && x.outcome !== "401");
    const failedB = bResults.filter((x) => x.outcome !== "ok");
    console.log(`rotation: A made ${aResults.length - 1} requests, B ${bResults.length}; failed other than A revoked: ${failedA.length + failedB.length}; add-B up ${((tRevoke - t0) / 1000).toFixed(1)} s (incl. 1.5 s of B), revoke-A up ${upSeconds.toFixed(1)} s, A refused ${((refusedAt! - tRevoke) / 1000).toFixed(1)} s after that up began`);
    assert.deepEqual([...failedA, ...failedB], [], "requests that failed for another reason than A's revocation");
    assert.ok(aResults.filter((x) => x.outcome === "ok").length >= 2 && bResults.length >= 2, "both clients streamed through the rotation");
    assert.match(revoked.output, /client key\(s\) loaded \(app-b\), without a restart/);

    assert.deepEqual(await identity(VL.container), vllmBefore, "vLLM's container: same id, start time and restarts");
    assert.deepEqual(await identity(GATEWAY), gwBefore, "the gateway was reloaded, not restarted");
    assert.match(await logs(GATEWAY), /"client":"app-b"/);
  });

  it("the official OpenAI SDK talks to the stack over verified TLS, with a client's key", async () => {
    const sdk = new OpenAI({ baseURL: `${BASE}/v1`, apiKey: KEY_B, maxRetries: 0 });
    const models = await sdk.models.list();
    assert.deepEqual(models.data.map((m) => m.id), [VL.model]);
    const reply = await sdk.chat.completions.create({ model: VL.model, messages: [{ role: "user", content: "Say hi." }] });
    assert.match(reply.choices[0].message.content ?? "", /\[vllm stand-in\]/);
    let chunks = 0;
    let finish: string | null = null;
    for await (const c of await sdk.chat.completions.create({ model: VL.model, messages: [{ role: "user", content: "Count." }], stream: true })) {
      chunks++;
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    assert.ok(chunks > 2 && finish !== null, `streamed ${chunks} chunks, finish_reason ${finish}`);
    await assert.rejects(new OpenAI({ baseURL: `${BASE}/v1`, apiKey: KEY_A, maxRetries: 0 }).models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
  });

  it("a restarted gateway still knows its clients (the config last loaded)", async () => {
    await docker.getContainer(GATEWAY).restart();
    let status = "";
    for (let i = 0; i < 40 && status !== "ok"; i++) {
      status = await streamOnce(KEY_B);
      if (status !== "ok") await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(status, "ok");
    assert.equal(await streamOnce(KEY_A), "401", "a revoked key stays revoked");
  });

  it("serves a provided certificate (gateway.tls.mode provided), its key a secret in state and in the container only", async () => {
    // A CA of the user's and a certificate for localhost from it, made with openssl as a user would.
    const dir = mkdtempSync(join(tmpdir(), "myia-tls-"));
    const ssl = (args: string) => execSync(`openssl ${args}`, { cwd: dir, stdio: "pipe" });
    ssl(`req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=user-ca -keyout ca.key -out ca.pem`);
    ssl(`req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -keyout key.pem -out req.csr`);
    writeFileSync(join(dir, "ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    ssl(`x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext -out cert.pem`);
    const keyPem = readFileSync(join(dir, "key.pem"), "utf8");
    await op(VL.stack, {
      op: "configure",
      config: {
        "gateway.tls.mode": { value: "provided" },
        tlsCertificate: { value: readFileSync(join(dir, "cert.pem"), "utf8"), secret: true },
        tlsPrivateKey: { value: keyPem, secret: true },
      },
    });
    const r = await up(VL.stack);
    assert.match(r.output, /answers https:\/\/localhost:5003\/health and refuses/);
    assert.equal((r.outputs as Record<string, unknown>).caCertificate, undefined, "no CA of ours to trust");
    const ca = readFileSync(join(dir, "ca.pem"), "utf8");
    const status = await new Promise<number>((resolve, reject) => https.get(`${BASE}/health`, { ca }, (res) => resolve(res.statusCode ?? 0)).on("error", reject));
    assert.equal(status, 200, "verified against the user's CA");
    const state = String((await op(VL.stack, { op: "export" })).state);
    assert.ok(!state.includes(keyPem.split("\n")[1]), "the certificate's private key is not in state in plaintext");
    assert.ok(!(await logs(GATEWAY)).includes(keyPem.split("\n")[1]), "nor in the gateway's log");
    const g = await mustInspect(GATEWAY);
    assert.ok(!JSON.stringify([g.Path, g.Args, g.Config.Env]).includes(keyPem.split("\n")[1]), "nor in its argv or environment");
  });
});

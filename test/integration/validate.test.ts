/**
 * npm run validate against the stand-in GPU host: a healthy stack passes; GPU
 * memory over budget (fake nvidia-smi scenario) fails naming the GPU; a server
 * that dies after N requests fails the load check and the restart check.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ValidatedProfile } from "../../components/config/schema";
import { readyGateScript } from "../../components/docker/readyGate";
import { handRunProfile, remove } from "../helpers/docker";
import { hostAccess, Target, validate } from "../../tools/validate";
import { REPO, testProfile } from "../helpers/profile";

const API_KEY = "sk-validate-5b7e1c";
const FAST = ["STANDIN_LOAD_SECONDS=1", "STANDIN_DOWNLOAD_SECONDS=0"];
const created: string[] = [];
// The host probe finds the fake nvidia-smi first on PATH.
process.env.PATH = `${join(REPO, "standin/nvidia")}:${process.env.PATH}`;

async function serve(stack: string, extraEnv: string[] = [], containerName?: string): Promise<ValidatedProfile> {
  const p = testProfile(stack);
  p.server.containerName = containerName ?? `itest-validate-${stack}-${process.pid}`;
  for (const n of [...created, p.server.containerName]) await remove(n);
  created.push(p.server.containerName);
  await handRunProfile(p, { stack, lease: "local:gpus=0,1", apiKey: API_KEY, hfToken: "hf_x", extraEnv: [...FAST, ...extraEnv] });
  const gate = spawnSync("sh", ["-c", readyGateScript({ containerName: p.server.containerName, port: p.server.port, timeoutSeconds: 60 })], { encoding: "utf8" });
  assert.equal(gate.status, 0, gate.stderr);
  return p;
}

const target = (stack: string, p: ValidatedProfile): Target => ({ stack, profile: p, baseUrl: `http://127.0.0.1:${p.server.port}`, apiKey: API_KEY, containerName: p.server.containerName });
const quiet = { requests: 20, concurrency: 4, log: () => undefined };

describe("validate", () => {
  after(async () => {
    for (const n of created) await remove(n);
  });

  // Run by hand, the container publishes vLLM's port with no gateway in
  // front: everything works, and validate names the hole (the engine suite
  // test/engine/gateway.test.ts shows the same stack passing behind the gateway).
  it("checks a vision stack: health, models, chat, image, 20 requests, GPU memory, restarts; fails it on vLLM's unguarded routes", async () => {
    process.env.MYIA_NVIDIA_SMI_SCENARIO = "rtx4090x2-idle";
    const p = await serve("medium-vl");
    const report = await validate(target("medium-vl", p), hostAccess(p), quiet);
    assert.deepEqual(report.checks.map((c) => c.name), ["health", "no key, no answer", "models", "chat", "vision", "load (20 requests, 4 at once)", "GPU memory", "restarts"]);
    assert.deepEqual(report.checks.filter((c) => !c.ok).map((c) => c.name), ["no key, no answer"], JSON.stringify(report.checks, null, 2));
    assert.equal(report.ok, false);
    assert.match(report.checks[1].detail, /^answered without the key: POST \/invocations 200 \(a chat or completion \(SageMaker entry point\)\); POST \/inference\/v1\/generate 200 .*; deploy with the gateway \(gateway\.enabled: true\)/);
    assert.doesNotMatch(report.checks[1].detail, /\/sleep/, "dev-mode routes are not mounted without VLLM_SERVER_DEV_MODE=1");
    assert.equal(report.latencyMs?.count, 20);
    assert.match(report.checks[4].detail, /accepted by the stand-in/);
  });

  it("names the dev-mode controls too when VLLM_SERVER_DEV_MODE=1 mounts them", async () => {
    process.env.MYIA_NVIDIA_SMI_SCENARIO = "rtx4090x2-idle";
    const p = await serve("medium", ["VLLM_SERVER_DEV_MODE=1"]);
    const report = await validate(target("medium", p), hostAccess(p), quiet);
    const check = report.checks.find((c) => c.name === "no key, no answer")!;
    for (const path of ["/sleep", "/wake_up", "/collective_rpc", "/update_weights", "/reset_prefix_cache"]) assert.match(check.detail, new RegExp(`POST ${path} 200`));
  });

  it("fails when a GPU's memory is over the profile's budget, and says which GPU", async () => {
    process.env.MYIA_NVIDIA_SMI_SCENARIO = "rtx4090x2-full";
    const p = await serve("medium-vl");
    const report = await validate(target("medium-vl", p), hostAccess(p), quiet);
    assert.equal(report.ok, false);
    const gpu = report.checks.find((c) => c.name === "GPU memory")!;
    assert.equal(gpu.ok, false);
    assert.match(gpu.detail, /GPU 0 uses 23509 MiB, over its budget of 20879 MiB \(0\.85 × 24564\); GPU 1 uses 23509 MiB/);
    assert.ok(report.checks.filter((c) => !["GPU memory", "no key, no answer"].includes(c.name)).every((c) => c.ok));
  });

  it("fails when the server dies after a few requests", async () => {
    process.env.MYIA_NVIDIA_SMI_SCENARIO = "rtx4090x2-idle";
    const p = await serve("medium", ["STANDIN_DIE_AFTER=8"]);
    const report = await validate(target("medium", p), hostAccess(p), quiet);
    assert.equal(report.ok, false);
    const load = report.checks.find((c) => c.name.startsWith("load"))!;
    assert.equal(load.ok, false);
    assert.match(load.detail, /of 20 failed/);
  });

  it("the CLI prints a summary table, writes --json, and exits non-zero on failure", async () => {
    process.env.MYIA_NVIDIA_SMI_SCENARIO = "rtx4090x2-full";
    const committed = testProfile("medium");
    await serve("medium", [], committed.server.containerName);
    const json = join(mkdtempSync(join(tmpdir(), "validate-")), "report.json");
    // The hand-run container publishes vLLM's own port, plain HTTP: --url says so, as for a compose deployment.
    const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools/validate.ts"), "--stack", "medium", "--requests", "5", "--json", json, "--url", `http://127.0.0.1:${committed.server.port}`], {
      cwd: REPO,
      encoding: "utf8",
      // An empty local backend: the stack has no outputs there, so the validated config says where it runs.
      env: { ...process.env, MYIA_API_KEY: API_KEY, PULUMI_BACKEND_URL: `file://${mkdtempSync(join(tmpdir(), "validate-state-"))}`, PULUMI_CONFIG_PASSPHRASE: "unused" },
    });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /validate medium: FAILED\n {2}health\s+ok/);
    assert.match(r.stdout, /GPU memory\s+FAILED\s+GPU 0 uses 23509 MiB/);
    assert.ok(existsSync(json));
    const report = JSON.parse(readFileSync(json, "utf8"));
    assert.equal(report.ok, false);
    assert.equal(report.latencyMs.count, 5);
    assert.ok(!r.stdout.includes(API_KEY));
    // Without --url the config says HTTPS (the gateway's default): the reason is whole, with what to do.
    const plain = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools/validate.ts"), "--stack", "medium", "--requests", "1"], {
      cwd: REPO,
      encoding: "utf8",
      env: { ...process.env, MYIA_API_KEY: API_KEY, PULUMI_BACKEND_URL: `file://${mkdtempSync(join(tmpdir(), "validate-state-"))}`, PULUMI_CONFIG_PASSPHRASE: "unused" },
    });
    assert.equal(plain.status, 1);
    assert.match(plain.stdout, /health\s+FAILED\s+fetch failed: [^\n]*\(the port speaks plain HTTP: pass --url http:\/\/\.\.\.\)/);
  });
});

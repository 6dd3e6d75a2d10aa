/**
 * The cluster backend on the test cluster's real node (a kubelet on its own
 * containerd, `bash scripts/k8s.sh node start`), through the engine: the
 * stand-in vLLM and Caddy really run in the stack's pod, the kubelet's probes
 * through the gateway's /health make it Ready, and the gateway answers on
 * the pod's IP: /v1 with the key (streaming too), nothing without it, no
 * route outside /v1. Needs the cluster, the node and the stand-in images.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { importToNode, kubectl, kubeEnv, makeVolumes, onRealNode, realNodeSkip } from "../helpers/kube";
import { REPO } from "../helpers/profile";

const IMAGES = ["vllm/vllm-openai:v0.11.0", "caddy:2.11.9"];
const skip = needsPlugins || realNodeSkip(IMAGES);
const NS = "myia-real-medium";
const API_KEY = `sk-${randomBytes(16).toString("hex")}`;
const HF_TOKEN = `hf_${randomBytes(16).toString("hex")}`;

const curl = (...args: string[]) => spawnSync("curl", ["-sS", "-m", "10", ...args], { encoding: "utf8" });

describe("the cluster backend on the real node", { skip, concurrency: false }, () => {
  const project = engineProject(kubeEnv);
  const pv = `myia-real-pv-${process.pid}`;
  let podIP = "";

  before(async () => {
    importToNode(IMAGES);
    kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=true", "--timeout=60s");
    makeVolumes(pv, 1);
    onRealNode(project.workDir, "medium", NS);
    const r = await project.op("medium", { op: "configure", config: { apiKey: { value: API_KEY, secret: true }, hfToken: { value: HF_TOKEN, secret: true } } });
    assert.equal(r.ok, true, r.output);
  });
  after(async () => {
    await project.op("medium", { op: "destroy" });
    kubectl("delete", "namespace", NS, "--ignore-not-found", "--wait=false");
    kubectl("delete", "pv", "-l", `myia-test=${pv}`, "--ignore-not-found", "--wait=false");
  });

  it("up: the weights Job, then the pod Ready by the kubelet's probes through the gateway", async () => {
    const t0 = Date.now();
    const r = await project.op("medium", { op: "up" });
    assert.equal(r.ok, true, r.output);
    console.log(`up medium on the real node: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const pod = JSON.parse(kubectl("-n", NS, "get", "pods", "-l", "org.myia.role=server", "-o", "json")).items[0];
    assert.equal(pod.spec.nodeName, "myia-node-0");
    // vLLM is the pod's sidecar (an init container that keeps running), the gateway its main container.
    assert.deepEqual([...pod.status.initContainerStatuses, ...pod.status.containerStatuses].map((c: { name: string; ready: boolean; started: boolean }) => [c.name, c.started, c.ready]), [["vllm", true, true], ["gateway", true, true]]);
    assert.equal(kubectl("-n", NS, "get", "jobs", "-o", "jsonpath={.items[0].status.succeeded}"), "1");
    podIP = pod.status.podIP;
  });

  it("the gateway on the pod's IP: /health open, /v1 with the key only, nothing outside /v1; vLLM not reachable", () => {
    const base = `http://${podIP}:5002`;
    assert.equal(curl("-o", "/dev/null", "-w", "%{http_code}", `${base}/health`).stdout, "200");
    const models = curl("-H", `Authorization: Bearer ${API_KEY}`, `${base}/v1/models`);
    assert.equal(JSON.parse(models.stdout).data[0].id, "Qwen/Qwen3-32B-AWQ", models.stdout + models.stderr);
    assert.equal(curl("-o", "/dev/null", "-w", "%{http_code}", `${base}/v1/models`).stdout, "401");
    assert.equal(curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer sk-wrong-wrong-wrong", `${base}/v1/models`).stdout, "401");
    assert.equal(curl("-o", "/dev/null", "-w", "%{http_code}", "-H", `Authorization: Bearer ${API_KEY}`, "-X", "POST", `${base}/invocations`).stdout, "404");
    // vLLM listens on the pod's loopback only.
    assert.notEqual(curl("-o", "/dev/null", "-w", "%{http_code}", "-m", "3", `http://${podIP}:8000/health`).stdout, "200");
  });

  it("a streamed completion through the gateway arrives in chunks", () => {
    const body = JSON.stringify({ model: "Qwen/Qwen3-32B-AWQ", stream: true, messages: [{ role: "user", content: "Say hello in five words." }] });
    const r = curl("-N", "-H", `Authorization: Bearer ${API_KEY}`, "-H", "Content-Type: application/json", "-d", body, `http://${podIP}:5002/v1/chat/completions`);
    const chunks = r.stdout.split("\n").filter((l) => l.startsWith("data: "));
    assert.ok(chunks.length >= 3, r.stdout + r.stderr);
    assert.equal(chunks.at(-1), "data: [DONE]");
  });

  it("no secret in the pod spec, the logs or the events", () => {
    const all = kubectl("-n", NS, "get", "pods,deployments,jobs,configmaps,events", "-o", "json") + kubectl("-n", NS, "logs", "deployment/vllm", "--all-containers");
    assert.ok(!all.includes(API_KEY) && !all.includes(HF_TOKEN));
  });

  it("validate against the cluster stack, through the gateway on the pod's IP: PASSED", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools/validate.ts"), "--stack", "medium", "--dir", project.workDir, "--url", `http://${podIP}:5002`, "--requests", "4"], {
      cwd: REPO,
      encoding: "utf8",
      env: { ...project.env(), MYIA_API_KEY: API_KEY },
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /validate medium: PASSED/);
    assert.match(r.stdout, /no key, no answer\s+ok/);
    assert.match(r.stdout, /restarts\s+ok\s+deployment vllm \(namespace myia-real-medium\) running, 0 restarts/);
  });

  it("a client key added: the gateway reloads the mounted Secret (caddy --watch); vLLM's pod is not replaced", async () => {
    const before = JSON.parse(kubectl("-n", NS, "get", "pods", "-l", "org.myia.role=server", "-o", "json")).items[0];
    const appKey = `sk-${randomBytes(16).toString("hex")}`;
    const c = await project.op("medium", { op: "configure", config: { "apiKeys.app-a": { value: appKey, secret: true } } });
    assert.equal(c.ok, true, c.output);
    const r = await project.op("medium", { op: "up" });
    assert.equal(r.ok, true, r.output);
    const t0 = Date.now();
    const code = () => curl("-o", "/dev/null", "-w", "%{http_code}", "-H", `Authorization: Bearer ${appKey}`, `http://${podIP}:5002/v1/models`).stdout;
    // The kubelet updates a Secret volume on its sync (about a minute), then Caddy reloads.
    while (code() !== "200" && Date.now() - t0 < 150_000) await new Promise((res) => setTimeout(res, 2000));
    console.log(`new client key served ${((Date.now() - t0) / 1000).toFixed(1)} s after up`);
    assert.equal(code(), "200");
    const after = JSON.parse(kubectl("-n", NS, "get", "pods", "-l", "org.myia.role=server", "-o", "json")).items[0];
    assert.equal(after.metadata.name, before.metadata.name, "the same pod");
    assert.deepEqual([...after.status.initContainerStatuses, ...after.status.containerStatuses].map((s: { restartCount: number }) => s.restartCount), [0, 0]);
  });
});

/**
 * The cluster backend through the real engine (Automation API, this program
 * inline) and the official kubernetes provider, on the test cluster's kwok
 * GPU nodes: preview's checks against the nodes, up, the migration by a
 * scale-to-0 takeover and its rollback, both stacks side by side when the
 * GPUs suffice. kwok plays the pods (Ready after the delay the stack's pod
 * annotation asks for), so probes and HTTP are not exercised here.
 * Needs the cluster (`bash scripts/k8s.sh start`) and the plugins.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse, stringify } from "yaml";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { clusterDown, jsonpath, kubectl, kubeEnv, makeVolumes, setNodes, STORAGE_CLASS, until } from "../helpers/kube";

const skip = clusterDown || needsPlugins;
const KUBECONFIG = kubeEnv.KUBECONFIG;
const API_KEY = `sk-${randomBytes(16).toString("hex")}`;
const HF_TOKEN = `hf_${randomBytes(16).toString("hex")}`;
const replicasOf = (stack: string) => jsonpath("deployment", "vllm", `myia-${stack}`, ".spec.replicas");
const readyOf = (stack: string) => jsonpath("deployment", "vllm", `myia-${stack}`, ".status.readyReplicas") || "0";

describe("the cluster backend through the engine", { skip, concurrency: false }, () => {
  const project = engineProject(kubeEnv);
  const { op } = project;
  const pv = `myia-pv-${process.pid}`;

  /** Sets a stack file's non-secret config (merged at the top level of each key). */
  function stackConfig(stack: string, set: Record<string, unknown>) {
    const file = join(project.workDir, `Pulumi.${stack}.yaml`);
    const doc = parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    for (const [k, v] of Object.entries(set)) doc.config[`myia-vllm:${k}`] = v;
    writeFileSync(file, stringify(doc));
  }
  const cluster = (extra: Record<string, unknown> = {}) => ({
    kubeconfig: KUBECONFIG,
    // The kwok GPU nodes, not the real node beside them (it has 2 GPUs too, and no product label).
    gpuProduct: "NVIDIA-GeForce-RTX-4090",
    storageClass: STORAGE_CLASS,
    cacheSize: "100Gi",
    // Replicas on several nodes share the cache (the test's volumes offer both modes; a claim's mode is immutable).
    cacheAccessMode: "ReadWriteMany",
    startupSeconds: 60,
    terminationGraceSeconds: 40,
    // kwok's stages: the model "loads" for 2 s, the weights Job takes 1 s.
    podAnnotations: { "pod-ready.stage.kwok.x-k8s.io/delay": "2s", "pod-complete.stage.kwok.x-k8s.io/delay": "1s" },
    ...extra,
  });

  before(async () => {
    kubectl("delete", "namespace", "myia-medium", "myia-medium-vl", "--ignore-not-found", "--wait=true", "--timeout=60s");
    makeVolumes(pv, 6);
    for (const s of ["medium", "medium-vl"]) {
      stackConfig(s, { cluster: cluster(), container: { readyTimeoutSeconds: 30 } });
      const r = await op(s, { op: "configure", config: { apiKey: { value: API_KEY, secret: true }, hfToken: { value: HF_TOKEN, secret: true } } });
      assert.equal(r.ok, true, r.output);
    }
  });
  after(() => {
    for (const s of ["medium", "medium-vl"]) kubectl("delete", "namespace", `myia-${s}`, "--ignore-not-found", "--wait=false");
    kubectl("delete", "pv", "-l", `myia-test=${pv}`, "--ignore-not-found", "--wait=false");
    setNodes("default");
  });

  it("preview: the memory plan for the nodes' GPUs, and which GPUs it will use", async () => {
    setNodes("default");
    const r = await op("medium", { op: "preview" });
    assert.equal(r.ok, true, r.output);
    assert.match(r.output, /memory plan per GPU/);
    assert.match(r.output, /GPUs: free for 1 pod\(s\) of 2 nvidia\.com\/gpu/);
  });

  it("preview: a TP-2 stack on a pool of 1-GPU nodes is refused with one clear line", async () => {
    stackConfig("medium", { cluster: cluster({ gpuProduct: "NVIDIA-RTX-A4000", gpuMemoryMiB: 16376 }) });
    try {
      const r = await op("medium", { op: "preview" });
      assert.equal(r.ok, false, r.output);
      assert.match(r.output, /vllm\.tensorParallelSize: 2 GPUs per pod, but the nodes matching nvidia\.com\/gpu\.product=NVIDIA-RTX-A4000 have at most 1 nvidia\.com\/gpu each \(kwok-gpu-small-0: 1\)/);
    } finally {
      stackConfig("medium", { cluster: cluster() });
    }
  });

  it("up medium on one 2-GPU node: Ready, Recreate, the secrets by reference only", async () => {
    setNodes("gpu2");
    const t0 = Date.now();
    const r = await op("medium", { op: "up" });
    assert.equal(r.ok, true, r.output);
    console.log(`up medium: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(readyOf("medium"), "1");
    assert.equal(jsonpath("deployment", "vllm", "myia-medium", ".spec.strategy.type"), "Recreate");
    const spec = kubectl("-n", "myia-medium", "get", "deployment,job,configmap", "-o", "json");
    assert.ok(!spec.includes(API_KEY) && !spec.includes(HF_TOKEN), "no secret value in the pod specs or ConfigMaps");
    assert.match(spec, /"secretKeyRef"/);
  });

  it("migration to medium-vl with 2 GPUs: preview says takeover, up scales medium to 0 (kept)", async () => {
    const p = await op("medium-vl", { op: "preview" });
    assert.equal(p.ok, true, p.output);
    assert.match(p.output, /fit only once stack medium \(2 GPU\(s\), namespace myia-medium\) stops; up scales its Deployment to 0/);
    const r = await op("medium-vl", { op: "up" });
    assert.equal(r.ok, true, r.output);
    assert.equal(readyOf("medium-vl"), "1");
    assert.equal(replicasOf("medium"), "0", "medium's Deployment is kept, scaled to 0");
  });

  it("rollback: up medium scales it back (its Deployment declares 1) and takes medium-vl's GPUs", async () => {
    const r = await op("medium", { op: "up" });
    assert.equal(r.ok, true, r.output);
    assert.equal(replicasOf("medium"), "1");
    assert.equal(readyOf("medium"), "1");
    assert.equal(replicasOf("medium-vl"), "0");
  });

  it("with 4 GPUs both run: preview says free, up leaves medium serving", async () => {
    setNodes("gpu4");
    const r = await op("medium-vl", { op: "up" });
    assert.equal(r.ok, true, r.output);
    assert.match(r.output, /GPUs: free for 1 pod/);
    assert.equal(readyOf("medium-vl"), "1");
    assert.equal(readyOf("medium"), "1");
  });

  it("a second up with nothing changed changes nothing (no diff from the API server's defaults, no takeover again)", async () => {
    const r = await op("medium-vl", { op: "preview" });
    assert.equal(r.ok, true, r.output);
    const changes = Object.entries(r.changeSummary as Record<string, number>).filter(([k]) => k !== "same");
    assert.deepEqual(changes, [], r.output);
  });

  it("scale-out: replicas 3 on three 2-GPU nodes, one pod per node, behind the one Service", async () => {
    setNodes("gpu3x2");
    stackConfig("medium", { cluster: cluster({ replicas: 3 }) });
    const r = await op("medium", { op: "up" });
    assert.equal(r.ok, true, r.output);
    assert.equal(readyOf("medium"), "3");
    const nodes = kubectl("-n", "myia-medium", "get", "pods", "-l", "org.myia.role=server", "-o", "jsonpath={.items[*].spec.nodeName}").split(" ");
    assert.equal(new Set(nodes).size, 3, nodes.join(" "));
    assert.equal(jsonpath("endpoints", "vllm", "myia-medium", ".subsets[0].addresses[*].ip")?.split(" ").length, 3);
  });

  it("too few GPUs: up fails within its bound, naming the scheduler's reason", async () => {
    // One 2-GPU node left, and 2 pods of 2 GPUs asked for (a change of the
    // Deployment's spec, which up then waits on).
    setNodes("gpu2");
    // The pods of the nodes just removed, gone as a node's loss makes them go
    // (the pod GC would take its time); their ReplicaSet makes new ones.
    kubectl("delete", "pods", "-n", "myia-medium", "-l", "org.myia.role=server", "--grace-period=0", "--force");
    stackConfig("medium", { cluster: cluster({ replicas: 2 }) });
    const p = await op("medium", { op: "preview" });
    assert.match(p.output, /GPUs: too few for 2 pod\(s\) of 2 nvidia\.com\/gpu: room for 1 now, 1 even with every other stack stopped/);
    const t0 = Date.now();
    const r = await op("medium", { op: "up" });
    const s = (Date.now() - t0) / 1000;
    console.log(`too few GPUs: up failed in ${s.toFixed(1)} s`);
    assert.equal(r.ok, false, r.output);
    // The gate's lines, with the scheduler's own words (not preview's warning).
    assert.match(r.output, /deployment vllm \(namespace myia-medium\) not Ready within 30s \(container\.readyTimeoutSeconds\)/);
    assert.match(r.output, /node= {2}Unschedulable 0\/\d+ nodes are available: .*\b1 Insufficient nvidia\.com\/gpu/);
    assert.ok(s < 30 + 45, `bounded by container.readyTimeoutSeconds (30 s) plus the engine's own time: ${s} s`);
  });

  it("drift: a Deployment scaled by hand and a Secret deleted; refresh sees both, up repairs both", async () => {
    stackConfig("medium", { cluster: cluster() });
    const base = await op("medium", { op: "up" });
    assert.equal(base.ok, true, base.output);
    kubectl("-n", "myia-medium", "scale", "deployment", "vllm", "--replicas=0");
    kubectl("-n", "myia-medium", "delete", "secret", "myia-vllm");
    const refresh = await op("medium", { op: "refresh" });
    assert.equal(refresh.ok, true, refresh.output);
    assert.match(refresh.output, /medium-deployment refresh.*\[diff: ~spec\]/);
    assert.match(refresh.output, /-\s+kubernetes:core\/v1:Secret medium-secret deleted/);
    const up = await op("medium", { op: "up" });
    assert.equal(up.ok, true, up.output);
    assert.equal(replicasOf("medium"), "1");
    assert.equal(readyOf("medium"), "1");
    assert.ok(jsonpath("secret", "myia-vllm", "myia-medium", ".metadata.name"));
  });

  it("no plaintext secret in the state, the pod specs, the ConfigMaps or the events", async () => {
    for (const s of ["medium", "medium-vl"]) {
      const r = await op(s, { op: "export" });
      assert.equal(r.ok, true, r.output);
      const state = String(r.state);
      assert.match(state, /"kubernetes:core\/v1:Secret"/);
      assert.ok(!state.includes(API_KEY) && !state.includes(HF_TOKEN), `a secret in ${s}'s state`);
    }
    const all = kubectl("get", "pods,deployments,jobs,configmaps,events", "--all-namespaces", "-o", "json");
    assert.ok(!all.includes(API_KEY) && !all.includes(HF_TOKEN));
  });

  it("destroy keeps the model cache (its claim and namespace) and nothing else", async () => {
    const r = await op("medium", { op: "destroy" });
    assert.equal(r.ok, true, r.output);
    assert.equal(jsonpath("pvc", "model-cache", "myia-medium", ".status.phase"), "Bound");
    assert.equal(jsonpath("deployment", "vllm", "myia-medium", ".metadata.name"), undefined);
    assert.equal(jsonpath("secret", "myia-vllm", "myia-medium", ".metadata.name"), undefined);
  });

  it("an up after destroy takes the kept namespace and cache back, not a new one", async () => {
    const uid = jsonpath("pvc", "model-cache", "myia-medium", ".metadata.uid");
    const r = await op("medium", { op: "up" });
    assert.equal(r.ok, true, r.output);
    assert.equal(jsonpath("pvc", "model-cache", "myia-medium", ".metadata.uid"), uid);
    assert.equal(readyOf("medium"), "1");
  });

  it("destroy with no GPU node left (the pool scaled away): refused with the program, with the way out; from the state alone it goes", async () => {
    setNodes("none");
    const refused = await op("medium", { op: "destroy" });
    assert.equal(refused.ok, false, refused.output);
    assert.match(refused.output, /cluster\.nodeSelector: no schedulable node matches/);
    assert.match(refused.output, /to remove the stack anyway, from its state alone: pulumi destroy --stack medium --run-program=false/);
    assert.equal(jsonpath("deployment", "vllm", "myia-medium", ".metadata.name"), "vllm", "nothing was removed");
    const r = await op("medium", { op: "destroy", runProgram: false });
    assert.equal(r.ok, true, r.output);
    assert.match(r.output, /kubernetes:apps\/v1:Deployment medium-deployment deleted/);
    // Deleted, or being deleted: its pods were on nodes that are gone, and no kubelet confirms them (the pod GC does, later).
    await until("medium's Deployment deleted or being deleted", () => jsonpath("deployment", "vllm", "myia-medium", ".metadata.name") === undefined || !!jsonpath("deployment", "vllm", "myia-medium", ".metadata.deletionTimestamp"));
    assert.equal(jsonpath("secret", "myia-vllm", "myia-medium", ".metadata.name"), undefined);
    assert.equal(jsonpath("pvc", "model-cache", "myia-medium", ".status.phase"), "Bound", "the cache is kept, as by any destroy");
  });
});

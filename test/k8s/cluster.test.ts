/**
 * The test cluster of scripts/k8s.sh works as the engine suites will need it:
 * its fake GPU nodes carry nvidia.com/gpu and the GPU feature discovery
 * labels and taint; a Recreate Deployment asking for 2 GPUs, with the
 * toleration and a node selector on the GPU product, is scheduled on one and
 * turns Ready after the load delay its pod asks for; with every GPU taken,
 * another stays Pending with "Insufficient nvidia.com/gpu" until the first
 * scales to 0 (a takeover). Driven with our kubectl; needs the cluster
 * running (`bash scripts/k8s.sh start`; npm test does it).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { until } from "../helpers/kube";
import { REPO } from "../helpers/profile";

const K8S = join(REPO, "scripts", "k8s.sh");
const env: Record<string, string> = {};
for (const line of execFileSync("bash", [K8S, "env"], { encoding: "utf8" }).split("\n")) {
  const m = /^export (\w+)="(.*)"$/.exec(line);
  if (m) env[m[1]] = m[2].replace("$PATH", process.env.PATH ?? "");
}
const kenv = { ...process.env, ...env };
const status = spawnSync("bash", [K8S, "status"], { encoding: "utf8", env: kenv });
const skip = status.status === 0 ? false : `the test cluster is not running (bash scripts/k8s.sh start): ${status.stdout.trim().split("\n").join("; ")}`;

const NS = `k8s-test-${process.pid}`;
const kubectl = (...args: string[]) => execFileSync("kubectl", args, { encoding: "utf8", env: kenv, stdio: ["pipe", "pipe", "pipe"] });
const apply = (doc: object) => execFileSync("kubectl", ["apply", "-f", "-"], { input: JSON.stringify(doc), encoding: "utf8", env: kenv });
const nodes = (profile: string) => execFileSync("bash", [K8S, "nodes", profile], { encoding: "utf8", env: kenv, stdio: ["ignore", "pipe", "inherit"] });

/** A Deployment of one vLLM-like pod on a 2-GPU RTX 4090 node, Ready after `delay`. */
function gpuDeployment(name: string, delay: string, gpus = 2) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS },
    spec: {
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { "pod-ready.stage.kwok.x-k8s.io/delay": delay } },
        spec: {
          nodeSelector: { "nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-4090" },
          tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
          containers: [{ name: "vllm", image: "vllm/vllm-openai:v0.34.0", resources: { limits: { "nvidia.com/gpu": String(gpus) } } }],
        },
      },
    },
  };
}

type Pod = { metadata: { name: string }; spec: { nodeName?: string }; status: { phase: string; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[]; startTime?: string } };
const pods = (app: string): Pod[] => JSON.parse(kubectl("get", "pods", "-n", NS, "-l", `app=${app}`, "-o", "json")).items;
const cond = (p: Pod, type: string) => p.status.conditions?.find((c) => c.type === type);
const readyPod = (app: string) => pods(app).find((p) => cond(p, "Ready")?.status === "True");

describe("the test cluster (scripts/k8s.sh)", { skip }, () => {
  before(() => {
    kubectl("create", "namespace", NS);
  });
  after(() => {
    spawnSync("kubectl", ["delete", "namespace", NS, "--wait=false"], { env: kenv });
    // The default node set again, for whoever comes next.
    nodes("default");
  });

  it("has the default profile's fake GPU nodes, with GPU capacity, GFD labels and the taint", () => {
    nodes("default");
    const items: any[] = JSON.parse(kubectl("get", "nodes", "-l", "myia-vllm/node-set=kwok", "-o", "json")).items;
    const byName = Object.fromEntries(items.map((n) => [n.metadata.name, n]));
    assert.deepEqual(Object.keys(byName).sort(), ["kwok-gpu-0", "kwok-gpu-1", "kwok-gpu-2", "kwok-gpu-small-0"]);
    for (const n of items) {
      const big = !n.metadata.name.includes("small");
      const gpus = big ? "2" : "1";
      assert.equal(n.status.capacity["nvidia.com/gpu"], gpus, n.metadata.name);
      assert.equal(n.status.allocatable["nvidia.com/gpu"], gpus, n.metadata.name);
      assert.equal(n.metadata.labels["nvidia.com/gpu.count"], gpus);
      assert.equal(n.metadata.labels["nvidia.com/gpu.product"], big ? "NVIDIA-GeForce-RTX-4090" : "NVIDIA-RTX-A4000");
      assert.equal(n.metadata.labels["nvidia.com/gpu.memory"], big ? "24564" : "16376");
      assert.deepEqual(n.spec.taints, [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }]);
      assert.equal(n.status.conditions.find((c: any) => c.type === "Ready")?.status, "True", `${n.metadata.name} Ready`);
    }
  });

  it("runs a 2-GPU Recreate Deployment on a GPU node, Ready after its pod's load delay; a second waits for GPUs until the first scales to 0", async () => {
    nodes("gpu2"); // one node, 2 x RTX 4090: two 2-GPU models cannot both run
    const t0 = Date.now();
    apply(gpuDeployment("model-a", "3s"));
    const running = await until("model-a Running", () => pods("model-a").find((p) => p.status.phase === "Running"));
    assert.equal(running.spec.nodeName, "kwok-gpu-0");
    assert.equal(cond(running, "Ready")?.status, "False", "Running but not Ready while the model loads");
    const ready = await until("model-a Ready", () => readyPod("model-a"));
    const loadMs = Date.parse(cond(ready, "Ready")!.lastTransitionTime!) - Date.parse(ready.status.startTime!);
    console.log(`model-a: Ready ${((Date.now() - t0) / 1000).toFixed(1)} s after apply (pod Running -> Ready: ${loadMs / 1000} s, asked 3s)`);
    assert.ok(loadMs >= 2500, `Ready ${loadMs} ms after start, asked 3 s`);
    kubectl("rollout", "status", "deployment/model-a", "-n", NS, "--timeout=30s");

    apply(gpuDeployment("model-b", "0s"));
    const pending = await until("model-b unschedulable", () => pods("model-b").find((p) => cond(p, "PodScheduled")?.reason === "Unschedulable"));
    assert.equal(pending.status.phase, "Pending");
    assert.match(cond(pending, "PodScheduled")!.message!, /Insufficient nvidia\.com\/gpu/);
    console.log(`model-b: ${cond(pending, "PodScheduled")!.message}`);

    // The takeover: the first scales to 0, its GPUs free, the second is scheduled.
    const t1 = Date.now();
    kubectl("scale", "deployment/model-a", "-n", NS, "--replicas=0");
    const b = await until("model-b Ready after model-a scaled to 0", () => readyPod("model-b"));
    assert.equal(b.spec.nodeName, "kwok-gpu-0");
    console.log(`model-b: Ready ${((Date.now() - t1) / 1000).toFixed(1)} s after model-a was scaled to 0`);
    kubectl("delete", "deployment", "model-a", "model-b", "-n", NS, "--wait=true");
  });

  it("keeps a GPU pod without the toleration off the GPU nodes, and 3 replicas spread over 3 nodes", async () => {
    nodes("gpu3x2");
    const d = gpuDeployment("no-toleration", "0s");
    d.spec.template.spec.tolerations = [];
    apply(d);
    const p = await until("no-toleration unschedulable", () => pods("no-toleration").find((x) => cond(x, "PodScheduled")?.reason === "Unschedulable"));
    assert.match(cond(p, "PodScheduled")!.message!, /untolerated taint/);
    kubectl("delete", "deployment", "no-toleration", "-n", NS);

    // Three 2-GPU replicas need the three 2-GPU nodes, one each.
    const three = gpuDeployment("three", "0s");
    three.spec.replicas = 3;
    apply(three);
    const spread = await until("3 replicas Ready", () => {
      const ps = pods("three").filter((x) => cond(x, "Ready")?.status === "True");
      return ps.length === 3 && ps;
    });
    assert.deepEqual(spread.map((x) => x.spec.nodeName).sort(), ["kwok-gpu-0", "kwok-gpu-1", "kwok-gpu-2"]);
    kubectl("delete", "deployment", "three", "-n", NS, "--wait=true");
  });
});

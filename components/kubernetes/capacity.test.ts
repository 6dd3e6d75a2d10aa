import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ClusterSchema } from "../config/cluster";
import { join } from "node:path";
import { validateProfile } from "../config/schema";
import { readStackFile } from "../config/stackFile";
import { eligibleNodes, gpuPlacementVerdict, KNode, KPod, nodeProblems, placement, placementLine, podGpus } from "./capacity";
import { deploymentSpec } from "./pod";
import { holdersKey, takeoverScript } from "./takeover";

const cfg = (x: Record<string, unknown> = {}) => ClusterSchema.parse({ context: "c", ...x });
const node = (name: string, gpus: number, memory = 24564, product = "NVIDIA-GeForce-RTX-4090"): KNode => ({
  metadata: { name, labels: { "nvidia.com/gpu.product": product, "nvidia.com/gpu.memory": String(memory) } },
  spec: { taints: [{ key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" }] },
  status: { allocatable: { "nvidia.com/gpu": String(gpus) } },
});
const pod = (stack: string, nodeName: string, gpus: number, ns = `myia-${stack}`): KPod => ({
  metadata: { name: `${stack}-x`, namespace: ns, labels: { "org.myia.project": "myia-vllm", "org.myia.stack": stack, "org.myia.role": "server" } },
  spec: { nodeName, containers: [{ resources: { limits: { "nvidia.com/gpu": String(gpus) } } }] },
  status: { phase: "Running" },
});

describe("what the cluster can give a stack", () => {
  const nodes = [node("a", 2), node("b", 2), node("small", 1, 16376, "NVIDIA-RTX-A4000"), { metadata: { name: "plain" }, status: { allocatable: {} } }];

  it("eligible nodes: the selector matches and every taint is tolerated", () => {
    assert.deepEqual(eligibleNodes(nodes, cfg()).map((n) => n.name), ["a", "b", "small", "plain"]);
    assert.deepEqual(eligibleNodes(nodes, cfg({ gpuProduct: "NVIDIA-RTX-A4000" })).map((n) => [n.name, n.gpus, n.memoryMiB]), [["small", 1, 16376]]);
    assert.deepEqual(eligibleNodes(nodes, cfg({ tolerations: [] })).map((n) => n.name), ["plain"], "a GPU taint needs its toleration");
  });

  it("TP 2 on 1-GPU nodes, and GPUs smaller than the plan, are refused with one line", () => {
    const small = eligibleNodes(nodes, cfg({ gpuProduct: "NVIDIA-RTX-A4000" }));
    assert.match(nodeProblems(small, cfg({ gpuProduct: "NVIDIA-RTX-A4000" }), 2, "medium")[0], /^vllm\.tensorParallelSize: 2 GPUs per pod, but the nodes matching nvidia\.com\/gpu\.product=NVIDIA-RTX-A4000 have at most 1 nvidia\.com\/gpu each \(small: 1\)/);
    assert.match(nodeProblems(small, cfg({ gpuProduct: "NVIDIA-RTX-A4000" }), 1, "medium")[0], /^cluster\.gpuMemoryMiB: the memory plan is for 24564 MiB per GPU, but small has 16376 MiB/);
    assert.match(nodeProblems([], cfg({ gpuProduct: "H100" }), 2, "medium", nodes.slice(0, 1))[0], /^cluster\.nodeSelector: no schedulable node matches nvidia\.com\/gpu\.product=H100 with the tolerations given \(a: nvidia\.com\/gpu\.product=NVIDIA-GeForce-RTX-4090\)/);
    assert.match(nodeProblems([], cfg({ tolerations: [] }), 2, "medium", nodes.slice(0, 1))[0], /\(a: taint nvidia\.com\/gpu=present:NoSchedule not tolerated\)/);
    assert.deepEqual(nodeProblems(eligibleNodes(nodes, cfg({ gpuProduct: "NVIDIA-GeForce-RTX-4090" })), cfg(), 2, "medium"), []);
  });

  it("free GPUs: both run; none: the other stack is taken over; too few even then: short", () => {
    const big = eligibleNodes(nodes, cfg()).filter((n) => n.gpus >= 2);
    assert.deepEqual(placement(big, [pod("medium", "a", 2)], cfg(), "medium-vl", 2), { kind: "free", slots: 1 });
    const t = placement(big.slice(0, 1), [pod("medium", "a", 2)], cfg(), "medium-vl", 2);
    assert.deepEqual(t, { kind: "takeover", holders: [{ stack: "medium", namespace: "myia-medium", gpus: 2, pods: ["medium-x"] }], slots: 1 });
    assert.match(placementLine(t, cfg(), 2), /fit only once stack medium \(2 GPU\(s\), namespace myia-medium\) stops; up scales its Deployment to 0/);
    // Its own pods are free (Recreate removes them first).
    assert.equal(placement(big.slice(0, 1), [pod("medium", "a", 2)], cfg(), "medium", 2).kind, "free");
    assert.deepEqual(placement(big, [], cfg({ replicas: 3 }), "medium", 2), { kind: "short", slots: 2, slotsAfterTakeover: 2 });
    // A pod that is not ours is never taken over.
    const foreign = { ...pod("x", "a", 2), metadata: { name: "x", namespace: "ml", labels: {} } };
    assert.equal(placement(big.slice(0, 1), [foreign], cfg(), "medium", 2).kind, "short");
  });

  it("the takeover: scale to 0 by label, wait for the pods to go, say how to roll back", () => {
    const s = takeoverScript([{ stack: "medium", namespace: "myia-medium", gpus: 2, pods: ["p"] }], { kubeconfig: "/k/conf" }, 35);
    assert.match(s, /'kubectl' '--kubeconfig' '\/k\/conf' -n 'myia-medium' scale deployment -l 'org\.myia\.stack=medium,org\.myia\.role=server' --replicas=0/);
    assert.match(s, /wait --for=delete --timeout=35s/);
    assert.match(s, /`pulumi up --stack medium` brings it back/);
    assert.equal(takeoverScript([], {}, 1), "set -eu\n");
    assert.equal(holdersKey([{ stack: "medium", namespace: "myia-medium", gpus: 2, pods: ["vllm-b", "vllm-a"] }]), "myia-medium/medium:vllm-a+vllm-b");
  });
});

describe("podGpus: GPUs a pod holds, as the scheduler counts them", () => {
  const lim = (n: number, restartPolicy?: string) => ({ ...(restartPolicy ? { restartPolicy } : {}), resources: { limits: { "nvidia.com/gpu": String(n) } } });
  const cases: { name: string; spec: KPod["spec"]; want: number }[] = [
    { name: "containers only", spec: { containers: [lim(2), lim(0)] }, want: 2 },
    { name: "a sidecar (our vLLM) beside the gateway", spec: { initContainers: [lim(2, "Always")], containers: [{}] }, want: 2 },
    { name: "a sidecar and a GPU container add up", spec: { initContainers: [lim(1, "Always")], containers: [lim(1)] }, want: 2 },
    { name: "a plain init container runs alone: the larger of it and the rest", spec: { initContainers: [lim(4)], containers: [lim(2)] }, want: 4 },
    { name: "a plain init container after a sidecar runs beside it", spec: { initContainers: [lim(1, "Always"), lim(2)], containers: [] }, want: 3 },
    { name: "requests when no limits", spec: { containers: [{ resources: { requests: { "nvidia.com/gpu": "1" } } }] }, want: 1 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(podGpus({ spec: c.spec }, "nvidia.com/gpu"), c.want));

  it("our own pod holds tensorParallelSize GPUs", () => {
    const v = validateProfile({ ...readStackFile(join(__dirname, "..", ".."), "medium").raw, cluster: { context: "c" } }, { apiKey: "secret", hfToken: "secret" }, "medium");
    assert.ok(v.ok);
    assert.equal(podGpus({ spec: deploymentSpec(v.profile, "medium").template.spec as KPod["spec"] }, "nvidia.com/gpu"), v.profile.vllm.tensorParallelSize);
  });
});

describe("gpuPlacementVerdict: validate's GPU check on a cluster", () => {
  const c = cfg();
  const nodes = [node("a", 2), node("small", 2, 16376), { metadata: { name: "bare" }, status: { allocatable: {} } }];
  const cases: { name: string; pods: KPod[]; tp: number; parts?: RegExp; problems: string[] }[] = [
    { name: "a pod with its 2 GPUs on a 24 GiB node", pods: [pod("medium", "a", 2)], tp: 2, parts: /^medium-x on a: 2 nvidia\.com\/gpu \(24564 MiB each\)$/, problems: [] },
    { name: "a node without the memory label: said, not failed", pods: [pod("medium", "bare", 2)], tp: 2, parts: /no nvidia\.com\/gpu\.memory label: the plan's 24564 MiB unchecked/, problems: [] },
    { name: "GPUs smaller than the plan", pods: [pod("medium", "small", 2)], tp: 2, problems: ["medium-x runs on small, whose GPUs have 16376 MiB, less than the plan's 24564 MiB (cluster.gpuMemoryMiB)"] },
    { name: "fewer GPUs than tensorParallelSize", pods: [pod("medium", "a", 1)], tp: 2, problems: ["medium-x holds 1 nvidia.com/gpu, not 2 (vllm.tensorParallelSize)"] },
    { name: "no running pod", pods: [{ ...pod("medium", "a", 2), status: { phase: "Pending" } }], tp: 2, problems: ["no running pod"] },
  ];
  for (const x of cases) {
    it(x.name, () => {
      const v = gpuPlacementVerdict(x.pods, nodes, c, x.tp);
      assert.deepEqual(v.problems, x.problems);
      if (x.parts) assert.match(v.parts.join("; "), x.parts);
    });
  }
});

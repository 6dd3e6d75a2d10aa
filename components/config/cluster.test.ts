import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { clusterNamespace, nodeSelector, vllmPodPort } from "./cluster";
import { readStackFile } from "./stackFile";
import { validateProfile } from "./schema";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..");
const secrets = { apiKey: "secret", hfToken: "secret" } as const;

/** The committed medium stack, moved to a cluster. */
function onCluster(cluster: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const raw = { ...readStackFile(REPO, "medium").raw, cluster, ...extra };
  return validateProfile(raw, secrets, "medium");
}

describe("the cluster part of a stack", () => {
  it("a cluster stack: vLLM on the pod's loopback, the gateway on the stack's port over HTTP, defaults filled", () => {
    const v = onCluster({ context: "gpu-pool", gpuProduct: "NVIDIA-GeForce-RTX-4090" });
    assert.equal(v.ok, true, v.ok ? "" : v.errors.join("\n"));
    if (!v.ok) return;
    const argv = v.profile.argv.join(" ");
    assert.match(argv, /--host 127\.0\.0\.1 --port 8000 /);
    assert.equal(v.profile.server.port, 5002);
    assert.equal(v.profile.gateway.tls.mode, "off");
    assert.equal(v.profile.cluster!.replicas, 1);
    assert.deepEqual(v.profile.cluster!.tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    assert.equal(clusterNamespace(v.profile.cluster!, "medium"), "myia-medium");
    assert.deepEqual(nodeSelector(v.profile.cluster!), { "nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-4090" });
    // The memory plan is made for cluster.gpuMemoryMiB, as for host.gpuMemoryMiB.
    assert.ok(v.profile.memory.fits);
  });

  it("the plan follows cluster.gpuMemoryMiB: an 8 GiB card does not hold medium", () => {
    const v = onCluster({ context: "c", gpuMemoryMiB: 8192 });
    assert.equal(v.ok, false);
    assert.ok(!v.ok && v.errors.some((e) => /^vllm\.(gpuMemoryUtilization|maxModelLen): /.test(e)), JSON.stringify(v));
  });

  it("no TP check against host.gpus on a cluster (the scheduler picks the GPUs)", () => {
    const v = onCluster({ context: "c" }, { vllm: { ...(readStackFile(REPO, "medium").raw.vllm as object), tensorParallelSize: 2 } });
    assert.equal(v.ok, true);
  });

  it("the stack's port may be vLLM's default: vLLM then takes the next one", () => {
    assert.equal(vllmPodPort(8000), 8001);
    assert.equal(vllmPodPort(5002), 8000);
  });

  it("the Docker stacks are unchanged: vLLM on 0.0.0.0 and the stack's port", () => {
    const v = validateProfile(readStackFile(REPO, "medium").raw, secrets, "medium");
    assert.ok(v.ok && v.profile.argv.join(" ").includes("--host 0.0.0.0 --port 5002"));
  });
});

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readStackFile } from "../config/stackFile";
import { ValidatedProfile, validateProfile } from "../config/schema";
import { gatewayCaddyfile } from "../gateway/caddyfile";
import { cacheClaimSpec, networkPolicySpec, serviceSpec, weightsJobName, weightsJobSpec } from "./manifests";
import { deploymentSpec, gatewayContainer, podGatewayRender, SECRET_NAME, vllmContainer } from "./pod";

const REPO = join(__dirname, "..", "..");

export function clusterProfile(stack: string, cluster: Record<string, unknown> = {}): ValidatedProfile {
  const v = validateProfile({ ...readStackFile(REPO, stack).raw, cluster: { context: "test", ...cluster } }, { apiKey: "secret", hfToken: "secret" }, stack);
  if (!v.ok) throw new Error(v.errors.join("\n"));
  return v.profile;
}

describe("the pod and the stack's objects on a cluster", () => {
  const p = clusterProfile("medium", { gpuProduct: "NVIDIA-GeForce-RTX-4090", startupSeconds: 600, terminationGraceSeconds: 90 });
  const d = deploymentSpec(p, "medium");
  const [vllm, gateway] = [vllmContainer(p), gatewayContainer(p)];

  it("Recreate, never a rolling update (which deadlocks on scarce GPUs); one pod: vLLM as its sidecar, the gateway its main container", () => {
    assert.deepEqual(d.template.spec.initContainers, [vllm]);
    assert.deepEqual(d.template.spec.containers, [gateway]);
    // A native sidecar: started first, stopped after the gateway, so what is in flight through the gateway finishes.
    assert.equal(vllm.restartPolicy, "Always");
    assert.deepEqual(d.strategy, { type: "Recreate" });
    assert.equal(d.replicas, 1);
  });

  it("vLLM: the pinned image, the shared argv on the loopback, tensorParallelSize GPUs in limits", () => {
    assert.equal(vllm.image, "vllm/vllm-openai:v0.11.0");
    assert.deepEqual(vllm.args, p.argv);
    assert.match(vllm.args.join(" "), /--host 127\.0\.0\.1 --port 8000/);
    assert.deepEqual(vllm.resources, { limits: { "nvidia.com/gpu": "2" } });
    assert.equal("ports" in vllm, false, "vLLM publishes no port");
  });

  it("the secrets by reference to the stack's Secret, never a value", () => {
    const refs = [...vllm.env, ...gateway.env].filter((e) => e.valueFrom);
    assert.deepEqual(refs.map((e) => [e.name, e.valueFrom!.secretKeyRef.name, e.valueFrom!.secretKeyRef.key]), [
      ["VLLM_API_KEY", SECRET_NAME, "apiKey"],
      ["HF_TOKEN", SECRET_NAME, "hfToken"],
      ["MYIA_UPSTREAM_KEY", SECRET_NAME, "apiKey"],
    ]);
    assert.deepEqual(d.template.spec.volumes.find((v) => v.name === "gateway-config"), { name: "gateway-config", secret: { secretName: SECRET_NAME, items: [{ key: "Caddyfile", path: "Caddyfile" }] } });
  });

  it("vLLM probed on its loopback (the gateway starts after it); the pod Ready through the gateway's /health; startupSeconds is the load's budget", () => {
    for (const probe of [vllm.startupProbe, vllm.livenessProbe]) assert.deepEqual(probe.exec.command, ["curl", "-fsS", "http://127.0.0.1:8000/health"]);
    assert.equal(vllm.startupProbe.periodSeconds * vllm.startupProbe.failureThreshold, 600);
    assert.ok(vllm.livenessProbe.failureThreshold * vllm.livenessProbe.periodSeconds < 600, "liveness is not the load's budget");
    assert.deepEqual(gateway.readinessProbe.httpGet, { path: "/health", port: 5002, scheme: "HTTP" });
    assert.equal("readinessProbe" in vllm, false);
  });

  it("the drain: the gateway's grace period is gateway.drainSeconds; the pod's holds it and vLLM's stop", () => {
    assert.match(gatewayCaddyfile(podGatewayRender(p)), /^\tgrace_period 30s$/m);
    assert.match(gatewayCaddyfile(podGatewayRender(clusterProfile("medium", { terminationGraceSeconds: 90 }))), /grace_period 30s/);
    const noDrain = validateProfile({ ...readStackFile(REPO, "medium").raw, gateway: { drainSeconds: 0 }, cluster: { context: "t" } }, { apiKey: "secret", hfToken: "secret" }, "medium");
    assert.ok(noDrain.ok);
    assert.match(gatewayCaddyfile(podGatewayRender(noDrain.profile)), /grace_period 1ms/, "0 is at once, not Caddy's no-bound");
    const short = validateProfile({ ...readStackFile(REPO, "medium").raw, cluster: { context: "t", terminationGraceSeconds: 20 } }, { apiKey: "secret", hfToken: "secret" }, "medium");
    assert.equal(short.ok, false);
    assert.deepEqual(short.ok ? [] : short.errors, [
      "cluster.terminationGraceSeconds: 20 s does not hold the gateway's drain (gateway.drainSeconds 30 s) and vLLM's own stop (10 s) before the kubelet kills the pod; raise it to 40 or more, or lower gateway.drainSeconds",
    ]);
  });

  it("/dev/shm is a memory emptyDir; GPU taint tolerated; the product selected; the grace period", () => {
    assert.deepEqual(d.template.spec.volumes.find((v) => v.name === "shm"), { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "16384Mi" } });
    assert.ok(vllm.volumeMounts.some((m) => m.name === "shm" && m.mountPath === "/dev/shm"));
    assert.deepEqual(d.template.spec.tolerations, [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
    assert.deepEqual(d.template.spec.nodeSelector, { "nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-4090" });
    assert.equal(d.template.spec.terminationGracePeriodSeconds, 90);
  });

  it("the gateway: the shared Caddyfile, vLLM upstream on 127.0.0.1, the stack's port, every route behind a key", () => {
    assert.deepEqual(gateway.ports, [{ name: "gateway", containerPort: 5002, protocol: "TCP" }]);
    const caddyfile = gatewayCaddyfile(podGatewayRender(p), [{ name: "app", key: "k".repeat(20) }]);
    assert.match(caddyfile, /reverse_proxy 127\.0\.0\.1:8000 \{/);
    assert.match(caddyfile, /^:5002 \{/m);
    assert.match(caddyfile, /respond .*missing or wrong API key.* 401/);
  });

  it("the cache claim, the weights Job (no GPU, token by reference), the Service, the NetworkPolicy", () => {
    assert.deepEqual(cacheClaimSpec(clusterProfile("medium", { storageClass: "fast", cacheSize: "300Gi" })), { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "300Gi" } }, storageClassName: "fast" });
    const job = weightsJobSpec(p, "medium");
    const ctr = job.template.spec.containers[0];
    assert.equal("resources" in ctr, false);
    assert.ok(ctr.env.some((e) => e.name === "HF_TOKEN" && "valueFrom" in e));
    assert.match(ctr.command.join(" "), /snapshot_download\(repo_id="Qwen\/Qwen3-32B-AWQ"\)/);
    assert.notEqual(weightsJobName(p), weightsJobName(clusterProfile("medium-vl")));
    assert.deepEqual(serviceSpec(p, "medium").ports, [{ name: "http", port: 5002, targetPort: "gateway", protocol: "TCP" }]);
    assert.deepEqual(networkPolicySpec(p, "medium").ingress, [{ ports: [{ port: 5002, protocol: "TCP" }] }]);
  });
});

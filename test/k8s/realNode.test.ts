/**
 * The real node of the test cluster (`bash scripts/k8s.sh node start`: a
 * kubelet on its own containerd, Debian's CNI bridge, our pause image) runs
 * real containers: the stand-in vLLM image, copied from dockerd, in a
 * Recreate Deployment asking for 2 GPUs (the node advertises nvidia.com/gpu: 2),
 * becomes Ready through its httpGet readiness probe on /health once its
 * simulated load is over, and answers on its pod IP; the apiserver reaches
 * the kubelet for logs and exec. Needs the cluster, the node and the
 * stand-in image (npm test sets up all three).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { REPO } from "../helpers/profile";

const K8S = join(REPO, "scripts", "k8s.sh");
const IMAGE = "vllm/vllm-openai:v0.34.0";
const env: Record<string, string> = {};
for (const line of execFileSync("bash", [K8S, "env"], { encoding: "utf8" }).split("\n")) {
  const m = /^export (\w+)="(.*)"$/.exec(line);
  if (m) env[m[1]] = m[2].replace("$PATH", process.env.PATH ?? "");
}
const kenv = { ...process.env, ...env };
const node = spawnSync("bash", [K8S, "node", "status"], { encoding: "utf8", env: kenv });
const hasImage = spawnSync("docker", ["image", "inspect", IMAGE], { stdio: "ignore" }).status === 0;
const skip = node.status !== 0 ? `the real node is not running (bash scripts/k8s.sh node start): ${node.stdout.trim().split("\n").join("; ")}` : !hasImage ? `no ${IMAGE} in dockerd (bash scripts/build-standin.sh --pinned)` : false;

const NS = `k8s-real-${process.pid}`;
const kubectl = (...args: string[]) => execFileSync("kubectl", args, { encoding: "utf8", env: kenv, stdio: ["pipe", "pipe", "pipe"] });

describe("the real node (kubelet + containerd)", { skip }, () => {
  before(() => {
    execFileSync("bash", [K8S, "node", "import", IMAGE], { env: kenv, stdio: ["ignore", "ignore", "inherit"] });
    kubectl("create", "namespace", NS);
  });
  after(() => {
    spawnSync("kubectl", ["delete", "namespace", NS, "--wait=false"], { env: kenv });
  });

  it("runs the stand-in vLLM with 2 GPUs: Ready by its /health probe after the load, answering on its pod IP; logs and exec work", () => {
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "vllm", namespace: NS },
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: { app: "vllm" } },
        template: {
          metadata: { labels: { app: "vllm" } },
          spec: {
            nodeSelector: { "myia-vllm/node-set": "real" },
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: "vllm",
                image: IMAGE,
                imagePullPolicy: "Never",
                args: ["Qwen/Qwen3-0.6B", "--port", "8000"],
                env: [{ name: "STANDIN_LOAD_SECONDS", value: "2" }],
                ports: [{ name: "http", containerPort: 8000 }],
                resources: { limits: { "nvidia.com/gpu": "2" } },
                readinessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    };
    const t0 = Date.now();
    execFileSync("kubectl", ["apply", "-f", "-"], { input: JSON.stringify(deployment), env: kenv });
    kubectl("rollout", "status", "deployment/vllm", "-n", NS, "--timeout=120s");
    const pod = JSON.parse(kubectl("get", "pods", "-n", NS, "-l", "app=vllm", "-o", "json")).items[0];
    console.log(`Ready on ${pod.spec.nodeName} (${pod.status.podIP}) ${((Date.now() - t0) / 1000).toFixed(1)} s after apply`);
    assert.equal(pod.spec.nodeName, "myia-node-0");
    const health = spawnSync("curl", ["-fsS", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", `http://${pod.status.podIP}:8000/health`], { encoding: "utf8" });
    assert.equal(health.stdout, "200", health.stderr);
    const models = JSON.parse(execFileSync("curl", ["-fsS", "-m", "5", `http://${pod.status.podIP}:8000/v1/models`], { encoding: "utf8" }));
    assert.equal(models.data[0].id, "Qwen/Qwen3-0.6B");
    assert.ok(kubectl("logs", "-n", NS, "deployment/vllm").length > 0, "kubectl logs");
    // The image has no shell nor cat: the stand-in's own `vllm --version`.
    assert.match(kubectl("exec", "-n", NS, "deployment/vllm", "--", "/usr/local/bin/vllm", "--version"), /^0\.34\.0$/m);
    kubectl("delete", "deployment", "vllm", "-n", NS, "--wait=true");
  });
});

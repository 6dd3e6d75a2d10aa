/**
 * The real Pulumi engine deploys to the test cluster through the kubernetes
 * plugin scripts/plugins.sh resolved, found where plain `pulumi` looks (the
 * plugin cache; no "using pulumi-resource-kubernetes from $PATH" warning): an
 * inline program with a namespace, a 2-GPU Recreate Deployment on a kwok GPU
 * node (Ready after its simulated load) and its Service; up waits for the
 * Deployment as the provider does, then destroy. Needs the cluster running
 * (`bash scripts/k8s.sh start`) and the plugins (`bash scripts/toolchain.sh`).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import * as k8s from "@pulumi/kubernetes";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { localBackendEnv } from "../../tools/lib/engine";
import { missingPlugins, resolvedPlugins, useToolchain } from "../../tools/lib/plugins";
import { REPO } from "../helpers/profile";

const K8S = join(REPO, "scripts", "k8s.sh");
const kubeconfigPath = /^export KUBECONFIG="(.*)"$/m.exec(execFileSync("bash", [K8S, "env"], { encoding: "utf8" }))![1];
useToolchain();
const kube = resolvedPlugins().find((p) => p.name === "kubernetes");
const up = spawnSync("bash", [K8S, "status"], { encoding: "utf8" }).status === 0;
const skip = !up ? "the test cluster is not running (bash scripts/k8s.sh start)" : missingPlugins() || (!kube ? "no kubernetes plugin resolved: run `bash scripts/toolchain.sh`" : false);

describe("the engine deploys to the test cluster with the kubernetes plugin", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "myia-k8s-engine-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("up: a namespace, a 2-GPU Recreate Deployment Ready on a kwok GPU node, its Service; then destroy", async () => {
    const ns = `k8s-engine-${process.pid}`;
    const program = async () => {
      const provider = new k8s.Provider("test-cluster", { kubeconfig: readFileSync(kubeconfigPath, "utf8"), enableServerSideApply: true });
      const opts = { provider };
      const namespace = new k8s.core.v1.Namespace("ns", { metadata: { name: ns } }, opts);
      const labels = { app: "vllm" };
      const deployment = new k8s.apps.v1.Deployment(
        "vllm",
        {
          metadata: { name: "vllm", namespace: namespace.metadata.name },
          spec: {
            replicas: 1,
            strategy: { type: "Recreate" },
            selector: { matchLabels: labels },
            template: {
              metadata: { labels, annotations: { "pod-ready.stage.kwok.x-k8s.io/delay": "2s" } },
              spec: {
                nodeSelector: { "nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-4090" },
                tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
                containers: [{ name: "vllm", image: "vllm/vllm-openai:v0.34.0", ports: [{ name: "http", containerPort: 8000 }], resources: { limits: { "nvidia.com/gpu": "2" } } }],
              },
            },
          },
        },
        opts,
      );
      const service = new k8s.core.v1.Service("vllm", { metadata: { name: "vllm", namespace: namespace.metadata.name }, spec: { selector: labels, ports: [{ name: "http", port: 8000, targetPort: "http" }] } }, { ...opts, dependsOn: [deployment] });
      return { ready: deployment.status.readyReplicas, clusterIP: service.spec.clusterIP };
    };
    const stack = await LocalWorkspace.createOrSelectStack({ stackName: "k8s", projectName: "myia-k8s-engine-test", program }, { workDir: dir, envVars: localBackendEnv(dir, "k8s-engine-test") });
    let out = "";
    const t0 = Date.now();
    try {
      const r = await stack.up({ onOutput: (s) => (out += s) });
      console.log(`up: ${r.summary.result} in ${((Date.now() - t0) / 1000).toFixed(1)} s; plugin ${kube!.source} (${kube!.path})`);
      assert.equal(r.summary.result, "succeeded");
      assert.equal(r.outputs.ready.value, 1);
      assert.match(String(r.outputs.clusterIP.value), /^10\.96\./);
      assert.doesNotMatch(out, /from \$PATH|using pulumi-resource-/, "the plugin came from the plugin cache, not PATH");
    } finally {
      await stack.destroy({ onOutput: (s) => (out += s) });
      await stack.workspace.removeStack("k8s");
    }
  });
});

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { readyGateScript } from "./readyGate";

/** The gate against a fake kubectl: rollout status fails, get pods prints what the API server would. */
function run(pods: string): { code: number; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "gate-"));
  writeFileSync(join(dir, "kubectl"), `#!/bin/sh\ncase "$*" in *"rollout status"*) exit 1;; *"get pods"*) printf '%b' '${pods}';; esac\n`);
  chmodSync(join(dir, "kubectl"), 0o755);
  const script = readyGateScript({ context: "c" }, "myia-medium", { "org.myia.stack": "medium" }, 30);
  try {
    return { code: 0, out: execFileSync("sh", ["-c", script], { encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } }) };
  } catch (e) {
    return { code: (e as { status: number }).status, out: (e as { stdout: string }).stdout };
  }
}

describe("the cluster's ready gate", () => {
  it("fails within its bound, with each pod not Ready and the scheduler's reason", () => {
    const r = run("vllm-a ready=True  node=n0    vllm: gateway: \\nvllm-b ready=False  node=  Unschedulable 0/1 nodes are available: 1 Insufficient nvidia.com/gpu.  \\n");
    assert.equal(r.code, 1);
    assert.match(r.out, /^deployment vllm \(namespace myia-medium\) not Ready within 30s \(container\.readyTimeoutSeconds\); its pods:$/m);
    assert.match(r.out, /^ {2}vllm-b ready=False {2}node= {2}Unschedulable 0\/1 nodes are available: 1 Insufficient nvidia\.com\/gpu\./m);
    assert.doesNotMatch(r.out, /vllm-a/, "a Ready pod is not listed");
  });

  it("waits with kubectl rollout status, on the stack's context", () => {
    assert.match(readyGateScript({ context: "gpu-pool" }, "ns", { a: "b" }, 1800), /'kubectl' '--context' 'gpu-pool' -n 'ns' rollout status deployment\/vllm --timeout=1800s/);
  });
});

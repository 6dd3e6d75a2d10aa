import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkStack } from "../../tools/check";

const REPO = join(__dirname, "..", "..");

/**
 * Each malformed stack file, checked beside the committed medium stack (so a
 * clash with it shows), must fail with its own `path: message` error.
 */
const CASES: Record<string, RegExp[]> = {
  "wrong-type": [/^vllm\.gpuMemoryUtilization: expected a number, got string "high"; write it as a plain number/m],
  "unknown-key": [/^vllm\.gpuMemUtilization: unknown key; did you mean gpuMemoryUtilization\?/m],
  "unknown-top-key": [/^modle: unknown key; did you mean model\?/m],
  "port-out-of-range": [/^server\.port: must be between 1024 and 65535$/m],
  "utilization-above-1": [/^vllm\.gpuMemoryUtilization: must be at most 1 \(a fraction of each GPU's memory\)/m],
  "duplicate-port": [/^server\.port: 5002 is also the port of stack medium on host local; give each profile its own port$/m],
  "uncatalogued-release": [/^image\.tag: vLLM 0\.12\.0 is not in the flag catalog \(known: 0\.11\.0, .*\); pin one of those releases, or add it with `npm run catalog -- --vllm 0\.12\.0`$/m],
  "latest-tag": [/^image\.tag: "latest" is not a pinned version; pin a release tag such as v0\.11\.0$/m],
  "beyond-trained-context": [/^vllm\.maxModelLen: 131072 is above Qwen\/Qwen3-32B-AWQ's trained context of 40960 tokens; lower it, or add rope scaling/m],
  "max-model-len-too-big": [/^vllm\.maxModelLen: one 131072-token sequence needs 8\.00 GiB of KV cache per GPU, but only 1\.31 GiB is left .* the largest max-model-len that fits is 20480: lower vllm\.maxModelLen/m],
  "missing-secret": [/^apiKey: is not set; run `pulumi config set --secret apiKey <value> --stack bad`$/m],
  "plaintext-secret": [/^apiKey: is stored in plaintext; run `pulumi config set --secret apiKey <value> --stack bad` to encrypt it$/m],
  "bad-choice": [/^vllm\.kvCacheDtype: "fp9" is not a KV cache dtype/m, /^vllm\.kvCacheDtype: --kv-cache-dtype "fp9" is not one of .*"fp8".* in vLLM 0\.11\.0; use one of those$/m],
  "secret-in-argv": [/^vllm\.extraArgs: --api-key would put a secret in the container's argv.*set it as the apiKey secret instead$/m],
  "unknown-model": [/^model\.footprint: acme\/unknown-70b is not in the model catalog .* give its layers, kvHeads, headDim/m],
  "vision-on-text-model": [/^vision: Qwen\/Qwen3-32B-AWQ takes no images; remove the vision section/m],
  "gateway-settings": [
    /^gateway\.image\.tag: must be a pinned Caddy release such as 2\.11\.9 \(never latest\)$/m,
    /^gateway\.maxBodyMiB: /m,
    /^gateway\.expose\.0\.path: "\/invocations" is not one of "\/metrics", "\/version"; pick one$/m,
    /^gateway\.expose\.1\.from: list the client addresses allowed, e\.g\. \[10\.0\.0\.0\/8\]$/m,
  ],
  "tp-mismatch": [/^vllm\.tensorParallelSize: is 2 but host\.gpus lists 1 GPU\(s\)/m],
  "removed-flag": [/^vllm\.extraArgs: --num-scheduler-steps was removed in vLLM 0\.10\.1 \(vllm-project\/vllm PR #22138\); the pinned vLLM 0\.11\.0 rejects it: drop it$/m],
  "flag-not-in-version": [/^vllm\.extraArgs: --attention-backend is not a flag of vLLM 0\.11\.0 \(vLLM 0\.20\.0, 0\.21\.0, 0\.34\.0 has it\); pin one of those releases in image\.tag, or drop it$/m],
  "unknown-tool-parser": [/^vllm\.toolCallParser: --tool-call-parser "hermes3" is not one vLLM 0\.11\.0 knows \(.*hermes.*\), so it would fail at start-up; use one of those$/m],
  "bad-json": [/^vllm\.extraArgs: --limit-mm-per-prompt "image=3,video=0" is not valid JSON .* and vLLM 0\.11\.0 parses it with json\.loads; write it as JSON/m],
  // The README's example: three habits of the old compose files, all reported in one run.
  "old-compose-habits": [
    /^vllm\.gpuMemUtilization: unknown key; did you mean gpuMemoryUtilization\?/m,
    /^vllm\.extraArgs: --swap-space was removed in vLLM 0\.18\.0 \(vllm-project\/vllm PR #36216\); the pinned vLLM 0\.21\.0 rejects it: drop it$/m,
    /^vllm\.maxModelLen: one 131072-token sequence needs 8\.00 GiB .* the largest max-model-len that fits is 20480/m,
  ],
  // Every error at once: the schema's three, and the flag and memory checks that still run.
  "six-problems": [
    /^vllm\.gpuMemUtilization: unknown key; did you mean gpuMemoryUtilization\?/m,
    /^server\.port: must be between 1024 and 65535$/m,
    /^container\.shmSizeMiB: expected a number, got string "16gb"/m,
    /^vllm\.extraArgs: --swap-space was removed in vLLM 0\.18\.0/m,
    /^vllm\.toolCallParser: --tool-call-parser "hermes3" is not one vLLM 0\.21\.0 knows/m,
    /^vllm\.maxModelLen: one 131072-token sequence needs 8\.00 GiB .* the largest max-model-len that fits is 29696/m,
  ],
  "managed-env": [/^container\.env: sets a variable the program manages .* secrets go in apiKey\/hfToken, GPUs in host\.gpus$/m],
  "both-backends": [/^cluster: a stack targets one Docker host \(host:\) or one Kubernetes cluster \(cluster:\), not both; remove one of the two$/m],
  "cluster-no-target": [/^cluster\.cacheSize: must be a size such as 200Gi$/m, /^cluster: set cluster\.kubeconfig \(a path\) or cluster\.context/m],
  "cluster-settings": [
    /^cluster\.replicas: 3 pods on different nodes cannot share a ReadWriteOnce model cache; set cluster\.cacheAccessMode to ReadWriteMany/m,
    /^gateway\.tls\.mode: internal is not served on a cluster: .* terminate TLS at your Ingress, and remove gateway\.tls$/m,
  ],
  "abbreviated-flag": [/^vllm\.extraArgs: --max-num-batched is not a full flag name in vLLM 0\.11\.0 \(it abbreviates --max-num-batched-tokens\); write the full name$/m],
};

function check(file: string) {
  const dir = mkdtempSync(join(tmpdir(), "bad-config-"));
  copyFileSync(join(REPO, "Pulumi.medium.yaml"), join(dir, "Pulumi.medium.yaml"));
  copyFileSync(join(REPO, "test/configs/bad", `${file}.yaml`), join(dir, "Pulumi.bad.yaml"));
  return checkStack(dir, "bad", true);
}

describe("malformed stack configs", () => {
  it("the baseline they are made from is valid", () => {
    const r = check("good-baseline");
    assert.equal(r.ok, true, r.report);
  });

  for (const [file, expected] of Object.entries(CASES)) {
    it(`${file}: fails with its own clear error`, () => {
      const r = check(file);
      assert.equal(r.ok, false, r.report);
      const errors = r.report.split("\n").filter((l) => l.startsWith("  ")).map((l) => l.slice(2));
      for (const re of expected) assert.ok(errors.some((e) => re.test(e)), `expected ${re} among:\n${errors.join("\n")}`);
      if (file === "six-problems") assert.equal(errors.length, 6, errors.join("\n"));
      // Every error is `path: what is wrong, what to do`, and no stack trace leaks.
      for (const e of errors) assert.match(e, /^[a-zA-Z][\w.]*: \S/);
      assert.doesNotMatch(r.report, /^\s+at /m);
    });
  }
});

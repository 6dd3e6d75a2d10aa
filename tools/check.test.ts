import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse, stringify } from "yaml";

const REPO = join(__dirname, "..");
const check = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools/check.ts"), ...args], { cwd: REPO, encoding: "utf8" });

describe("npm run check", () => {
  it("passes both committed stacks and prints argv and memory table", () => {
    const r = check();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /stack medium: OK/);
    assert.match(r.stdout, /stack medium-vl: OK/);
    assert.match(r.stdout, /Qwen\/Qwen3-VL-32B-Instruct-FP8 --host 0\.0\.0\.0 --port 5003 .*--limit-mm-per-prompt '\{"image":3,"video":0\}'/);
    assert.match(r.stdout, /max-model-len that fits\s+20480/);
    assert.match(r.stdout, /VLLM_API_KEY=\(not set\)/);
  });

  it("exits non-zero on an invalid stack, listing its errors without a stack trace", () => {
    const dir = mkdtempSync(join(tmpdir(), "check-"));
    copyFileSync(join(REPO, "test/configs/bad/max-model-len-too-big.yaml"), join(dir, "Pulumi.bad.yaml"));
    const r = check("--stack", "bad", "--dir", dir);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /stack bad: INVALID, 1 error\(s\):\n {2}vllm\.maxModelLen: /);
    assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m);
  });

  it("refuses a plaintext secret even when secrets are not required", () => {
    const dir = mkdtempSync(join(tmpdir(), "check-"));
    copyFileSync(join(REPO, "test/configs/bad/plaintext-secret.yaml"), join(dir, "Pulumi.bad.yaml"));
    const r = check("--stack", "bad", "--dir", dir);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /apiKey: is stored in plaintext/);
  });

  it("a cluster stack: its pods, namespace and the memory plan for cluster.gpuMemoryMiB, not the host's", () => {
    const dir = mkdtempSync(join(tmpdir(), "check-"));
    const doc = parse(readFileSync(join(REPO, "Pulumi.medium.yaml"), "utf8"));
    doc.config["myia-vllm:cluster"] = { context: "gpu-pool", replicas: 2, cacheAccessMode: "ReadWriteMany", gpuMemoryMiB: 46068 };
    writeFileSync(join(dir, "Pulumi.medium.yaml"), stringify(doc));
    const r = check("--stack", "medium", "--dir", dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /2 pod\(s\) of 2 nvidia\.com\/gpu on cluster gpu-pool, namespace myia-medium/);
    assert.match(r.stdout, /vLLM on the pod's loopback/);
    assert.match(r.stdout, /GPU memory\s+44\.99 GiB/);
  });
});

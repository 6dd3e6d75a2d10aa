/**
 * `npm run switch` and `npm run validate` on cluster stacks, on the test
 * cluster's real node (2 GPUs: medium and medium-vl cannot both run), as a
 * user runs them: no --url, the tools reach each stack's Service through
 * `kubectl port-forward`. A switch takes the GPUs over by scaling the other
 * stack to 0; a failed one (a model that crashes on load) rolls back by
 * scaling it up again. Needs the cluster, the node and the stand-in images.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { importToNode, jsonpath, kubectl, kubeEnv, makeVolumes, onRealNode, realNodeSkip } from "../helpers/kube";

const IMAGES = ["vllm/vllm-openai:v0.11.0", "vllm/vllm-openai:v0.34.0", "caddy:2.11.9"];
const skip = needsPlugins || realNodeSkip(IMAGES);
const NS = { medium: "myia-switch-medium", "medium-vl": "myia-switch-medium-vl" } as const;
const API_KEY = `sk-${randomBytes(16).toString("hex")}`;
const HF_TOKEN = `hf_${randomBytes(16).toString("hex")}`;

const replicas = (stack: keyof typeof NS) => jsonpath("deployment", "vllm", NS[stack], ".spec.replicas");
const ready = (stack: keyof typeof NS) => jsonpath("deployment", "vllm", NS[stack], ".status.readyReplicas") || "0";

describe("switch and validate on cluster stacks, on the real node", { skip, concurrency: false }, () => {
  const project = engineProject(kubeEnv);
  const pv = `myia-switch-pv-${process.pid}`;

  before(async () => {
    importToNode(IMAGES);
    for (const ns of Object.values(NS)) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=true", "--timeout=60s");
    makeVolumes(pv, 2);
    for (const stack of ["medium", "medium-vl"] as const) {
      // 40 ms a token: a reply of 500 tokens is in flight for 20 s, through the
      // takeover (the drain's bound, gateway.drainSeconds, is 30 s).
      onRealNode(project.workDir, stack, NS[stack], { readyTimeoutSeconds: 45, env: { STANDIN_LOAD_SECONDS: "2", STANDIN_DOWNLOAD_SECONDS: "1", STANDIN_TOKEN_MS: "40" } });
      const r = await project.op(stack, { op: "configure", config: { apiKey: { value: API_KEY, secret: true }, hfToken: { value: HF_TOKEN, secret: true } } });
      assert.equal(r.ok, true, r.output);
    }
  });
  after(async () => {
    for (const stack of ["medium-vl", "medium"]) await project.op(stack, { op: "destroy" });
    for (const ns of Object.values(NS)) kubectl("delete", "namespace", ns, "--ignore-not-found", "--wait=false");
    kubectl("delete", "pv", "-l", `myia-test=${pv}`, "--ignore-not-found", "--wait=false");
  });

  it("switch --to medium-vl: medium scaled to 0 (kept), medium-vl validated through a port-forward", async () => {
    const up = await project.op("medium", { op: "up" });
    assert.equal(up.ok, true, up.output);
    // A client streaming from medium when the switch begins: its reply must end whole.
    const podIP = kubectl("-n", NS.medium, "get", "pods", "-l", "org.myia.role=server", "-o", "jsonpath={.items[0].status.podIP}");
    const body = JSON.stringify({ model: "Qwen/Qwen3-32B-AWQ", stream: true, min_tokens: 500, messages: [{ role: "user", content: "Go on." }] });
    const stream = fetch(`http://${podIP}:5002/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body })
      .then((res) => res.text())
      .catch((e: Error) => `fetch failed: ${e.message} ${String((e as { cause?: unknown }).cause)}`);
    await new Promise((res) => setTimeout(res, 300));
    const r = await project.tool("switch", ["--to", "medium-vl", "--requests", "4"]);
    console.log(r.out.split("\n").filter((l) => /switch .*->|up medium-vl: ok|port-forward|PASSED|switched/.test(l)).join("\n"));
    const text = await stream;
    assert.match(text, /"finish_reason":"(stop|length)"/, `the reply in flight was cut by the takeover: ${text.slice(-300)}`);
    assert.match(text, /data: \[DONE\]/);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /switch medium -> medium-vl/);
    assert.match(r.out, /medium-vl: through kubectl port-forward svc\/vllm in namespace myia-switch-medium-vl at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(r.out, /validate medium-vl: PASSED/);
    assert.match(r.out, /vision\s+ok/);
    assert.match(r.out, /restarts\s+ok\s+deployment vllm \(namespace myia-switch-medium-vl\) running, 0 restarts/);
    const down = Number(/switched to medium-vl; no model answered for (\d+\.\d) s/.exec(r.out)?.[1]);
    // The takeover stops medium before medium-vl's pod starts: an outage there must be, and it is measured.
    assert.ok(down > 0, r.out);
    assert.equal(replicas("medium"), "0", "medium's Deployment is kept, scaled to 0");
    assert.equal(ready("medium-vl"), "1");
  });

  it("validate --stack medium-vl, no --url: it opens its own port-forward, and closes it", async () => {
    const r = await project.tool("validate", ["--stack", "medium-vl", "--requests", "4"]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /Qwen\/Qwen3-VL-32B-Instruct-FP8 at http:\/\/127\.0\.0\.1:\d+ \(kubectl port-forward svc\/vllm in namespace myia-switch-medium-vl\)/);
    assert.match(r.out, /no key, no answer\s+ok/);
    // Instead of nvidia-smi: the pod's GPUs and its node, against the plan (the real node has no memory label).
    assert.match(r.out, /GPUs\s+ok\s+vllm-\S+ on myia-node-0: 2 nvidia\.com\/gpu \(no nvidia\.com\/gpu\.memory label: the plan's 24564 MiB unchecked\)/);
    assert.match(r.out, /validate medium-vl: PASSED/);
    // The forward ended with validate: no kubectl port-forward of ours is left running.
    const left = spawnSync("pgrep", ["-af", "port-forward.*myia-switch"], { encoding: "utf8" }).stdout.trim();
    assert.equal(left, "", "no port-forward left behind");
  });

  it("a failed switch (medium crashes on load) rolls back: medium-vl scaled up again and validated", async () => {
    const c = await project.op("medium", { op: "configure", config: { "container.env.STANDIN_FAIL": { value: "crash" } } });
    assert.equal(c.ok, true, c.output);
    const r = await project.tool("switch", ["--to", "medium", "--requests", "4"]);
    console.log(r.out.split("\n").filter((l) => /switch .*->|FAILED after|not Ready within|ready=False|rolling back|rolled back|ROLLBACK/.test(l)).join("\n"));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /switch medium-vl -> medium/);
    assert.match(r.out, /up medium: FAILED after/);
    // The gate's verdict reaches the switch's output whole: the pod, and vLLM's reason (it is the pod's sidecar).
    assert.match(r.out, /not Ready within 45s \(container\.readyTimeoutSeconds\); its pods:\n\s+vllm-\S+ ready=False {2}node=myia-node-0 .*vllm:(CrashLoopBackOff|Error)/);
    assert.match(r.out, /rolling back to medium-vl/);
    assert.match(r.out, /validate medium-vl: PASSED/);
    assert.match(r.out, /rolled back: medium-vl answers again; no model answered for \d+\.\d s/);
    assert.equal(ready("medium-vl"), "1");
    assert.equal(replicas("medium"), "0", "the failed stack was scaled to 0 by the rollback's takeover");
  });
});

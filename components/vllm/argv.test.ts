import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatArgv, renderArgv } from "./argv";

const base = { model: "Qwen/Qwen3-32B-AWQ", port: 5002, tensorParallelSize: 2, gpuMemoryUtilization: 0.95, maxModelLen: 32768 };

describe("renderArgv", () => {
  it("puts the model first, as vllm serve's positional argument", () => {
    assert.deepEqual(renderArgv(base), ["Qwen/Qwen3-32B-AWQ", "--host", "0.0.0.0", "--port", "5002", "--tensor-parallel-size", "2", "--gpu-memory-utilization", "0.95", "--max-model-len", "32768"]);
  });

  it("renders switches only when on, and values only when set", () => {
    const argv = renderArgv({ ...base, enableChunkedPrefill: true, enableAutoToolChoice: false, toolCallParser: "hermes", kvCacheDtype: "fp8", quantization: "awq_marlin" });
    assert.ok(argv.includes("--enable-chunked-prefill"));
    assert.ok(!argv.includes("--enable-auto-tool-choice"));
    assert.deepEqual(argv.slice(argv.indexOf("--kv-cache-dtype"), argv.indexOf("--kv-cache-dtype") + 2), ["--kv-cache-dtype", "fp8"]);
    assert.ok(!argv.includes("--dtype"));
  });

  it("renders vision settings as JSON, the syntax vLLM parses", () => {
    const argv = renderArgv({ ...base, vision: { limitMmPerPrompt: { image: 3, video: 0 }, maxPixels: 599040, skipMmProfiling: true, mmEncoderTpMode: "data" } });
    const at = (f: string) => argv[argv.indexOf(f) + 1];
    assert.deepEqual(JSON.parse(at("--limit-mm-per-prompt")), { image: 3, video: 0 });
    assert.deepEqual(JSON.parse(at("--mm-processor-kwargs")), { max_pixels: 599040 });
    assert.equal(at("--mm-encoder-tp-mode"), "data");
    assert.ok(argv.includes("--skip-mm-profiling"));
  });

  it("appends extra args last, verbatim", () => {
    const argv = renderArgv({ ...base, extraArgs: ["--max-num-batched-tokens", "8192"] });
    assert.deepEqual(argv.slice(-2), ["--max-num-batched-tokens", "8192"]);
  });

  it("never carries a secret: there is no field for one", () => {
    const argv = renderArgv({ ...base, vision: { limitMmPerPrompt: { image: 1 } } });
    assert.ok(!argv.some((t) => /api-key|hf-token/.test(t)));
  });
});

describe("formatArgv", () => {
  it("quotes what a shell would split", () => {
    assert.equal(formatArgv(["m", "--limit-mm-per-prompt", '{"image":3}', "--x", "a b", "it's"]), `m --limit-mm-per-prompt '{"image":3}' --x 'a b' 'it'\\''s'`);
  });
});

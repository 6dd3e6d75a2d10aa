import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { flagTable } from "../../components/vllm/catalog";
import { parseCommand } from "./command";
import { fixRemovedFlag, intendedChoice, meantChoice, parseJsonRecord, removedFlag } from "./fixes";
import { durationSeconds, parseGpuList, parseImage, secretVariables } from "./service";

const v021 = flagTable("0.21.0")!;

describe("old spellings", () => {
  it("reads a JSON flag in each syntax vLLM has had", () => {
    assert.deepEqual(parseJsonRecord('{"image": 3, "video": 0}'), { record: { image: 3, video: 0 }, syntax: "json" });
    assert.deepEqual(parseJsonRecord("image=3,video=0"), { record: { image: 3, video: 0 }, syntax: "key=value" });
    assert.deepEqual(parseJsonRecord("image:3,video:0"), { record: { image: 3, video: 0 }, syntax: "key:value" });
    assert.equal(parseJsonRecord("three images"), undefined);
  });

  it("finds the choice meant, or none", () => {
    assert.equal(intendedChoice("--dtype", "bf16", ["auto", "bfloat16", "half"]), "bfloat16");
    assert.equal(intendedChoice("--quantization", "AWQ_MARLIN", ["awq", "awq_marlin"]), "awq_marlin");
    assert.equal(intendedChoice("--kv-cache-dtype", "fp8_e4m3fn", ["fp8", "fp8_e4m3"]), "fp8_e4m3");
    assert.equal(intendedChoice("--tool-call-parser", "hermes3", ["hermes", "mistral"]), undefined);
  });

  it("finds the choice a value names by what it does, only where the release has it", () => {
    assert.equal(meantChoice("--mm-encoder-tp-mode", "Replicate", ["data", "weights"])?.value, "data");
    assert.equal(meantChoice("--mm-encoder-tp-mode", "replicated", ["data", "weights"])?.value, "data");
    assert.equal(meantChoice("--mm-encoder-tp-mode", "replicate", ["weights"]), undefined);
    assert.equal(meantChoice("--mm-encoder-tp-mode", "shard", ["data", "weights"]), undefined);
  });

  it("fixes removed flags by their meaning: dropped, rewritten, a setting, or a choice to make", () => {
    assert.equal(fixRemovedFlag(removedFlag(v021, "--swap-space")!, ["16"]).kind, "drop");
    assert.equal(fixRemovedFlag(removedFlag(v021, "--disable-log-requests")!, []).kind, "drop");
    assert.deepEqual(fixRemovedFlag(removedFlag(v021, "--rope-scaling")!, ['{"rope_type":"yarn","factor":4.0}']), {
      kind: "rewrite",
      tokens: ["--hf-overrides", '{"rope_scaling":{"rope_type":"yarn","factor":4}}'],
      reason: "removed in vLLM 0.11.1; --hf-overrides with the same rope_scaling is what vLLM's deprecation warning asked for",
    });
    assert.equal(fixRemovedFlag(removedFlag(v021, "--enable-multimodal-encoder-data-parallel")!, []).kind, "setting");
    assert.equal(fixRemovedFlag(removedFlag(v021, "--task")!, ["embed"]).kind, "choose");
  });
});

describe("the compose command", () => {
  it("takes the model from --model or the positional, and the arity from the table (older tables for removed flags)", () => {
    const p = parseCommand(["--model", "Qwen/Qwen3-32B-AWQ", "--disable-log-requests", "--max_model_len=32768", "-tp", "2", "--limit-mm-per-prompt.image", "3"], v021);
    assert.equal(p.model, "Qwen/Qwen3-32B-AWQ");
    assert.equal(p.modelFrom, "--model");
    assert.deepEqual(
      p.options.map((o) => [o.flag, o.values, o.subKey]),
      [
        ["--disable-log-requests", [], undefined],
        ["--max-model-len", ["32768"], undefined],
        ["--tensor-parallel-size", ["2"], undefined],
        ["--limit-mm-per-prompt", ["3"], "image"],
      ],
    );
    assert.deepEqual(parseCommand(["vllm", "serve", "m", "--port", "1"], v021).launcher, ["vllm", "serve"]);
    assert.deepEqual(parseCommand(["python3", "-m", "vllm.entrypoints.openai.api_server", "--model", "m"], v021).launcher.length, 3);
  });

  it("reads Compose's durations, images, GPU lists and the variables secrets came from", () => {
    assert.equal(durationSeconds("5m0s"), 300);
    assert.equal(durationSeconds("1m30.5s"), 90.5);
    assert.equal(durationSeconds("soon"), undefined);
    assert.deepEqual(parseImage("vllm/vllm-openai:latest"), { repository: "vllm/vllm-openai", tag: "latest", digest: undefined });
    assert.deepEqual(parseImage("registry:5000/vllm"), { repository: "registry:5000/vllm", tag: undefined, digest: undefined });
    assert.deepEqual(parseGpuList("0,1"), [0, 1]);
    assert.equal(parseGpuList("all"), "all");
    assert.equal(parseGpuList("GPU-3f2a"), undefined);
    assert.deepEqual(secretVariables({ command: "--api-key ${VLLM_API_KEY_MEDIUM} --port 1", environment: ["HUGGING_FACE_HUB_TOKEN=${HF:-}"] }), { apiKey: "VLLM_API_KEY_MEDIUM", hfToken: "HF" });
  });
});

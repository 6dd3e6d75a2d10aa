import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { loadStack } from "./stacks";
import { composeArgs, composeBaseFile, composeEnvFile, composeProfileFile, OLD_TIMINGS, serviceName } from "./benchCompose";

const vl = loadStack("medium-vl");
const medium = loadStack("medium");
const opts = { hfCachePath: "/tmp/b/hf", compileCachePath: "/tmp/b/vllm", env: { STANDIN_LOAD_SECONDS: "10", STANDIN_DOWNLOAD_SECONDS: "20" }, timings: OLD_TIMINGS };

describe("the old compose layout, rendered for the bench", () => {
  it("runs the same image and argv our stack renders, on the stack's port and name", () => {
    const f = parse(composeProfileFile(vl, opts));
    const s = f.services[serviceName(vl)];
    assert.equal(s.image, "vllm/vllm-openai:v0.34.0");
    assert.deepEqual(s.command, vl.argv);
    assert.equal(s.container_name, "myia_vllm-medium-vl-qwen3");
    assert.deepEqual(s.ports, ["5003:5003"]);
    assert.equal(s.ipc, "host");
    assert.equal(s.shm_size, "16384m");
  });
  it("asks for the GPUs as the old files did, and passes the secrets from .env only", () => {
    const s = parse(composeProfileFile(medium, opts)).services["vllm-medium"];
    assert.equal(s.runtime, "nvidia");
    assert.ok(s.environment.includes("NVIDIA_VISIBLE_DEVICES=0,1"));
    assert.ok(s.environment.includes("VLLM_API_KEY=${VLLM_API_KEY}"));
    assert.ok(s.environment.includes("HF_TOKEN=${HF_TOKEN}"));
    assert.ok(s.environment.includes("STANDIN_DOWNLOAD_SECONDS=20"));
    assert.ok(!s.command.some((a: string) => a.includes("sk-")));
    assert.equal(composeEnvFile("sk-x", "hf_y"), "VLLM_API_KEY=sk-x\nHF_TOKEN=hf_y\n");
  });
  it("mounts the same caches our containers mount", () => {
    const s = parse(composeProfileFile(medium, opts)).services["vllm-medium"];
    assert.deepEqual(s.volumes, ["/tmp/b/hf:/root/.cache/huggingface", "/tmp/b/vllm:/root/.cache/vllm"]);
  });
  it("has the old healthcheck, or the one given", () => {
    const old = parse(composeProfileFile(medium, opts)).services["vllm-medium"].healthcheck;
    assert.deepEqual(old, { test: ["CMD", "curl", "-f", "http://localhost:5002/health"], interval: "30s", timeout: "10s", retries: 5, start_period: "300s" });
    const ours = parse(composeProfileFile(medium, { ...opts, timings: medium.container.healthcheck })).services["vllm-medium"].healthcheck;
    assert.deepEqual([ours.interval, ours.timeout, ours.retries, ours.start_period], ["5s", "3s", 3, "1200s"]);
  });
  it("escapes a literal $ from compose's interpolation", () => {
    const s = parse(composeProfileFile(medium, { ...opts, env: { X: "a$b" } })).services["vllm-medium"];
    assert.ok(s.environment.includes("X=a$$b"));
  });
  it("has a base file and the old command line", () => {
    assert.deepEqual(parse(composeBaseFile("p")), { name: "p", services: {} });
    assert.deepEqual(composeArgs("b.yml", "m.yml", "down"), ["compose", "-f", "b.yml", "-f", "m.yml", "down"]);
  });
});

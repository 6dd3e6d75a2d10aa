/**
 * The real Pulumi engine (the CLI built by scripts/toolchain.sh) previewing
 * this program through the Automation API, with a local file backend and
 * passphrase secrets. The program runs inline, served by the Automation API
 * from a child process, so no nodejs language host binary is needed.
 *
 * What it proves: config errors reach the user at preview as our
 * `path: message` lines with no stack trace; secrets set through the engine
 * are encrypted in the stack file and state; a valid stack passes validation
 * and the preview succeeds, with the host probe (an invoke of the command
 * plugin) answered by the fake nvidia-smi.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { engineProject, needsPlugins } from "../helpers/engineProject";

const REPO = join(__dirname, "..", "..");
const API_KEY = `sk-engine-${randomBytes(8).toString("hex")}`;
const HF_TOKEN = `hf_engine${randomBytes(8).toString("hex")}`;
const secrets = { apiKey: { value: API_KEY, secret: true }, hfToken: { value: HF_TOKEN, secret: true } };

describe("the real engine, previewing this program", () => {
  it("reports every config error as a path: message line, with no stack trace", async () => {
    const project = engineProject();
    // The bad file's placeholder ciphertexts mean nothing to this engine: drop them; real secrets are set below.
    const bad = readFileSync(join(REPO, "test/configs/bad/unknown-key.yaml"), "utf8").replace(/^ {2}myia-vllm:(apiKey|hfToken):\n {4}secure: .*\n/gm, "");
    writeFileSync(join(project.workDir, "Pulumi.bad.yaml"), bad);
    await project.op("bad", { op: "configure", config: secrets });
    const r = await project.op("bad", { op: "preview" });
    assert.equal(r.ok, false);
    assert.match(r.output, /stack bad: the configuration has 2 error\(s\):/);
    assert.match(r.output, /vllm\.gpuMemUtilization: unknown key; did you mean gpuMemoryUtilization\?/);
    assert.match(r.output, /vllm\.gpuMemoryUtilization: is required/);
    assert.doesNotMatch(r.output, /^\s+at .*\.(ts|js):\d+/m);
  });

  it("keeps secrets encrypted, passes validation and the host probe", { skip: needsPlugins }, async () => {
    const project = engineProject();
    await project.op("medium", { op: "configure", config: secrets });
    const r = await project.op("medium", { op: "preview" });
    const stackFile = readFileSync(join(project.workDir, "Pulumi.medium.yaml"), "utf8");
    const state = String((await project.op("medium", { op: "export" })).state);
    assert.match(stackFile, /myia-vllm:apiKey:\n\s+secure: v1:/);
    for (const text of [stackFile, r.output, state]) assert.ok(!text.includes(API_KEY) && !text.includes(HF_TOKEN));
    // Validation passed: the program went on to declare the host.
    assert.match(r.output, /\+ {2}myia:host:GpuHost local create/);
    assert.equal(r.ok, true, r.output);
    assert.match(r.output, /\+ {2}docker:index:Container medium-container create/);
  });
});

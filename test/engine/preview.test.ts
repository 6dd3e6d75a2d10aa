/**
 * The real Pulumi engine (the CLI built by scripts/toolchain.sh) previewing
 * this program through the Automation API, with a local file backend and
 * passphrase secrets. The program runs inline, served by the Automation API
 * from the child process, so no nodejs language host binary is needed.
 *
 * What it proves: config errors reach the user at preview as our
 * `path: message` lines with no stack trace; secrets set through the engine
 * are encrypted in the stack file and state; a valid stack passes validation
 * and gets as far as the host probe, which needs the command plugin, and the
 * engine says that plugin is missing (see the README: it cannot be built here).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { describe, it } from "node:test";

const API_KEY = `sk-engine-${randomBytes(8).toString("hex")}`;
const HF_TOKEN = `hf_engine${randomBytes(8).toString("hex")}`;

function preview(stack: string, badFile = ""): { ok: boolean; output: string; stackFile: string; state: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "../helpers/engineChild.ts"), stack, badFile, API_KEY, HF_TOKEN], { encoding: "utf8", timeout: 120_000 });
  const line = r.stdout.split("\n").find((l) => l.startsWith("REPORT "));
  if (!line) throw new Error(`no report from the engine child:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line.slice("REPORT ".length));
}

describe("the real engine, previewing this program", () => {
  it("reports every config error as a path: message line, with no stack trace", () => {
    const r = preview("bad", "test/configs/bad/unknown-key.yaml");
    assert.equal(r.ok, false);
    assert.match(r.output, /stack bad: the configuration has 2 error\(s\):/);
    assert.match(r.output, /vllm\.gpuMemUtilization: unknown key; did you mean gpuMemoryUtilization\?/);
    assert.match(r.output, /vllm\.gpuMemoryUtilization: is required/);
    assert.doesNotMatch(r.output, /^\s+at .*\.(ts|js):\d+/m);
  });

  it("keeps secrets encrypted, passes validation, and stops at the missing command plugin", () => {
    const r = preview("medium");
    assert.match(r.stackFile, /myia-vllm:apiKey:\n\s+secure: v1:/);
    for (const text of [r.stackFile, r.output, r.state]) assert.ok(!text.includes(API_KEY) && !text.includes(HF_TOKEN));
    assert.equal(r.ok, false);
    // Validation passed: the program went on to declare the host.
    assert.match(r.output, /\+ {2}myia:host:GpuHost local create/);
    // The host probe is an invoke of the command plugin, which cannot be built here.
    assert.match(r.output, /no resource plugin 'pulumi-resource-command' found/);
  });
});

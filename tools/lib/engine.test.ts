import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { engineFailure } from "./engine";

// A real preview through the engine (the ssh suite's "user not in group docker"), as the CLI printed it.
const preview = readFileSync(join(__dirname, "../../test/fixtures/engine/preview-host-check-failed.txt"), "utf8");

describe("engineFailure", () => {
  it("keeps each error whole (the check that failed under its header), once, and nothing else", () => {
    assert.equal(
      engineFailure(preview),
      [
        "    error: host gpu-box: 1 check(s) failed:",
        "      host: user myia-nodocker may not use Docker on the host (permission denied on its socket); add it to group docker there (usermod -aG docker myia-nodocker; it applies at the next login)",
      ].join("\n"),
    );
  });

  it("reads the Automation API's error, whose message wraps the CLI's output", () => {
    const message = `code: 255\n stdout: ${preview}\n stderr: Command failed with exit code 255: pulumi preview --stack medium --non-interactive\nerror: preview failed\n`;
    const got = engineFailure(message);
    assert.match(got, /^ {4}error: host gpu-box: 1 check\(s\) failed:\n {6}host: user myia-nodocker may not use Docker/);
    assert.match(got, /error: preview failed/);
    assert.doesNotMatch(got, /memory plan|warning:|2 errors; 4 warnings/);
  });

  it("keeps a config error's every `path: what to do` line", () => {
    const text = ["Diagnostics:", "  pulumi:pulumi:Stack (myia-vllm-medium-vl):", "    error: stack medium-vl: the configuration has 2 error(s):", "      server.port: must be between 1024 and 65535", "      vllm.maxModelLen: one 131072-token sequence needs 8.00 GiB", ""].join("\n");
    assert.deepEqual(engineFailure(text).split("\n").map((l) => l.trim()), ["error: stack medium-vl: the configuration has 2 error(s):", "server.port: must be between 1024 and 65535", "vllm.maxModelLen: one 131072-token sequence needs 8.00 GiB"]);
  });

  it("keeps a failed gate's container log lines, and no stack frames", () => {
    const text = "error: myia_vllm-medium-qwen3 did not become healthy within 30s. Its last 40 log lines:\n  | ValueError: boom\n    at Object.<anonymous> (/x.js:1:1)\n";
    assert.equal(engineFailure(text), "error: myia_vllm-medium-qwen3 did not become healthy within 30s. Its last 40 log lines:\n  | ValueError: boom");
  });

  it("keeps a cluster's ready gate verdict: each pod not Ready and why (printed beside the error, not under it)", () => {
    const text = [
      "Diagnostics:",
      "  command:local:Command (medium-ready):",
      '    error: exit status 1: running "set -u\\nif kubectl rollout status ...":',
      "    deployment vllm (namespace myia-medium) not Ready within 30s (container.readyTimeoutSeconds); its pods:",
      "      vllm-768c-dww77 ready=False  node=myia-node-0    vllm:CrashLoopBackOff gateway:",
      "",
      "Resources:",
    ].join("\n");
    assert.deepEqual(engineFailure(text).split("\n").slice(1), [
      "    deployment vllm (namespace myia-medium) not Ready within 30s (container.readyTimeoutSeconds); its pods:",
      "      vllm-768c-dww77 ready=False  node=myia-node-0    vllm:CrashLoopBackOff gateway:",
    ]);
  });

  it("falls back to the last lines when nothing says error", () => {
    assert.equal(engineFailure("a\nb\nc", 2), "b\nc");
  });
});

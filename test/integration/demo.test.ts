/**
 * The README's first command, end to end on the stand-in GPU host (with short
 * stand-in load times): deploy medium, switch to medium-vl, switch back, each
 * validated; a second run reuses what exists; --down removes the containers.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inspect } from "../../tools/lib/dockerApi";
import { REPO } from "../helpers/profile";

const demo = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools/demo.ts"), ...args], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, PATH: `${join(REPO, "standin/nvidia")}:${process.env.PATH}`, MYIA_NVIDIA_SMI_SCENARIO: "rtx4090x2-idle", STANDIN_LOAD_SECONDS: "1", STANDIN_DOWNLOAD_SECONDS: "1" },
  });

describe("npm run demo", () => {
  it("deploys medium, migrates to medium-vl and rolls back, validating each", async () => {
    demo("--down");
    const r = demo();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /STAND-IN GPU host/);
    assert.match(r.stdout, /myia_vllm-medium-qwen3: created; healthy/);
    assert.match(r.stdout, /stopped myia_vllm-medium-qwen3 \(stack medium, GPUs 0,1\); kept: `pulumi up --stack medium` starts it again/);
    assert.match(r.stdout, /validate medium-vl: PASSED/);
    assert.match(r.stdout, /myia_vllm-medium-qwen3: restarted the kept container; healthy after [\d.]+s; no model answered for [\d.]+s \(probed every 100 ms/);
    assert.equal((r.stdout.match(/validate medium: PASSED/g) ?? []).length, 2);
    assert.equal((await inspect("myia_vllm-medium-qwen3")).State.Running, true);
    assert.equal((await inspect("myia_vllm-medium-vl-qwen3")).State.Running, false);
  });

  it("reuses what exists on a second run, and --down removes the containers only", async () => {
    const again = demo();
    assert.equal(again.status, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /myia_vllm-medium-qwen3: reused \(running, unchanged\)/);
    const down = demo("--down");
    assert.equal(down.status, 0);
    assert.equal(await inspect("myia_vllm-medium-qwen3"), undefined);
    assert.equal(await inspect("myia_vllm-medium-vl-qwen3"), undefined);
  });
});

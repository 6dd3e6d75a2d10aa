/**
 * The README's first command, end to end through the engine on the stand-in
 * GPU host (short stand-in load times, its own state folder): up medium, up
 * medium-vl, up medium, then the same with standby on (a switch is a wake),
 * each shown with the engine's own update summary and validated; a second
 * run starts again from the committed stack files; --down destroys both
 * stacks.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { inspect, removeLeftovers } from "../helpers/docker";
import { needsPlugins } from "../helpers/engineProject";
import { REPO } from "../helpers/profile";

const state = mkdtempSync(join(tmpdir(), "myia-demo-"));
const demo = (...args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools/demo.ts"), ...args], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, PATH: `${join(REPO, "standin/nvidia")}:${process.env.PATH}`, MYIA_NVIDIA_SMI_SCENARIO: "rtx4090x2-idle", MYIA_DEMO_STATE: state, STANDIN_LOAD_SECONDS: "1", STANDIN_DOWNLOAD_SECONDS: "1" },
  });

describe("npm run demo", { skip: needsPlugins }, () => {
  // A fresh state folder: what an earlier run left on the daemon (containers, networks) goes first.
  before(() => removeLeftovers(["myia_vllm-medium-qwen3", "myia_vllm-medium-vl-qwen3"], ["medium", "medium-vl"]));

  it("ups medium, medium-vl and medium through the engine, validating each, one model on the GPUs at a time; then with standby, a switch a wake", async () => {
    const r = demo();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /STAND-IN GPU host/);
    assert.match(r.stdout, /plugin docker 5\.2\.0: /);
    assert.match(r.stdout, /plugin command 1\.2\.1: /);
    // The engine's own update summary, once an up.
    assert.equal((r.stdout.match(/^\s+\| Resources:/gm) ?? []).length, 7, r.stdout);
    assert.match(r.stdout, /\| \s*\+\s+docker:index:Container\s+medium-container\s+created/);
    // Each switch stops the other model: the migration, and the rollback.
    assert.match(r.stdout, /stopped myia_vllm-medium-qwen3 \(stack medium, GPUs 0,1\); kept: `pulumi up --stack medium` brings it back/);
    assert.match(r.stdout, /stopped myia_vllm-medium-vl-qwen3 \(stack medium-vl, GPUs 0,1\); kept: `pulumi up --stack medium-vl` brings it back/);
    assert.equal((r.stdout.match(/validate medium: PASSED/g) ?? []).length, 4);
    assert.equal((r.stdout.match(/validate medium-vl: PASSED/g) ?? []).length, 3);
    assert.match(r.stdout, /medium: up in [\d.]+s \(.*\); no model answered for [\d.]+s \(probed every 100 ms/);
    // Standby: the model not serving sleeps; the rollback and the next migration are wakes.
    const standby = r.stdout.split("== standby:")[1] ?? "";
    assert.match(standby, /put myia_vllm-medium-qwen3 to sleep in \d+ s/);
    assert.match(standby, /woke myia_vllm-medium-qwen3 in \d+ s \(standby: no load\)/);
    assert.match(standby, /woke myia_vllm-medium-vl-qwen3 in \d+ s \(standby: no load\)/);
    assert.match(standby, /GPU memory\s+ok\s+GPU 0 \d+\/\d+ MiB \(\d+ \+ 1536 × 1 asleep: medium\)/);
    // Both run, medium-vl serving, medium asleep.
    assert.equal((await inspect("myia_vllm-medium-qwen3"))?.State.Running, true);
    assert.equal((await inspect("myia_vllm-medium-vl-qwen3"))?.State.Running, true);
  });

  it("a second run starts again from the committed stack files (standby off), and --down destroys both stacks", async () => {
    const again = demo();
    assert.equal(again.status, 0, again.stdout + again.stderr);
    // The committed medium (no sleep mode) replaces the demo's standby one and stops medium-vl, which served last: no model sleeps.
    const first = again.stdout.split("== pulumi up --stack medium-vl")[0];
    assert.match(first, /docker:index:Container\s+medium-container\s+replaced/);
    assert.match(first, /stopped myia_vllm-medium-vl-qwen3 \(stack medium-vl, GPUs 0,1\)/);
    const down = demo("--down");
    assert.equal(down.status, 0, down.stdout + down.stderr);
    assert.match(down.stdout, /destroyed stack medium-vl[\s\S]*destroyed stack medium/);
    assert.equal(await inspect("myia_vllm-medium-qwen3"), undefined);
    assert.equal(await inspect("myia_vllm-medium-vl-qwen3"), undefined);
  });
});

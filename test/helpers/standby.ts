/**
 * What the standby suites share: the two stacks, the host's RAM fixture,
 * turning standby on in an engine project, and asking a model whether it
 * sleeps (from inside its container: the route is never on the public port).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { setStackValue } from "../../tools/lib/stacks";
import type { engineProject } from "./engineProject";

export const MEDIUM = { stack: "medium", port: 5002, container: "myia_vllm-medium-qwen3", model: "Qwen/Qwen3-32B-AWQ" };
export const VL = { stack: "medium-vl", port: 5003, container: "myia_vllm-medium-vl-qwen3", model: "Qwen/Qwen3-VL-32B-Instruct-FP8" };
export type StandbyStack = typeof MEDIUM;
export const MEMINFO = (name: string) => join(__dirname, "..", "..", "standin", "host", "meminfo", name);

const run = promisify(execFile);

/**
 * Standby on both stacks, both on vLLM 0.34.0 (the oldest catalogued release
 * with the fixes standby relies on), medium at a utilization that leaves room
 * for medium-vl's leftover; the stand-in's sleep and wake times, and any
 * other config, as given.
 */
export async function enableStandby(project: ReturnType<typeof engineProject>, o: { sleepSeconds: number; wakeSeconds: number; config?: Record<string, { value: string }> }): Promise<void> {
  for (const s of [MEDIUM.stack, VL.stack]) {
    const r = await project.op(s, {
      op: "configure",
      config: {
        "host.standby.enabled": { value: "true" },
        "image.tag": { value: "v0.34.0" },
        "container.env.STANDIN_SLEEP_SECONDS": { value: String(o.sleepSeconds) },
        "container.env.STANDIN_WAKE_SECONDS": { value: String(o.wakeSeconds) },
        ...o.config,
      },
    });
    assert.equal(r.ok, true, r.output);
  }
  setStackValue(project.workDir, MEDIUM.stack, ["vllm", "gpuMemoryUtilization"], 0.9);
}

/** The model's own GET /is_sleeping, from inside its container. */
export async function sleeping(s: StandbyStack): Promise<boolean> {
  const { stdout } = await run("docker", ["exec", s.container, "curl", "-s", `http://localhost:${s.port}/is_sleeping`]);
  return JSON.parse(stdout).is_sleeping as boolean;
}

/** A dev route called by hand inside the container, as an operator would. */
export const byHand = (s: StandbyStack, route: string) => run("docker", ["exec", s.container, "curl", "-fsS", "-X", "POST", `http://localhost:${s.port}${route}`]);

/** What the stand-in host's nvidia-smi says each GPU uses, MiB (the scenario's baseline plus the ledger's live bookings). */
export async function gpuUsedMiB(env: NodeJS.ProcessEnv): Promise<number[]> {
  const { stdout } = await run("nvidia-smi", ["--query-gpu=memory.used", "--format=csv,noheader,nounits"], { env });
  return stdout.trim().split("\n").map((l) => Number(l.trim()));
}

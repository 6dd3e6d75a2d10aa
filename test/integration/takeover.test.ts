/**
 * The takeover step, for real on dockerd: another stack's container on our
 * GPUs is stopped and kept; our own and other GPUs' containers are left
 * alone; a container of anything else on our GPUs is refused, by name.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, it } from "node:test";
import { takeoverScript } from "../../components/docker/takeover";
import { handRun, inspect, remove } from "../helpers/docker";

const tag = `${process.pid}`;
const names = {
  vl: `tk-vl-${tag}`,
  mine: `tk-mine-${tag}`,
  far: `tk-far-${tag}`,
  foreign: `tk-foreign-${tag}`,
  foreignGpus: `tk-foreign-gpus-${tag}`,
  vlGateway: `tk-vl-${tag}-gateway`,
  farGateway: `tk-far-${tag}-gateway`,
  mineGateway: `tk-mine-${tag}-gateway`,
};

/** `docker run --gpus '"device=<gpus>"'` (how our containers get GPUs), or `--runtime nvidia -e NVIDIA_VISIBLE_DEVICES=<gpus>`. */
async function run(name: string, labels: Record<string, string>, gpus: string, how: "requests" | "runtime" = "requests") {
  await handRun(name, {
    Image: "vllm/vllm-openai:v0.11.0",
    // A small share each: the stand-in host's GPUs now book memory, and five
    // models at vLLM's default 0.9 would not fit beside each other.
    Cmd: ["Qwen/Qwen3-32B-AWQ", "--port", "8000", "--gpu-memory-utilization", "0.05"],
    Env: ["STANDIN_LOAD_SECONDS=30", ...(how === "runtime" ? [`NVIDIA_VISIBLE_DEVICES=${gpus}`] : [])],
    Labels: labels,
    HostConfig: how === "runtime" ? { Runtime: "nvidia" } : { DeviceRequests: [{ Driver: "", Count: 0, DeviceIDs: gpus.split(","), Capabilities: [["gpu"]], Options: {} }] },
  });
}

/** A gateway of `stack` in front of `upstream` (it holds no GPU; the real one runs Caddy). */
async function gateway(name: string, stack: string, upstream: string) {
  await handRun(name, {
    Image: "caddy:2.11.9",
    Labels: { "org.myia.project": "myia-vllm", "org.myia.stack": stack, "org.myia.role": "gateway", "org.myia.upstream": upstream },
  });
}

const ours = (stack: string, gpus: string) => ({ "org.myia.project": "myia-vllm", "org.myia.stack": stack, "org.myia.gpu-lease": `local:gpus=${gpus}` });
const takeover = () => spawnSync("/bin/sh", ["-c", takeoverScript({ stack: "medium", gpus: [0, 1], stopTimeoutSeconds: 2 })], { encoding: "utf8" });

describe("takeover", () => {
  after(async () => {
    for (const n of Object.values(names)) await remove(n);
  });

  it("stops and keeps the other stack's container, refuses a foreign one, leaves the rest", async () => {
    for (const n of Object.values(names)) await remove(n);
    await run(names.vl, ours("medium-vl", "0,1"), "0,1");
    await run(names.mine, ours("medium", "0,1"), "0,1");
    await run(names.far, ours("small", "2"), "2");
    await run(names.foreign, {}, "1", "runtime");
    await run(names.foreignGpus, {}, "0");
    await gateway(names.vlGateway, "medium-vl", names.vl);
    await gateway(names.farGateway, "small", names.far);
    await gateway(names.mineGateway, "medium", names.mine);

    const r = takeover();
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`stopped ${names.vl} \\(stack medium-vl, GPUs 0,1\\); kept: \`pulumi up --stack medium-vl\` brings it back`));
    assert.match(r.stderr, new RegExp(`refusing to stop ${names.foreign}: it is not a container of this project and holds GPU\\(s\\) 1; stop it yourself \\(docker stop ${names.foreign}\\)`));
    assert.match(r.stderr, new RegExp(`refusing to stop ${names.foreignGpus}: it is not a container of this project and holds GPU\\(s\\) 0;`));
    const state = async (n: string) => (await inspect(n))?.State.Status;
    assert.equal(await state(names.vl), "exited"); // stopped, kept
    assert.equal(await state(names.mine), "running");
    assert.equal(await state(names.far), "running");
    assert.equal(await state(names.foreign), "running");
    // A gateway goes with its model; the others stay.
    assert.match(r.stdout, new RegExp(`stopped ${names.vlGateway} \\(the gateway of stack medium-vl, whose model is stopped\\)`));
    assert.equal(await state(names.vlGateway), "exited");
    assert.equal(await state(names.farGateway), "running");
    assert.equal(await state(names.mineGateway), "running");

    // Once the operator has dealt with the foreign container, the step passes.
    await remove(names.foreign);
    await remove(names.foreignGpus);
    const again = takeover();
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, "");
  });
});

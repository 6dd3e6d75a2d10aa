/**
 * Standby, switched back and forth 50 times through the real engine while
 * clients stream replies from both stacks the whole time (a reply lasts
 * about a second: 25 tokens, 40 ms apart). What must hold:
 *   - no reply is cut mid-stream: the gateway drains the serving model
 *     before it sleeps (mode=wait), and never forwards to a sleeping one;
 *   - every refused request is refused cleanly, before its first byte: a
 *     503 with Retry-After from the sleeping model's gateway (the containers
 *     keep running, so never a refused connection);
 *   - each switch is a wake, never a load, and the GPU memory booked is the
 *     same at each visit of a state: nothing piles up over cycles;
 *   - after destroy, no container, network or booked GPU memory is left.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { clientFromOutputs } from "../../tools/lib/client";
import { streamWorkload, type StreamTally } from "../../tools/lib/streams";
import { logs, removeLeftovers } from "../helpers/docker";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { enableStandby, gpuUsedMiB, MEDIUM, MEMINFO, sleeping, VL } from "../helpers/standby";

const SWITCHES = 50;
const API_KEY = `sk-cycle-${randomBytes(10).toString("hex")}`;
const project = engineProject({ MYIA_HOST_MEMINFO: MEMINFO("gpu-box-128g.txt") });
const run = promisify(execFile);

describe(`standby: ${SWITCHES} switches with clients streaming the whole time`, { skip: needsPlugins }, () => {
  let baseline: number[] = [];

  before(async () => {
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
    baseline = await gpuUsedMiB(project.env());
    await project.configure(API_KEY, `hf_cycle${randomBytes(8).toString("hex")}`, 2);
    await enableStandby(project, { sleepSeconds: 0.2, wakeSeconds: 0.5, config: { "container.env.STANDIN_TOKEN_MS": { value: "40" } } });
    for (const s of [MEDIUM.stack, VL.stack]) {
      const r = await project.op(s, { op: "up" });
      assert.equal(r.ok, true, r.output);
      // Trust the gateways' CA, as a client does.
      clientFromOutputs(r.outputs as never);
    }
  });

  after(async () => {
    await removeLeftovers([MEDIUM.container, VL.container], [MEDIUM.stack, VL.stack]);
  });

  it(`${SWITCHES} switches: nothing cut, every refusal clean, a wake each time, memory steady`, async () => {
    const clients = [MEDIUM, VL].map((s) => streamWorkload({ baseUrl: `https://127.0.0.1:${s.port}`, apiKey: API_KEY, model: s.model, clients: 2, minTokens: 25, retryMs: 250 }));
    const usedBy: Record<string, string[]> = { [MEDIUM.stack]: [], [VL.stack]: [] };
    const seconds: number[] = [];
    let tallies: StreamTally[] = [];
    try {
      for (let i = 0; i < SWITCHES; i++) {
        const [to, other] = i % 2 === 0 ? [MEDIUM, VL] : [VL, MEDIUM];
        const t0 = Date.now();
        const r = await project.op(to.stack, { op: "up" });
        seconds.push((Date.now() - t0) / 1000);
        assert.equal(r.ok, true, `switch ${i + 1} to ${to.stack}:\n${r.output}`);
        assert.match(r.output, new RegExp(`woke ${to.container} in \\d+ s`), `switch ${i + 1}: a wake`);
        assert.equal(await sleeping(to), false, `switch ${i + 1}: ${to.stack} awake`);
        assert.equal(await sleeping(other), true, `switch ${i + 1}: ${other.stack} asleep`);
        usedBy[to.stack].push((await gpuUsedMiB(project.env())).join(","));
      }
    } finally {
      tallies = await Promise.all(clients.map((c) => c.stop()));
    }
    const sum = (k: "completed" | "cut" | "refused") => tallies.reduce((a, t) => a + t[k], 0);
    const how: Record<string, number> = {};
    for (const t of tallies) for (const [k, n] of Object.entries(t.refusedHow ?? {})) how[k] = (how[k] ?? 0) + n;
    console.log(`${SWITCHES} switches, up ${Math.min(...seconds).toFixed(1)}-${Math.max(...seconds).toFixed(1)} s each; replies: ${sum("completed")} completed, ${sum("cut")} cut, ${sum("refused")} refused (${JSON.stringify(how)})`);

    assert.equal(sum("cut"), 0, `cut mid-stream: ${tallies.map((t) => t.cutSample).filter(Boolean).join(" | ")}`);
    assert.ok(tallies.every((t) => t.completed > 0), "each stack answered while it served");
    for (const k of Object.keys(how)) assert.match(k, /^HTTP 503 Retry-After \d+$/, `refused other than cleanly: ${JSON.stringify(how)}`);
    for (const s of [MEDIUM, VL]) {
      assert.equal(new Set(usedBy[s.stack]).size, 1, `GPU memory with ${s.stack} awake, at each of its ${usedBy[s.stack].length} turns: ${[...new Set(usedBy[s.stack])].join(" then ")}`);
      assert.equal((await logs(s.container)).match(/Loading model weights/g)?.length, 1, `${s.stack} loaded once, at its first start`);
    }
  });

  it("destroy leaves no container, network or booked GPU memory", async () => {
    for (const s of [VL.stack, MEDIUM.stack]) {
      const r = await project.op(s, { op: "destroy" });
      assert.equal(r.ok, true, r.output);
    }
    const label = ["--filter", "label=org.myia.project=myia-vllm", "--format", "{{.Names}}"];
    assert.equal((await run("docker", ["ps", "-a", ...label])).stdout.trim(), "", "containers left");
    assert.equal((await run("docker", ["network", "ls", ...label])).stdout.trim(), "", "networks left");
    assert.deepEqual(await gpuUsedMiB(project.env()), baseline, "GPU memory booked");
  });
});

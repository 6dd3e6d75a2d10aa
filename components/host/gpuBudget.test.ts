import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gpuMemoryVerdict } from "./gpuBudget";
import type { HostProbe, OwnedContainer } from "./probe";

const gpu = (index: number, used: number) => ({ index, memoryTotalMiB: 24564, memoryUsedMiB: used }) as HostProbe["gpus"][number];
const peer = (name: string, stack: string, gpus = "0,1"): OwnedContainer => ({ name, status: "running", stack, gpuLease: `gpu-box:gpus=${gpus}`, startedAt: "t", pids: [] });
const probe = (gpus: HostProbe["gpus"], containers: OwnedContainer[] = [], sleep?: HostProbe["sleep"]): HostProbe => ({ gpus, apps: [], runtimes: [], containers, foreign: [], networks: [], failures: [], sleep });
const medium = { stack: "medium", gpus: [0, 1], gpuMemoryUtilization: 0.9 };

describe("gpuMemoryVerdict", () => {
  const cases: { name: string; probe: HostProbe; target: Parameters<typeof gpuMemoryVerdict>[1]; parts: string[]; problems: RegExp[] }[] = [
    {
      name: "without standby: within the utilization's budget",
      probe: probe([gpu(0, 22000), gpu(1, 22107)]),
      target: medium,
      parts: ["GPU 0 22000/22108 MiB", "GPU 1 22107/22108 MiB"],
      problems: [],
    },
    {
      name: "without standby: a sleeping peer's leftover is over budget (standby is off, nothing should sleep there)",
      probe: probe([gpu(0, 23644), gpu(1, 23644)], [peer("vl", "medium-vl")], { vl: "asleep" }),
      target: medium,
      parts: ["GPU 0 23644/22108 MiB", "GPU 1 23644/22108 MiB"],
      problems: [/^GPU 0 uses 23644 MiB, over its budget of 22108 MiB \(0\.9 × 24564\)$/, /^GPU 1 uses/],
    },
    {
      name: "standby: the sleeping peer's leftover is counted on the GPUs it shares",
      probe: probe([gpu(0, 23644), gpu(1, 22108)], [peer("vl", "medium-vl", "0")], { vl: "asleep" }),
      target: { ...medium, standbyLeftoverMiB: 1536 },
      parts: ["GPU 0 23644/23644 MiB (22108 + 1536 × 1 asleep: medium-vl)", "GPU 1 22108/22108 MiB"],
      problems: [],
    },
    {
      name: "standby: a leftover grown past host.standby.leftoverMiB is over budget, and says why",
      probe: probe([gpu(0, 24000), gpu(1, 24000)], [peer("vl", "medium-vl")], { vl: "asleep" }),
      target: { ...medium, standbyLeftoverMiB: 1536 },
      parts: ["GPU 0 24000/23644 MiB (22108 + 1536 × 1 asleep: medium-vl)", "GPU 1 24000/23644 MiB (22108 + 1536 × 1 asleep: medium-vl)"],
      problems: [/^GPU 0 uses 24000 MiB, over its budget of 23644 MiB \(0\.9 × 24564, plus host\.standby\.leftoverMiB for each sleeping peer\)$/, /^GPU 1 /],
    },
    {
      name: "standby: a peer awake beside us is named, with what to do",
      probe: probe([gpu(0, 22000), gpu(1, 22000)], [peer("vl", "medium-vl")], { vl: "awake" }),
      target: { ...medium, standbyLeftoverMiB: 1536 },
      parts: ["GPU 0 22000/22108 MiB", "GPU 1 22000/22108 MiB"],
      problems: [/^standby: vl \(stack medium-vl\) is awake on our GPUs too \(woken by hand\?\); `pulumi up --stack medium` puts it to sleep$/],
    },
    {
      name: "a GPU the host lacks",
      probe: probe([gpu(0, 0)]),
      target: medium,
      parts: ["GPU 0 0/22108 MiB"],
      problems: [/^GPU 1 is not on the host$/],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const v = gpuMemoryVerdict(c.probe, c.target);
      assert.deepEqual(v.parts, c.parts);
      assert.equal(v.problems.length, c.problems.length, v.problems.join("\n"));
      c.problems.forEach((re, i) => assert.match(v.problems[i], re));
    });
  }
});

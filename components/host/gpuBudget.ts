/**
 * A deployed stack's GPU memory against its budget, from the host probe
 * (nvidia-smi, and with standby each model's GET /is_sleeping). Pure: what
 * `validate` reports.
 *
 * Without standby the budget is the stack's utilization of each GPU. With
 * standby a sleeping peer keeps its leftover (CUDA context, graph pool) on
 * the GPUs it shares, so the budget is the stack's utilization plus one
 * leftover per sleeping peer there, the same sum preview checked against
 * the GPU's total (components/config/standby.ts); a peer awake beside us is
 * reported as what it is, not as memory over budget.
 */
import { holding, leaseGpus } from "./checks";
import type { HostProbe } from "./probe";

export interface GpuBudgetTarget {
  stack: string;
  gpus: readonly number[];
  gpuMemoryUtilization: number;
  /** Standby only: what each sleeping peer keeps per GPU, MiB (host.standby.leftoverMiB). */
  standbyLeftoverMiB?: number;
}

export interface GpuBudgetVerdict {
  /** Per GPU: "GPU 0 23400/23600 MiB (22064 + 1536 asleep: medium-vl)". */
  parts: string[];
  /** What is wrong, each a sentence; empty when every GPU is within budget. */
  problems: string[];
}

export function gpuMemoryVerdict(probe: HostProbe, t: GpuBudgetTarget): GpuBudgetVerdict {
  const parts: string[] = [];
  const problems: string[] = [];
  const peers = t.standbyLeftoverMiB !== undefined ? holding(probe, t.stack, t.gpus) : [];
  const awake = peers.filter((c) => probe.sleep?.[c.name] !== "asleep");
  if (awake.length > 0) {
    problems.push(`standby: ${awake.map((c) => `${c.name} (stack ${c.stack || "?"})`).join(", ")} ${awake.length > 1 ? "are" : "is"} awake on our GPUs too (woken by hand?); \`pulumi up --stack ${t.stack}\` puts ${awake.length > 1 ? "them" : "it"} to sleep`);
  }
  for (const index of t.gpus) {
    const gpu = probe.gpus.find((g) => g.index === index);
    if (!gpu) {
      problems.push(`GPU ${index} is not on the host`);
      continue;
    }
    const own = Math.round(t.gpuMemoryUtilization * gpu.memoryTotalMiB);
    const asleep = peers.filter((c) => probe.sleep?.[c.name] === "asleep" && leaseGpus(c).includes(index));
    const budget = own + asleep.length * (t.standbyLeftoverMiB ?? 0);
    const used = gpu.memoryUsedMiB ?? 0;
    const sum = asleep.length > 0 ? ` (${own} + ${t.standbyLeftoverMiB} × ${asleep.length} asleep: ${asleep.map((c) => c.stack || c.name).join(", ")})` : "";
    parts.push(`GPU ${index} ${used}/${budget} MiB${sum}`);
    if (used > budget) {
      const why = asleep.length > 0 ? `${t.gpuMemoryUtilization} × ${gpu.memoryTotalMiB}, plus host.standby.leftoverMiB for each sleeping peer` : `${t.gpuMemoryUtilization} × ${gpu.memoryTotalMiB}`;
      problems.push(`GPU ${index} uses ${used} MiB, over its budget of ${budget} MiB (${why})`);
    }
  }
  return { parts, problems };
}

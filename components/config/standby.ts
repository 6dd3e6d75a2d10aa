/**
 * Standby across a host group: the stacks on one host (same host.name) that
 * share GPUs keep the one not serving asleep. Pure: from validated profiles,
 * the checks preview and `check` run, and the plan the program follows.
 *
 * The switch is host.standby in each stack file, and every stack of the
 * group must say the same: the peer's leftover is on our GPUs and its
 * weights in the host's RAM, so one stack cannot opt in alone.
 */
import { formatStandbyPlan, StandbyGpuPlan, standbyGpuPlan, standbyHostRamMiB, StandbyMember } from "../vllm/sleep";
import type { ValidatedProfile } from "./schema";

const MiB = 1024 * 1024;

/** What the program needs of standby, once the group's checks pass. */
export interface StandbyFacts {
  /** The other stacks of the group (sharing a GPU), which sleep while this one serves. */
  peers: string[];
  gpu: StandbyGpuPlan;
  /** Host RAM the group's pinned weights and the reserve need, MiB. */
  hostRamMiB: number;
  /** The same, per stack, for the message. */
  weightsMiB: Record<string, number>;
  leftoverMiB: number;
  sleepTimeoutSeconds: number;
  wakeTimeoutSeconds: number;
  /** The memory plan's standby rows. */
  table: string;
}

export const standbyMember = (stack: string, p: ValidatedProfile): StandbyMember => ({
  stack,
  gpus: p.host.gpus,
  gpuMemoryUtilization: p.vllm.gpuMemoryUtilization,
  gpuMemoryMiB: p.host.gpuMemoryMiB,
  weightsMiB: p.footprint.checkpointBytes / MiB,
});

/**
 * Checks this stack's standby against its group (its siblings, validated):
 * the same switch on every stack sharing its GPUs, and its utilization plus
 * each sleeping peer's leftover within the GPUs. Errors as `path: what, why,
 * what to do`; the facts when standby is on and fits.
 */
export function checkStandby(stack: string, self: ValidatedProfile, siblings: readonly { stack: string; profile: ValidatedProfile }[]): { errors: string[]; facts?: StandbyFacts } {
  const group = siblings.filter((s) => s.stack !== stack && s.profile.host.name === self.host.name && s.profile.host.gpus.some((g) => self.host.gpus.includes(g)));
  const on = self.host.standby.enabled;
  const errors: string[] = [];
  for (const s of group) {
    if (s.profile.host.standby.enabled !== on) {
      errors.push(
        `host.standby.enabled: is ${on} here but ${!on} in stack ${s.stack}, which shares GPUs ${self.host.gpus.filter((g) => s.profile.host.gpus.includes(g)).join(",")} of host ${self.host.name}; standby is a property of the host group (the sleeping model stays on the GPUs): set it the same in both stack files`,
      );
    }
  }
  if (!on) return { errors };
  const sleepers = group.filter((s) => s.profile.host.standby.enabled);
  const leftoverMiB = self.host.standby.leftoverMiB;
  const gpu = standbyGpuPlan(standbyMember(stack, self), sleepers.map((s) => standbyMember(s.stack, s.profile)), leftoverMiB);
  if (!gpu.fits) {
    errors.push(
      `vllm.gpuMemoryUtilization: ${self.vllm.gpuMemoryUtilization} × ${gpu.totalMiB} MiB = ${gpu.budgetMiB} MiB per GPU, plus ${gpu.peersLeftoverMiB} MiB that ${sleepers.map((s) => s.stack).join(", ")} keep(s) asleep (host.standby.leftoverMiB), is over the GPU's ${gpu.totalMiB} MiB, so vLLM would refuse to start or wake ("Free memory on device ... is less than desired GPU memory utilization"); lower it to at most ${gpu.maxUtilization}, or turn host.standby.enabled off`,
    );
  }
  const members = [standbyMember(stack, self), ...sleepers.map((s) => standbyMember(s.stack, s.profile))];
  const facts: StandbyFacts = {
    peers: sleepers.map((s) => s.stack),
    gpu,
    hostRamMiB: standbyHostRamMiB(members, self.host.standby.hostReserveMiB),
    weightsMiB: Object.fromEntries(members.map((m) => [m.stack, Math.ceil(m.weightsMiB)])),
    leftoverMiB,
    sleepTimeoutSeconds: self.host.standby.sleepTimeoutSeconds,
    wakeTimeoutSeconds: self.host.standby.wakeTimeoutSeconds,
    table: formatStandbyPlan(gpu, sleepers.map((s) => s.stack)),
  };
  return { errors, facts };
}

/**
 * The host's RAM against the pinned weights (the probe's MemTotal, MiB):
 * each sleeping model's weights stay in pinned RAM, and the awake one's too
 * (vLLM keeps its CPU copy after a wake).
 */
export function hostRamProblem(facts: StandbyFacts, memTotalMiB: number | undefined): string | undefined {
  const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;
  if (memTotalMiB === undefined) return `host.standby.enabled: could not read the host's RAM (/proc/meminfo), which must hold the sleeping weights; check the host, or turn standby off`;
  if (memTotalMiB >= facts.hostRamMiB) return undefined;
  const each = Object.entries(facts.weightsMiB).map(([s, m]) => `${s} ${gib(m)}`).join(", ");
  return `host.standby.enabled: the host has ${gib(memTotalMiB)} of RAM, but standby pins every model's weights in it (${each}) plus host.standby.hostReserveMiB ${gib(facts.hostRamMiB - Object.values(facts.weightsMiB).reduce((a, b) => a + b, 0))} for the rest: ${gib(facts.hostRamMiB)}; add RAM, or turn host.standby.enabled off`;
}

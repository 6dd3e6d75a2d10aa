/**
 * vLLM's sleep mode as far as standby goes: which releases may use it, how
 * they are told to, and whether two models fit one host with one of them
 * asleep. Pure vLLM knowledge, no Pulumi.
 *
 * Level 1 moves a model's weights to pinned host RAM and frees its KV cache;
 * the CUDA context, the CUDA-graph pool and NCCL buffers stay on each GPU
 * (about 1.1-1.5 GiB per GPU on 24 GB cards, vllm-project/vllm#32714). The
 * routes exist only with VLLM_SERVER_DEV_MODE=1, and only
 * --enable-sleep-mode (vLLM's CuMemAllocator pool) makes sleeping free memory.
 */
import { compareVersions } from "./catalog";

/** The flag that makes sleeping give memory back. */
export const SLEEP_MODE_FLAG = "--enable-sleep-mode";
/** The environment that mounts /sleep, /wake_up, /is_sleeping (and /collective_rpc, ...): never on the public port. */
export const DEV_MODE_ENV = "VLLM_SERVER_DEV_MODE=1";

/**
 * The fixes standby relies on, each with where it shows in the release's own
 * source (~/.cache/myia-vllm/catalog/pkgs/<version>/vllm).
 */
export const SLEEP_FIXES: readonly { pr: string; what: string }[] = [
  { pr: "vllm-project/vllm#32947", what: "a sleeping engine keeps about 1.2 GiB per GPU, not 16 GB (the 0.14-0.15 regression)" },
  { pr: "vllm-project/vllm#34528", what: "POST /sleep?mode=wait lets requests in flight finish before sleeping (since 0.17)" },
  { pr: "vllm-project/vllm#43001", what: "the multimodal cache is reset after a wake (stale image features otherwise)" },
  { pr: "vllm-project/vllm#44483", what: "a partial wake with TP > 1 no longer resumes scheduling: EngineCore.wake_up returns fully_awake (v1/engine/core.py at 0.34.0; 0.21.0 resumes after any wake)" },
  { pr: "vllm-project/vllm#28783", what: "an FP8 KV cache is rebuilt after a wake" },
];

/**
 * The oldest catalogued release with every fix above. 0.20.0 and 0.21.0 lack
 * the partial-wake fix (their EngineCore.wake_up resumes scheduling after any
 * wake); 0.11.0 lacks all of them, and a request that reaches its sleeping
 * engine kills it (vllm-project/vllm#15483).
 */
export const MIN_STANDBY_VERSION = "0.34.0";

export function standbyReleaseProblem(version: string): string | undefined {
  if (compareVersions(version, MIN_STANDBY_VERSION) >= 0) return undefined;
  return `vLLM ${version} lacks fixes standby relies on (${SLEEP_FIXES.map((f) => f.pr.replace("vllm-project/vllm", "vllm")).join(", ")}); pin image.tag v${MIN_STANDBY_VERSION} or later, or turn host.standby.enabled off`;
}

/** Whether the release's /sleep takes mode=wait (vllm-project/vllm#34528, 0.17). */
export const sleepTakesMode = (version: string): boolean => compareVersions(version, "0.17.0") >= 0;

/** One model of a standby group, as the fit check needs it. */
export interface StandbyMember {
  stack: string;
  gpus: readonly number[];
  gpuMemoryUtilization: number;
  /** Per-GPU memory, MiB. */
  gpuMemoryMiB: number;
  /** The whole checkpoint, MiB: what its sleep pins in host RAM. */
  weightsMiB: number;
}

/** The GPU side of standby for one stack: its budget plus what its sleeping peers keep. */
export interface StandbyGpuPlan {
  budgetMiB: number;
  /** The leftover of each peer sharing a GPU with this stack, asleep. */
  peersLeftoverMiB: number;
  totalMiB: number;
  fits: boolean;
  /** The largest utilization that fits beside the peers' leftover (two decimals). */
  maxUtilization: number;
}

/**
 * vLLM starts (or wakes) only with utilization × total free on each GPU
 * (vllm-project/vllm#20305's check), so the awake model's budget plus every
 * sleeping peer's leftover must fit the GPU.
 */
export function standbyGpuPlan(self: StandbyMember, peers: readonly StandbyMember[], leftoverMiB: number): StandbyGpuPlan {
  const sharing = peers.filter((p) => p.stack !== self.stack && p.gpus.some((g) => self.gpus.includes(g)));
  const budgetMiB = Math.ceil(self.gpuMemoryUtilization * self.gpuMemoryMiB);
  const peersLeftoverMiB = sharing.length * leftoverMiB;
  return {
    budgetMiB,
    peersLeftoverMiB,
    totalMiB: self.gpuMemoryMiB,
    fits: budgetMiB + peersLeftoverMiB <= self.gpuMemoryMiB,
    maxUtilization: Math.floor(((self.gpuMemoryMiB - peersLeftoverMiB) / self.gpuMemoryMiB) * 100) / 100,
  };
}

/** The host RAM standby pins: every member's weights (kept in RAM after a wake, by design), plus a reserve for the system. */
export function standbyHostRamMiB(members: readonly StandbyMember[], reserveMiB: number): number {
  return Math.ceil(members.reduce((s, m) => s + m.weightsMiB, 0) + reserveMiB);
}

/** The GPU plan as rows, beside the memory plan's table. */
export function formatStandbyPlan(plan: StandbyGpuPlan, peers: readonly string[]): string {
  const gib = (mib: number) => `${(mib / 1024).toFixed(2)} GiB`;
  const rows: [string, string][] = [
    ["standby: this model awake", gib(plan.budgetMiB)],
    [`standby: asleep (${peers.join(", ") || "no peer"})`, gib(plan.peersLeftoverMiB)],
    ["standby: GPU memory", gib(plan.totalMiB)],
    ["standby: left", gib(plan.totalMiB - plan.budgetMiB - plan.peersLeftoverMiB)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v.padStart(11)}`).join("\n");
}

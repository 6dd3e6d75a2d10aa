/**
 * Checks a host probe against what a profile asks of the host. Pure.
 * The memory rule is vLLM's own start-up check: it refuses to start when a
 * GPU's free memory is below gpuMemoryUtilization × total.
 */
import type { HostProbe } from "./probe";

export interface HostRequirements {
  /** This stack, so its own containers don't count against it. */
  stack: string;
  gpus: readonly number[];
  gpuMemoryUtilization: number;
  /** The per-GPU memory the plan assumed (host.gpuMemoryMiB). */
  plannedGpuMemoryMiB: number;
  /** The user the probe ran as, over ssh (undefined on the local socket). */
  sshUser?: string;
}

export interface HostCheck {
  errors: string[];
  /** Facts worth showing at preview: other processes, GPUs held by our other stacks. */
  notes: string[];
}

export function checkHost(probe: HostProbe, req: HostRequirements): HostCheck {
  const errors: string[] = [];
  const notes: string[] = [];
  // One line per tool: nvidia-smi fails both its sections, docker all of its own.
  const failed = new Map<string, string>();
  for (const f of probe.failures) {
    const tool = f.section === "gpus" || f.section === "apps" ? "nvidia-smi" : "docker";
    if (!failed.has(tool)) failed.set(tool, toolFailure(tool, f.output, req.sshUser));
  }
  errors.push(...failed.values());
  if (probe.failures.some((f) => f.section === "gpus")) return { errors, notes };

  if (!probe.runtimes.includes("nvidia") && !probe.failures.some((f) => f.section === "runtimes")) {
    errors.push(`host: Docker on the host has no "nvidia" runtime (it has ${probe.runtimes.join(", ") || "none"}); install nvidia-container-toolkit and run \`nvidia-ctk runtime configure --runtime=docker\`, then restart Docker`);
  }
  const have = probe.gpus.map((g) => g.index);
  for (const index of req.gpus) {
    const gpu = probe.gpus.find((g) => g.index === index);
    if (!gpu) {
      errors.push(`host.gpus: GPU ${index} is not on the host (it has ${have.length ? `GPUs ${have.join(", ")}` : "no GPU"}); use indices that \`nvidia-smi -L\` lists`);
      continue;
    }
    if (gpu.memoryTotalMiB < req.plannedGpuMemoryMiB) {
      errors.push(`host.gpuMemoryMiB: the plan assumes ${req.plannedGpuMemoryMiB} MiB per GPU but GPU ${index} (${gpu.name ?? "?"}) has ${gpu.memoryTotalMiB} MiB; set host.gpuMemoryMiB to ${gpu.memoryTotalMiB} so the memory plan is redone`);
    }
    // Memory held by processes inside this project's containers is ours to
    // free (another profile's container is stopped on takeover); the rest is not.
    const ourPids = new Set(probe.containers.flatMap((c) => c.pids));
    const others = probe.apps.filter((a) => a.gpuUuid === gpu.uuid && !ourPids.has(a.pid));
    const otherMiB = others.reduce((s, a) => s + a.usedMemoryMiB, 0);
    if (others.length > 0) {
      notes.push(`GPU ${index}: ${otherMiB} MiB used by processes not of this project (${others.map((a) => `pid ${a.pid}: ${a.usedMemoryMiB} MiB`).join(", ")})`);
    }
    const needMiB = Math.ceil(req.gpuMemoryUtilization * gpu.memoryTotalMiB);
    const freeMiB = gpu.memoryTotalMiB - otherMiB;
    if (freeMiB < needMiB) {
      const maxUtil = Math.floor((freeMiB / gpu.memoryTotalMiB) * 100) / 100;
      errors.push(`host.gpus: GPU ${index} has ${freeMiB} MiB free of ${gpu.memoryTotalMiB} MiB once processes not of this project are counted, but vLLM needs ${req.gpuMemoryUtilization} × ${gpu.memoryTotalMiB} = ${needMiB} MiB free to start; stop those processes (see the note above) or lower vllm.gpuMemoryUtilization to at most ${maxUtil}`);
    }
  }
  for (const f of probe.foreign) {
    const held = f.devices === "all" ? req.gpus : f.devices.split(",").map(Number);
    const shared = req.gpus.filter((g) => held.includes(g));
    if (shared.length > 0) {
      errors.push(`host.gpus: container ${f.name} is not of this project and holds GPU ${shared.join(", ")} (NVIDIA_VISIBLE_DEVICES=${f.devices}); this program never stops it: stop it yourself (docker stop ${f.name}) or pick other GPUs`);
    }
  }
  for (const c of probe.containers) {
    if (c.stack === req.stack || c.status !== "running") continue;
    const held = c.gpuLease.split("=")[1]?.split(",").map(Number) ?? [];
    const shared = req.gpus.filter((g) => held.includes(g));
    if (shared.length === 0) continue;
    const sleep = probe.sleep?.[c.name];
    if (sleep === "asleep") notes.push(`GPU ${shared.join(", ")}: container ${c.name} of stack ${c.stack || "?"} is asleep (standby); it stays so`);
    else if (sleep) notes.push(`GPU ${shared.join(", ")}: held by container ${c.name} of stack ${c.stack || "?"} (awake); up puts it to sleep (standby), to be woken by \`pulumi up --stack ${c.stack || "?"}\``);
    else notes.push(`GPU ${shared.join(", ")}: held by container ${c.name} of stack ${c.stack || "?"} (running); up stops it and keeps it for rollback`);
  }
  return { errors, notes };
}

/**
 * One line for a host tool that failed, by what it printed: the cause, and
 * what to do about it on the host. Messages are the shell's, Docker's and
 * nvidia-smi's own (test/fixtures/ssh/).
 */
export function toolFailure(tool: "nvidia-smi" | "docker", output: string, sshUser?: string): string {
  const first = output.split("\n").find((l) => l.trim()) ?? "no output";
  const who = sshUser ? `user ${sshUser}` : "this user";
  if (/not found|No such file or directory/.test(first) && new RegExp(`\\b${tool}\\b`).test(first)) {
    return tool === "docker"
      ? `host: docker is not on ${who}'s PATH on the host (${first}); install Docker there (Debian: apt install docker.io), or put its directory on that PATH`
      : `host: nvidia-smi is not on ${who}'s PATH on the host (${first}); install the NVIDIA driver there (it brings nvidia-smi), or check that host.docker names the GPU host`;
  }
  if (tool === "docker" && /permission denied while trying to connect to the Docker daemon/i.test(output)) {
    return `host: ${who} may not use Docker on the host (permission denied on its socket); add it to group docker there (usermod -aG docker ${sshUser ?? "$USER"}; it applies at the next login)`;
  }
  if (tool === "docker" && /Cannot connect to the Docker daemon/.test(output)) {
    return `host: Docker is not running on the host (${first}); start it there (systemctl start docker)`;
  }
  const fix = tool === "nvidia-smi" ? "install the NVIDIA driver on the host, or check host.docker points at the GPU host" : "check that Docker runs on the host and host.docker can reach it";
  return `host: ${tool} failed on the host: ${first}; ${fix}`;
}

/**
 * Who holds the GPUs now: the running containers of other stacks that share
 * a GPU with this one (the ones the takeover step stops), as a value that
 * changes whenever the step has work to do: each holder's name and when it
 * last started ("none" when no one holds them). It is the step's trigger.
 * Names alone are not enough: a migration back and forth finds the same
 * holder each time, started again in between.
 */
export function gpuHoldersKey(probe: HostProbe, stack: string, gpus: readonly number[], ownContainer?: string, now = Date.now()): string {
  const holders = holding(probe, stack, gpus);
  if (!probe.sleep) return holders.map((c) => `${c.name}@${c.startedAt}`).join(",") || "none";
  // Standby: a holder's state is part of the key, and while there is work
  // (a holder awake, or this stack's model asleep) the key is new at each
  // run: a switch back and forth finds the same containers, started once,
  // in the same states each time, yet each time the takeover must run.
  const state = (name: string) => probe.sleep![name] ?? "no-sleep-mode";
  const list = holders.map((c) => `${c.name}@${c.startedAt}:${state(c.name)}`).join(",") || "none";
  const work = holders.some((c) => state(c.name) !== "asleep") || (ownContainer !== undefined && probe.sleep[ownContainer] === "asleep");
  return work ? `${list};switch@${now}` : list;
}

/**
 * Standby's view of the GPUs, for preview and refresh: which model of the
 * group is awake, and drift (this stack's model asleep with none awake,
 * or two awake at once: woken or put to sleep by hand). Warnings say what up does.
 */
export function standbyState(probe: HostProbe, stack: string, gpus: readonly number[], ownContainer: string): { notes: string[]; warnings: string[] } {
  if (!probe.sleep) return { notes: [], warnings: [] };
  const holders = holding(probe, stack, gpus);
  const own = probe.sleep[ownContainer];
  const awake = holders.filter((c) => probe.sleep![c.name] === "awake").map((c) => c.name);
  const asleep = holders.filter((c) => probe.sleep![c.name] === "asleep").map((c) => c.name);
  if (own === "awake") awake.unshift(ownContainer);
  if (own === "asleep") asleep.unshift(ownContainer);
  const notes = [`standby on GPUs ${gpus.join(",")}: awake ${awake.join(", ") || "none"}; asleep ${asleep.join(", ") || "none"}`];
  const warnings: string[] = [];
  if (own === "asleep" && awake.length === 0) warnings.push(`standby: ${ownContainer} is asleep and no model of the group is awake (put to sleep by hand?); up wakes it`);
  if (awake.length > 1) warnings.push(`standby: ${awake.join(" and ")} are awake at once (woken by hand?); up of a stack puts the others to sleep`);
  return { notes, warnings };
}

/** The GPU indices a container of ours holds, from its lease label ("<host>:gpus=0,1"). */
export const leaseGpus = (c: { gpuLease: string }): number[] => c.gpuLease.split("=")[1]?.split(",").filter(Boolean).map(Number) ?? [];

export function holding(probe: HostProbe, stack: string, gpus: readonly number[]) {
  return probe.containers
    .filter((c) => c.stack !== stack && c.status === "running")
    .filter((c) => leaseGpus(c).some((g) => gpus.includes(g)))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The lease label value this stack puts on its container: "<host>:gpus=0,1". */
export function gpuLease(hostName: string, gpus: readonly number[]): string {
  return `${hostName}:gpus=${[...gpus].sort((a, b) => a - b).join(",")}`;
}

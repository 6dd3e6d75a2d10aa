/**
 * What the cluster can give a stack, from `kubectl get nodes -o json` and
 * `kubectl get pods -A -o json` (the program reads them at preview, as the
 * Docker backend reads nvidia-smi): the nodes the pods may land on, their
 * GPUs' memory, and whether the model fits beside what runs, only after a
 * takeover of other stacks' GPUs, or not at all. Pure.
 */
import type { ClusterConfig } from "../config/cluster";
import { GPU_MEMORY_LABEL, nodeSelector } from "../config/cluster";
import { PROJECT_LABEL, PROJECT_NAME } from "../host/probe";
import { ROLE_LABEL, STACK_LABEL } from "./pod";

interface Taint {
  key: string;
  value?: string;
  effect: string;
}
export interface KNode {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { taints?: Taint[]; unschedulable?: boolean };
  status?: { allocatable?: Record<string, string> };
}
interface KContainer {
  /** "Always" on an init container: a sidecar, running beside the others (ours: vLLM). */
  restartPolicy?: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}
export interface KPod {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: KContainer[]; initContainers?: KContainer[] };
  status?: { phase?: string };
}

/** A node the model may run on, with its GPUs. */
export interface GpuNode {
  name: string;
  gpus: number;
  /** nvidia.com/gpu.memory, MiB; undefined when the node has no such label. */
  memoryMiB?: number;
}

const tolerated = (t: Taint, c: ClusterConfig) =>
  t.effect === "PreferNoSchedule" ||
  c.tolerations.some((x) => (x.effect === undefined || x.effect === t.effect) && (x.key === undefined ? x.operator === "Exists" : x.key === t.key) && (x.operator === "Exists" || x.value === t.value));

/** Why the scheduler would not put this stack's pods on a node, or undefined when it may. */
export function nodeRefusal(n: KNode, c: ClusterConfig): string | undefined {
  if (n.spec?.unschedulable) return "cordoned";
  const wrong = Object.entries(nodeSelector(c)).find(([k, v]) => n.metadata.labels?.[k] !== v);
  if (wrong) return `${wrong[0]}=${n.metadata.labels?.[wrong[0]] ?? "(none)"}`;
  const taint = (n.spec?.taints ?? []).find((t) => !tolerated(t, c));
  return taint ? `taint ${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect} not tolerated` : undefined;
}

/** The nodes the scheduler may put this stack's pods on: the selector matches, every taint is tolerated. */
export function eligibleNodes(nodes: readonly KNode[], c: ClusterConfig): GpuNode[] {
  return nodes
    .filter((n) => nodeRefusal(n, c) === undefined)
    .map((n) => {
      const mem = Number(n.metadata.labels?.[GPU_MEMORY_LABEL]);
      return { name: n.metadata.name, gpus: Number(n.status?.allocatable?.[c.gpuResource] ?? 0), memoryMiB: Number.isFinite(mem) && mem > 0 ? mem : undefined };
    });
}

/**
 * GPUs a pod holds, as the scheduler counts them: its containers' limits
 * (for extended resources requests equal limits), sidecars included (our
 * vLLM is one), or an init container's if larger: sidecars run beside every
 * later init container and all the containers.
 */
export function podGpus(p: Pick<KPod, "spec">, resource: string): number {
  const gpus = (c: KContainer) => Number(c.resources?.limits?.[resource] ?? c.resources?.requests?.[resource] ?? 0);
  let sidecars = 0;
  let initPeak = 0;
  for (const c of p.spec.initContainers ?? []) {
    if (c.restartPolicy === "Always") sidecars += gpus(c);
    else initPeak = Math.max(initPeak, sidecars + gpus(c));
  }
  return Math.max(initPeak, sidecars + p.spec.containers.reduce((s, c) => s + gpus(c), 0));
}

/** Another stack of this project that holds GPUs on the eligible nodes. */
export interface Holder {
  stack: string;
  namespace: string;
  gpus: number;
  /** Its pods' names: a holder brought back since (new pods) is a new takeover. */
  pods: string[];
}

export type Placement =
  | { kind: "free"; slots: number }
  | { kind: "takeover"; holders: Holder[]; slots: number }
  | { kind: "short"; slots: number; slotsAfterTakeover: number };

/**
 * Whether `replicas` pods of `tp` GPUs each fit on the eligible nodes: beside
 * what runs, or once other stacks' serving pods are scaled to 0 (as few
 * stacks as needed, in name order), or not at all. This stack's own pods
 * count as free: Recreate removes them first.
 */
export function placement(nodes: readonly GpuNode[], pods: readonly KPod[], c: ClusterConfig, stack: string, tp: number): Placement {
  const names = new Set(nodes.map((n) => n.name));
  const live = pods.filter((p) => p.spec.nodeName && names.has(p.spec.nodeName) && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed" && podGpus(p, c.gpuResource) > 0);
  const ours = (p: KPod) => p.metadata.labels?.[PROJECT_LABEL] === PROJECT_NAME && p.metadata.labels?.[ROLE_LABEL] === "server";
  const slotsWithout = (freed: (p: KPod) => boolean) => {
    const used = new Map<string, number>();
    for (const p of live) if (!freed(p)) used.set(p.spec.nodeName!, (used.get(p.spec.nodeName!) ?? 0) + podGpus(p, c.gpuResource));
    return nodes.reduce((s, n) => s + Math.floor(Math.max(0, n.gpus - (used.get(n.name) ?? 0)) / tp), 0);
  };
  const self = (p: KPod) => ours(p) && p.metadata.labels?.[STACK_LABEL] === stack;
  const slots = slotsWithout(self);
  if (slots >= c.replicas) return { kind: "free", slots };
  const byStack = new Map<string, Holder>();
  for (const p of live.filter((p) => ours(p) && !self(p))) {
    const s = p.metadata.labels![STACK_LABEL];
    const h = byStack.get(s) ?? { stack: s, namespace: p.metadata.namespace, gpus: 0, pods: [] };
    h.gpus += podGpus(p, c.gpuResource);
    h.pods.push(p.metadata.name);
    byStack.set(s, h);
  }
  const holders: Holder[] = [];
  let after = slots;
  for (const h of [...byStack.values()].sort((a, b) => a.stack.localeCompare(b.stack))) {
    holders.push(h);
    after = slotsWithout((p) => self(p) || (ours(p) && holders.some((x) => x.stack === p.metadata.labels?.[STACK_LABEL])));
    if (after >= c.replicas) return { kind: "takeover", holders, slots: after };
  }
  return { kind: "short", slots, slotsAfterTakeover: after };
}

/** The preview's verdict on the nodes: errors (`path: what to do`) refuse the stack before anything is declared. */
export function nodeProblems(nodes: readonly GpuNode[], c: ClusterConfig, tp: number, stack: string, all: readonly KNode[] = []): string[] {
  const where = Object.entries(nodeSelector(c)).map(([k, v]) => `${k}=${v}`).join(",") || "any node";
  if (nodes.length === 0) {
    const why = all.map((n) => `${n.metadata.name}: ${nodeRefusal(n, c)}`).join("; ");
    return [`cluster.nodeSelector: no schedulable node matches ${where} with the tolerations given (${why || "the cluster has no node"}); check \`kubectl get nodes --show-labels\` (stack ${stack})`];
  }
  const big = nodes.filter((n) => n.gpus >= tp);
  if (big.length === 0) {
    const most = Math.max(...nodes.map((n) => n.gpus));
    return [`vllm.tensorParallelSize: ${tp} GPUs per pod, but the nodes matching ${where} have at most ${most} ${c.gpuResource} each (${nodes.map((n) => `${n.name}: ${n.gpus}`).join(", ")}); a pod cannot span nodes: lower it, or select a pool with ${tp}-GPU nodes`];
  }
  const small = big.filter((n) => n.memoryMiB !== undefined && n.memoryMiB < c.gpuMemoryMiB);
  if (small.length > 0) {
    return [`cluster.gpuMemoryMiB: the memory plan is for ${c.gpuMemoryMiB} MiB per GPU, but ${small.map((n) => `${n.name} has ${n.memoryMiB} MiB`).join(", ")} (${GPU_MEMORY_LABEL}); select the larger cards (cluster.gpuProduct or nodeSelector), or plan for the smaller ones`];
  }
  return [];
}

/** One line for the preview: which nodes, and what up will do with other stacks' GPUs. */
export function placementLine(p: Placement, c: ClusterConfig, tp: number): string {
  const want = `${c.replicas} pod(s) of ${tp} ${c.gpuResource}`;
  if (p.kind === "free") return `GPUs: free for ${want} (room for ${p.slots}); other stacks keep running`;
  if (p.kind === "takeover") {
    return `GPUs: ${want} fit only once ${p.holders.map((h) => `stack ${h.stack} (${h.gpus} GPU(s), namespace ${h.namespace})`).join(", ")} stops; up scales its Deployment to 0 after this stack's weights are in place, and keeps it: \`pulumi up --stack ${p.holders[0].stack}\` brings it back`;
  }
  return `GPUs: too few for ${want}: room for ${p.slots} now, ${p.slotsAfterTakeover} even with every other stack stopped; up will fail when the scheduler reports Insufficient ${c.gpuResource}`;
}

/**
 * validate's GPU check on a cluster, the counterpart of nvidia-smi on a
 * Docker host: each of the stack's running pods holds tensorParallelSize
 * GPUs, on a node whose GPUs (nvidia.com/gpu.memory) are at least the size
 * the memory plan is made for. Pure: the pods and nodes as kubectl lists them.
 */
export function gpuPlacementVerdict(pods: readonly KPod[], nodes: readonly KNode[], c: Pick<ClusterConfig, "gpuResource" | "gpuMemoryMiB">, tp: number): { parts: string[]; problems: string[] } {
  const parts: string[] = [];
  const problems: string[] = [];
  const running = pods.filter((p) => p.status?.phase === "Running" && p.spec.nodeName);
  if (running.length === 0) return { parts, problems: ["no running pod"] };
  for (const p of running) {
    const gpus = podGpus(p, c.gpuResource);
    const labels = nodes.find((n) => n.metadata.name === p.spec.nodeName)?.metadata.labels ?? {};
    const mem = Number(labels[GPU_MEMORY_LABEL]);
    const memText = Number.isFinite(mem) && mem > 0 ? `${mem} MiB each` : `no ${GPU_MEMORY_LABEL} label: the plan's ${c.gpuMemoryMiB} MiB unchecked`;
    parts.push(`${p.metadata.name} on ${p.spec.nodeName}: ${gpus} ${c.gpuResource} (${memText})`);
    if (gpus !== tp) problems.push(`${p.metadata.name} holds ${gpus} ${c.gpuResource}, not ${tp} (vllm.tensorParallelSize)`);
    if (Number.isFinite(mem) && mem > 0 && mem < c.gpuMemoryMiB) problems.push(`${p.metadata.name} runs on ${p.spec.nodeName}, whose GPUs have ${mem} MiB, less than the plan's ${c.gpuMemoryMiB} MiB (cluster.gpuMemoryMiB)`);
  }
  return { parts, problems };
}

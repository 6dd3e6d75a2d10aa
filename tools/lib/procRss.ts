/**
 * Peak resident memory of a process tree (this process and everything under
 * it: the pulumi CLI, its plugins, the commands they run), sampled from /proc.
 * The parsing and the bookkeeping are pure; `watchRss` reads /proc.
 */
import { readdir, readFile } from "node:fs/promises";
import { pollEvery } from "./poll";

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** What the process is: its argv[0]'s base name (comm is cut at 15 characters). */
  name: string;
  rssKiB: number;
}

/** The parent pid from /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parsePpid(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(rest[1]);
}

/** VmRSS from /proc/<pid>/status, in KiB (0 for a kernel thread or a zombie). */
export function parseRssKiB(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) : 0;
}

/** argv[0]'s base name from /proc/<pid>/cmdline (NUL-separated). */
export function parseName(cmdline: string): string {
  const argv0 = cmdline.split("\0")[0] ?? "";
  return argv0.split("/").pop() || "?";
}

/** The pids of `root` and all its descendants. */
export function treeOf(procs: readonly ProcInfo[], root: number): ProcInfo[] {
  const children = new Map<number, ProcInfo[]>();
  for (const p of procs) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const stack = procs.filter((p) => p.pid === root);
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p.pid) ?? []));
  }
  return out;
}

/** The kind a process is counted under: node, pulumi, each plugin, or "other" (sh, docker CLI, ...). */
export function kindOf(name: string): string {
  if (name === "node" || name.startsWith("node-")) return "node";
  if (name === "pulumi") return "pulumi";
  if (name.startsWith("pulumi-")) return name;
  return "other (sh, docker CLI, ...)";
}

/** Keeps, over samples, each kind's peak (the sum over its processes) and the peak of the sum of all. */
export class RssPeaks {
  byKind: Record<string, number> = {};
  totalKiB = 0;
  samples = 0;
  add(tree: readonly ProcInfo[]): void {
    const now: Record<string, number> = {};
    for (const p of tree) now[kindOf(p.name)] = (now[kindOf(p.name)] ?? 0) + p.rssKiB;
    for (const [k, v] of Object.entries(now)) this.byKind[k] = Math.max(this.byKind[k] ?? 0, v);
    this.totalKiB = Math.max(this.totalKiB, tree.reduce((a, p) => a + p.rssKiB, 0));
    this.samples++;
  }
}

/** Every process's pid, parent, name and RSS, from /proc. */
export async function readProcs(): Promise<ProcInfo[]> {
  const pids = (await readdir("/proc")).filter((d) => /^\d+$/.test(d));
  const out = await Promise.all(
    pids.map(async (d) => {
      try {
        const [stat, status, cmdline] = await Promise.all([readFile(`/proc/${d}/stat`, "utf8"), readFile(`/proc/${d}/status`, "utf8"), readFile(`/proc/${d}/cmdline`, "utf8")]);
        return { pid: Number(d), ppid: parsePpid(stat), name: parseName(cmdline), rssKiB: parseRssKiB(status) };
      } catch {
        return undefined; // gone between readdir and read
      }
    }),
  );
  return out.filter((p): p is ProcInfo => p !== undefined);
}

/** Samples this process's tree every `everyMs` until stopped. */
export function watchRss(root = process.pid, everyMs = 100): { stop(): Promise<RssPeaks> } {
  const peaks = new RssPeaks();
  const poll = pollEvery(everyMs, async () => {
    peaks.add(treeOf(await readProcs(), root));
  });
  return {
    async stop() {
      await poll.stop();
      return peaks;
    },
  };
}

/**
 * When the first `name` process under `root` ended (epoch ms, to within
 * `everyMs`): e.g. the pulumi CLI of an Automation API `up`, which then runs
 * further pulumi commands of its own.
 */
export function watchExit(name: string, root = process.pid, everyMs = 100): { stop(): Promise<number | undefined> } {
  let pid: number | undefined;
  let endedAt: number | undefined;
  const poll = pollEvery(everyMs, async (t) => {
    const tree = treeOf(await readProcs(), root);
    if (pid === undefined) pid = tree.find((p) => p.name === name)?.pid;
    else if (!tree.some((p) => p.pid === pid)) endedAt = t;
    return endedAt === undefined;
  });
  return {
    async stop() {
      await poll.stop();
      return endedAt;
    },
  };
}

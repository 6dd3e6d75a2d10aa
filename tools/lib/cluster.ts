/**
 * A cluster stack from this machine, for validate and switch: which stacks
 * of the project serve there (their Deployments), and the stack's gateway
 * reached through `kubectl port-forward svc/vllm`, as an operator reaches it
 * without an Ingress. The endpoint output is a name inside the cluster; the
 * tools do not assume this machine can resolve or route it.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import type { ClusterConfig } from "../../components/config/cluster";
import { PROJECT_LABEL, PROJECT_NAME } from "../../components/host/probe";
import { ROLE_LABEL, SERVICE_NAME, STACK_LABEL } from "../../components/kubernetes/pod";
import { kubectlFlags } from "../../components/kubernetes/takeover";
import { answers } from "./outage";

type Where = Pick<ClusterConfig, "kubeconfig" | "context">;

/** How long the outage watch waits before it tries a forward again, while no pod runs. */
const RETRY_MS = 500;

/** A Deployment as `kubectl get deployments -o json` lists it: only what is read here. */
export interface KDeployment {
  metadata: { namespace: string; labels?: Record<string, string> };
  spec?: { replicas?: number };
  status?: { readyReplicas?: number };
}

/**
 * The stacks whose serving Deployment wants pods and has one Ready, in name
 * order, but `except`: the ones a switch rolls back to. A stack scaled to 0
 * by a takeover does not serve. Pure.
 */
export function servingFromDeployments(items: readonly KDeployment[], except?: string): string[] {
  const stacks = items
    .filter((d) => d.metadata.labels?.[PROJECT_LABEL] === PROJECT_NAME && d.metadata.labels?.[ROLE_LABEL] === "server")
    .filter((d) => (d.spec?.replicas ?? 1) > 0 && (d.status?.readyReplicas ?? 0) > 0)
    .map((d) => d.metadata.labels![STACK_LABEL])
    .filter((s) => s && s !== except);
  return [...new Set(stacks)].sort();
}

/** `kubectl get ... -o json` on the stack's cluster; a failure is kubectl's own first line. */
export function kubectlJson<T>(c: Where, args: string[]): T {
  try {
    const out = execFileSync("kubectl", [...kubectlFlags(c), "get", ...args, "-o", "json", "--request-timeout=15s"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
    return JSON.parse(out) as T;
  } catch (e) {
    const said = `${(e as { stderr?: string }).stderr ?? ""}`.trim() || (e as Error).message;
    throw new Error(`kubectl get ${args[0]} failed on ${c.context ?? c.kubeconfig}: ${said.split("\n")[0]}`);
  }
}

/** The stacks of this project serving on the cluster (kubectl, all namespaces). */
export function servingClusterStacks(c: Where, except?: string): string[] {
  const list = kubectlJson<{ items: KDeployment[] }>(c, ["deployments", "--all-namespaces", "-l", `${PROJECT_LABEL}=${PROJECT_NAME},${ROLE_LABEL}=server`]);
  return servingFromDeployments(list.items, except);
}

/** The local port in kubectl's "Forwarding from 127.0.0.1:40123 -> 5002", or undefined. Pure. */
export function forwardedPort(line: string): number | undefined {
  const m = /^Forwarding from 127\.0\.0\.1:(\d+) -> \d+/m.exec(line);
  return m ? Number(m[1]) : undefined;
}

/** A running `kubectl port-forward`: its local URL, whether kubectl still runs, and how to stop it. */
export interface Forward {
  /** e.g. http://127.0.0.1:40123: the cluster's gateway speaks HTTP (TLS is the Ingress's). */
  url: string;
  port: number;
  alive(): boolean;
  close(): void;
}

/**
 * Forwards a free local port to the stack's Service. kubectl picks one Ready
 * pod behind it and ends when that pod goes: `alive()` says so. Rejects with
 * kubectl's own reason (no such Service, no running pod, no cluster) within
 * `timeoutMs`.
 */
export function openForward(c: Where, namespace: string, port: number, timeoutMs = 15_000): Promise<Forward> {
  const args = [...kubectlFlags(c), "-n", namespace, "port-forward", "--address", "127.0.0.1", `svc/${SERVICE_NAME}`, `:${port}`];
  const child: ChildProcess = spawn("kubectl", args, { stdio: ["ignore", "pipe", "pipe"] });
  let said = "";
  let exited = false;
  child.on("exit", () => (exited = true));
  const close = () => {
    if (!exited) child.kill();
  };
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      close();
      reject(new Error(`kubectl -n ${namespace} port-forward svc/${SERVICE_NAME} :${port}: ${why}`));
    };
    const timer = setTimeout(() => fail(`no forward after ${timeoutMs / 1000} s${said.trim() ? ` (${said.trim().split("\n")[0]})` : ""}`), timeoutMs);
    child.on("error", (e) => fail(e.message));
    child.on("exit", (code) => fail(said.trim().split("\n").find((l) => l.startsWith("error")) ?? said.trim().split("\n")[0] ?? `exited with ${code}`));
    child.stderr!.on("data", (d) => (said += String(d)));
    let out = "";
    child.stdout!.on("data", (d) => {
      out += String(d);
      const local = forwardedPort(out);
      if (local === undefined) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.on("exit", () => (exited = true));
      // Past this point its chatter ("Handling connection for ...") is not read.
      child.stdout!.resume();
      resolve({ url: `http://127.0.0.1:${local}`, port: local, alive: () => !exited, close });
    });
  });
}

/**
 * Does the stack's Service answer /health, as a client through a forward
 * sees it? For the switch's outage watch: a forward is opened on demand and
 * opened again once its pod is gone (a takeover, a rollback), so a new pod
 * counts as soon as it is Ready.
 */
export function serviceProbe(c: Where, namespace: string, port: number): { answers(): Promise<boolean>; close(): void } {
  let fwd: Forward | undefined;
  let opening: Promise<Forward | undefined> | undefined;
  // While no pod runs, kubectl fails at once: one try each half second, not one per probe (every 100 ms).
  let nextTry = 0;
  return {
    async answers() {
      if (!fwd?.alive()) {
        fwd = undefined;
        if (!opening && Date.now() < nextTry) return false;
        opening ??= openForward(c, namespace, port, 3000).catch(() => undefined);
        fwd = await opening;
        opening = undefined;
        if (!fwd) {
          nextTry = Date.now() + RETRY_MS;
          return false;
        }
      }
      const ok = await answers(fwd.port);
      // A forward whose pod stopped answering may still run: drop it, so the next try picks a Ready pod.
      if (!ok) {
        fwd.close();
        fwd = undefined;
      }
      return ok;
    },
    close: () => fwd?.close(),
  };
}

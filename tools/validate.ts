/**
 * npm run validate -- --stack <name> [--requests 20] [--concurrency 4] [--json FILE]
 *
 * The old runbook's five criteria, run instead of read: the server answers
 * /health, refuses every route without the key (vLLM's own check covers
 * only /v1; the gateway covers the rest), lists its model, a chat gets an answer, a vision profile takes
 * an image, N requests all succeed (p50/p95/max), each GPU's memory is within
 * the profile's budget (nvidia-smi on the host), and the container has not
 * restarted. Exits non-zero on any failure.
 *
 * The endpoint and container come from the stack's outputs when the engine
 * has deployed it, else from its validated config; the API key from
 * MYIA_API_KEY, else from the stack's encrypted config.
 */
import { clientFromOutputs } from "./lib/client";
import { clusterNamespace } from "../components/config/cluster";
import { DEPLOYMENT_NAME, selectorLabels, SERVICE_NAME } from "../components/kubernetes/pod";
import { Forward, kubectlJson, openForward } from "./lib/cluster";
import { gpuPlacementVerdict, KNode, KPod } from "../components/kubernetes/capacity";
import { gatewayScheme } from "../components/gateway/render";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { ValidatedProfile } from "../components/config/schema";
import { toolFailure } from "../components/host/checks";
import { gpuMemoryVerdict } from "../components/host/gpuBudget";
import { parseProbe, probeScript } from "../components/host/probe";
import { sshFault, sshShellArgv, sshTarget } from "../components/host/ssh";
import { GUARDED_PREFIX, UNGUARDED_ROUTES } from "../components/vllm/routes";
import { parseCli } from "./lib/cli";
import { pngDataUrl, solidPng } from "./lib/png";
import { LatencySummary, pool, summarize } from "./lib/stats";
import { loadStack, REPO } from "./lib/stacks";

export interface Target {
  stack: string;
  profile: ValidatedProfile;
  /** Base URL of the server, without /v1. */
  baseUrl: string;
  apiKey: string;
  containerName: string;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface Report {
  stack: string;
  ok: boolean;
  checks: Check[];
  latencyMs?: LatencySummary;
}

async function getJson(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(120_000) });
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: r.status, body };
}

function chatBody(t: Target, content: unknown) {
  return JSON.stringify({ model: t.profile.model.servedName ?? t.profile.model.id, messages: [{ role: "user", content }], max_tokens: 32, temperature: 0 });
}

/** Runs nvidia-smi (through the host probe) and `docker inspect` where the container runs. */
export interface HostAccess {
  probe(): string;
  restartCount(containerName: string): { running: boolean; restarts: number };
  /** On a cluster: each pod's GPUs and their nodes, against the plan (replaces nvidia-smi's check). */
  placement?(): { parts: string[]; problems: string[] };
}

export function hostAccess(p: ValidatedProfile): HostAccess {
  const ssh = sshTarget(p.host.docker);
  const env = { ...process.env, DOCKER_HOST: p.host.docker };
  // Over ssh, a failure of ssh itself (ours, or the one docker starts) is said in one line.
  const run = (file: string, args: string[], input?: string): string => {
    try {
      return execFileSync(file, args, { input, encoding: "utf8", env, stdio: ["pipe", "pipe", "pipe"] });
    } catch (e) {
      const out = `${(e as { stderr?: string }).stderr ?? ""}${(e as Error).message}`;
      const fault = ssh && sshFault(ssh, out);
      // Docker itself unreachable or refused: the probe's line, with what to do.
      const dockerFault = file === "docker" && /Cannot connect to the Docker daemon|permission denied while trying to connect|not found/.test(out) ? toolFailure("docker", out, ssh?.user) : undefined;
      throw new Error(fault || dockerFault || (out.trim().split("\n").find((l) => l.trim()) ?? "failed"));
    }
  };
  // With standby, the probe also asks each model whether it sleeps: a sleeping peer's leftover is in our GPUs' budget.
  const script = probeScript(undefined, { standby: p.standby !== undefined });
  return {
    probe: () => (ssh ? run("ssh", sshShellArgv(ssh), script) : run("/bin/sh", ["-c", script])),
    restartCount: (name) => {
      const out = run("docker", ["inspect", "-f", "{{.State.Running}} {{.RestartCount}}", name]).trim().split(" ");
      return { running: out[0] === "true", restarts: Number(out[1]) };
    },
  };
}

/**
 * On a cluster: the pods' restarts, and where their GPUs are (the pods and
 * their nodes' labels), through kubectl with the stack's own
 * kubeconfig/context. The GPUs belong to the device plugin there: nvidia-smi
 * is not asked.
 */
export function clusterAccess(p: ValidatedProfile, stack: string): HostAccess {
  const c = p.cluster!;
  const pods = () => kubectlJson<{ items: (KPod & { status?: { initContainerStatuses?: Restarts[]; containerStatuses?: Restarts[] } })[] }>(c, ["pods", "-n", clusterNamespace(c, stack), "-l", Object.entries(selectorLabels(stack)).map(([k, v]) => `${k}=${v}`).join(",")]).items;
  return {
    probe: () => "",
    restartCount: () => {
      const all = pods();
      const restarts = all.flatMap((x) => [...(x.status?.initContainerStatuses ?? []), ...(x.status?.containerStatuses ?? [])]).reduce((a, s) => a + s.restartCount, 0);
      return { running: all.length > 0 && all.every((x) => x.status?.phase === "Running"), restarts };
    },
    placement: () => gpuPlacementVerdict(pods(), kubectlJson<{ items: KNode[] }>(c, ["nodes"]).items, c, p.vllm.tensorParallelSize),
  };
}

type Restarts = { restartCount: number };

/** Where the restarts (and, on a Docker host, the GPUs) of a stack are read. */
export const accessFor = (p: ValidatedProfile, stack: string): HostAccess => (p.cluster ? clusterAccess(p, stack) : hostAccess(p));

/** The name validate reports restarts under: the container, or the cluster's Deployment. */
export const servingName = (p: ValidatedProfile, stack: string): string =>
  p.cluster ? `deployment ${DEPLOYMENT_NAME} (namespace ${clusterNamespace(p.cluster, stack)})` : p.server.containerName;

/** A local port forwarded to a cluster stack's Service (its gateway), and what it goes through. */
export async function openClusterForward(stack: string, p: ValidatedProfile): Promise<Forward & { via: string }> {
  const ns = clusterNamespace(p.cluster!, stack);
  const f = await openForward(p.cluster!, ns, p.server.port);
  return { ...f, via: `kubectl port-forward svc/${SERVICE_NAME} in namespace ${ns}` };
}

/**
 * A failed check's reason, whole: fetch says only "fetch failed" and keeps
 * why (a refused connection, a certificate it does not trust, plain HTTP
 * on a TLS port) in its cause.
 */
export function failureText(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause;
  if (!cause) return err.message;
  const code = cause.code ? `${cause.code}: ` : "";
  // OpenSSL's own line, shortened to its reason ("wrong version number").
  const what = (cause.message ?? "").split("\n")[0].replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):.*$/, "$1");
  const hint =
    cause.code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" || cause.code === "SELF_SIGNED_CERT_IN_CHAIN" || cause.code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
      ? " (the gateway's CA is not trusted: deploy through the engine, whose caCertificate output validate trusts, or pass --url)"
      : /wrong version number|packet length too long/i.test(cause.message ?? "")
        ? " (the port speaks plain HTTP: pass --url http://...)"
        : "";
  return `${err.message}: ${code}${what}${hint}`;
}

export async function validate(t: Target, host: HostAccess, opts: { requests: number; concurrency: number; log: (line: string) => void }): Promise<Report> {
  const checks: Check[] = [];
  const headers = { "content-type": "application/json", authorization: `Bearer ${t.apiKey}` };
  const record = async (name: string, run: () => Promise<string>) => {
    opts.log(`${name} ...`);
    try {
      const detail = await run();
      checks.push({ name, ok: true, detail });
      opts.log(`${name}: ok (${detail})`);
    } catch (e) {
      const why = failureText(e);
      checks.push({ name, ok: false, detail: why });
      opts.log(`${name}: FAILED (${why})`);
    }
  };
  const served = t.profile.model.servedName ?? t.profile.model.id;
  let latencyMs: LatencySummary | undefined;

  await record("health", async () => {
    const r = await fetch(`${t.baseUrl}/health`, { signal: AbortSignal.timeout(10_000) });
    if (r.status !== 200) throw new Error(`/health answered ${r.status}`);
    return "/health 200";
  });
  await record("no key, no answer", async () => {
    // vLLM guards only /v1 (components/vllm/routes.ts): each of these runs
    // without the key unless a gateway refuses it.
    const answered: string[] = [];
    for (const r of UNGUARDED_ROUTES) {
      const res = await fetch(`${t.baseUrl}${r.path}`, { method: r.method, headers: { "content-type": "application/json" }, body: r.body === undefined ? undefined : JSON.stringify(r.body), signal: AbortSignal.timeout(30_000) });
      await res.arrayBuffer();
      if (![401, 403, 404, 405].includes(res.status)) answered.push(`${r.method} ${r.path} ${res.status} (${r.gives})`);
    }
    const v1 = await fetch(`${t.baseUrl}${GUARDED_PREFIX}/models`, { signal: AbortSignal.timeout(10_000) });
    await v1.arrayBuffer();
    if (v1.status !== 401) answered.push(`GET ${GUARDED_PREFIX}/models ${v1.status}`);
    if (answered.length > 0) throw new Error(`answered without the key: ${answered.join("; ")}; deploy with the gateway (gateway.enabled: true) so only /health and /v1/* with the key are served`);
    return `${UNGUARDED_ROUTES.length + 1} routes refused without the key`;
  });
  await record("models", async () => {
    const r = await getJson(`${t.baseUrl}/v1/models`, { headers });
    const ids = (r.body?.data ?? []).map((m: { id: string }) => m.id);
    if (r.status !== 200 || !ids.includes(served)) throw new Error(`/v1/models answered ${r.status} listing ${JSON.stringify(ids)}, not ${served}`);
    return `lists ${served}`;
  });
  await record("chat", async () => {
    const r = await getJson(`${t.baseUrl}/v1/chat/completions`, { method: "POST", headers, body: chatBody(t, "Reply with one short sentence.") });
    const content = r.body?.choices?.[0]?.message?.content;
    if (r.status !== 200 || typeof content !== "string" || content.length === 0) throw new Error(`answered ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
    return `"${content.slice(0, 60)}"`;
  });
  if (t.profile.vision) {
    await record("vision", async () => {
      const image = { type: "image_url", image_url: { url: pngDataUrl(solidPng(64, 64, [220, 20, 20])) } };
      const r = await getJson(`${t.baseUrl}/v1/chat/completions`, { method: "POST", headers, body: chatBody(t, [{ type: "text", text: "What colour is this square? One word." }, image]) });
      const content = r.body?.choices?.[0]?.message?.content;
      if (r.status !== 200 || typeof content !== "string") throw new Error(`answered ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
      // A real model must name the colour; the stand-in only proves the request was accepted.
      if (content.includes("[vllm stand-in]")) return `accepted by the stand-in: "${content.slice(0, 60)}"`;
      if (!/red/i.test(content)) throw new Error(`the answer does not name the red square: "${content.slice(0, 80)}"`);
      return `names the colour: "${content.slice(0, 40)}"`;
    });
  }
  await record(`load (${opts.requests} requests, ${opts.concurrency} at once)`, async () => {
    const results = await pool(opts.requests, opts.concurrency, async () => {
      const started = performance.now();
      const r = await getJson(`${t.baseUrl}/v1/chat/completions`, { method: "POST", headers, body: chatBody(t, "Count to three.") });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      return performance.now() - started;
    });
    const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    latencyMs = summarize(results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : [])));
    const figures = `p50 ${latencyMs.p50?.toFixed(0)} ms, p95 ${latencyMs.p95?.toFixed(0)} ms, max ${latencyMs.max?.toFixed(0)} ms`;
    if (failed.length > 0) throw new Error(`${failed.length} of ${opts.requests} failed (first: ${(failed[0].reason as Error).message}); ${figures}`);
    return `0 failures; ${figures}`;
  });
  if (!t.profile.cluster) await record("GPU memory", async () => {
    const probe = parseProbe(host.probe());
    const nvsmi = probe.failures.find((f) => f.section === "gpus");
    if (nvsmi) throw new Error(toolFailure("nvidia-smi", nvsmi.output, sshTarget(t.profile.host.docker)?.user));
    const { parts, problems } = gpuMemoryVerdict(probe, {
      stack: t.stack,
      gpus: t.profile.host.gpus,
      gpuMemoryUtilization: t.profile.vllm.gpuMemoryUtilization,
      standbyLeftoverMiB: t.profile.standby?.leftoverMiB,
    });
    if (problems.length > 0) throw new Error(problems.join("; "));
    return parts.join(", ");
  });
  if (host.placement) {
    const placement = host.placement;
    await record("GPUs", async () => {
      const { parts, problems } = placement();
      if (problems.length > 0) throw new Error(problems.join("; "));
      return parts.join(", ");
    });
  }
  await record("restarts", async () => {
    const { running, restarts } = host.restartCount(t.containerName);
    if (!running || restarts !== 0) throw new Error(`${t.containerName}: ${running ? "running" : "not running"}, ${restarts} restart(s)`);
    return `${t.containerName} running, 0 restarts`;
  });
  return { stack: t.stack, ok: checks.every((c) => c.ok), checks, latencyMs };
}

export function formatReport(r: Report): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const rows = r.checks.map((c) => `  ${c.name.padEnd(width)}  ${c.ok ? "ok    " : "FAILED"}  ${c.detail}`);
  return [`validate ${r.stack}: ${r.ok ? "PASSED" : "FAILED"}`, ...rows].join("\n");
}

/** The stack's endpoint and API key: from the engine's outputs when deployed, else from config. */
async function resolveTarget(stack: string, dir: string, url?: string): Promise<Target> {
  const profile = loadStack(stack, dir);
  let baseUrl = `${gatewayScheme(profile)}://${profile.host.address}:${profile.server.port}`;
  let containerName = servingName(profile, stack);
  let apiKey = process.env.MYIA_API_KEY;
  try {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const s = await LocalWorkspace.selectStack({ stackName: stack, workDir: dir });
    const outputs = await s.outputs();
    // Trusts the stack's CA, so every check below verifies the certificate.
    const client = clientFromOutputs(outputs);
    if (outputs.endpoint) baseUrl = client.baseUrl;
    if (outputs.containerName) containerName = String(outputs.containerName.value);
    apiKey ??= client.apiKey;
  } catch {
    // No engine, backend or stack here: the validated config says where the server is.
  }
  if (url) baseUrl = url.replace(/\/+$/, "").replace(/\/v1$/, "");
  if (!apiKey) throw new Error(`no API key: set MYIA_API_KEY, or select a backend where stack ${stack} is deployed (its clientKeys output)`);
  return { stack, profile, baseUrl, apiKey, containerName };
}

const USAGE = `usage: npm run validate -- --stack <name> [--requests 20] [--concurrency 4] [--json FILE] [--dir <project>] [--url URL]

Checks a deployed stack: /health, that no route answers without the key (vLLM's unguarded
routes, /v1/models), /v1/models, a chat, an image (vision profiles), N requests
(p50/p95/max), each GPU's memory against its budget (nvidia-smi on the host), restarts.
The endpoint comes from --url, else the stack's outputs (which also give the CA to trust), else its
config; the key from MYIA_API_KEY, else the stack's clientKeys output.
  --stack, -s <name>    the stack (required)
  --requests <n>        requests in the load check (default 20)
  --concurrency <n>     at once (default 4)
  --json <file>         also write the report as JSON
  --dir <project>       the project folder with the stack files (default: the repo)
  --url <url>           the server to check, e.g. http://127.0.0.1:5002 for one not deployed by
                        this tool (the old compose's); NODE_EXTRA_CA_CERTS for a CA of your own
Over ssh (host.docker ssh://user@host), nvidia-smi and docker run on the box, with the options
of the deploy (BatchMode, StrictHostKeyChecking=yes, ConnectTimeout=10).
On a cluster stack (cluster: in its config), validate reaches the gateway through
\`kubectl port-forward svc/vllm\` (the stack's kubeconfig/context and namespace) unless --url is
given (an Ingress, a load balancer); the restarts are the pods' (kubectl); instead of nvidia-smi,
the GPU check reads each pod's GPUs and its node's nvidia.com/gpu.memory label against the plan.
Exit: 0 passed, 1 a check failed, 2 usage or no target.`;

async function main(argv = process.argv.slice(2)): Promise<number> {
  const values = parseCli(argv, { stack: { type: "string", short: "s" }, requests: { type: "string", default: "20" }, concurrency: { type: "string", default: "4" }, json: { type: "string" }, dir: { type: "string", default: REPO }, url: { type: "string" } }, USAGE);
  if (typeof values === "number") return values;
  if (!values.stack) {
    console.error(`--stack is required\n${USAGE.split("\n")[0]}`);
    return 2;
  }
  const target = await resolveTarget(values.stack, resolve(values.dir), values.url);
  // A cluster's endpoint is a name inside the cluster: without --url, validate forwards a local port to the stack's Service.
  const forward = target.profile.cluster && !values.url ? await openClusterForward(values.stack, target.profile) : undefined;
  if (forward) target.baseUrl = forward.url;
  const started = Date.now();
  const log = (line: string) => console.log(`[validate ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);
  log(`${values.stack}: ${target.profile.model.id} at ${target.baseUrl}${forward ? ` (${forward.via})` : ""}, container ${target.containerName}`);
  let report: Report;
  try {
    report = await validate(target, accessFor(target.profile, values.stack), { requests: Number(values.requests), concurrency: Number(values.concurrency), log });
  } finally {
    forward?.close();
  }
  console.log(`\n${formatReport(report)}`);
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      console.error(`validate: ${e.message}`);
      process.exitCode = 2;
    },
  );
}

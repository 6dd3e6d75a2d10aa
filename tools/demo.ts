/**
 * npm run demo [-- --down]
 *
 * The main job on a machine without a GPU: on a local stand-in GPU host, deploy
 * medium, switch to medium-vl, validate it with an image, switch back, and
 * print each step's timing and the final state. Idempotent: a second run
 * reuses the containers whose settings have not changed.
 *
 * What is real: dockerd, the host probe and its checks, the container settings
 * VllmService declares (components/containerSpec), the health gate `pulumi up`
 * runs, HTTP. What is not: vLLM (a stand-in image), and the Pulumi engine (the
 * docker and command plugins cannot be built here; see the README).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ValidatedProfile } from "../components/config/schema";
import { configHash, imageRef } from "../components/containerSpec";
import { checkHost, gpuLease } from "../components/host/checks";
import { parseProbe, PROBE_SCRIPT, PROJECT_LABEL, PROJECT_NAME } from "../components/host/probe";
import { takeoverScript } from "../components/takeover";
import { prefetchWeightsScript } from "../components/weights";
import { readyGateScript } from "../components/readyGate";
import { createAndStart, docker, inspect, remove, start } from "./lib/dockerApi";
import { answers, watchOutage } from "./lib/outage";
import { loadStack } from "./lib/stacks";
import { formatReport, hostAccess, validate } from "./validate";

const HOST = "local";
const STATE = join(process.env.MYIA_CACHE ?? join(homedir(), ".cache", "myia-vllm"), "demo");
// The stand-in's simulated load and first-download times (seconds).
const LOAD_SECONDS = Number(process.env.STANDIN_LOAD_SECONDS ?? 5);
const DOWNLOAD_SECONDS = Number(process.env.STANDIN_DOWNLOAD_SECONDS ?? 4);

const t0 = Date.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const step = (msg: string) => console.log(`[${secs(Date.now() - t0).padStart(6)}] ${msg}`);

function secrets(): { apiKey: string; hfToken: string } {
  const file = join(STATE, "secrets.json");
  if (!existsSync(file)) {
    mkdirSync(STATE, { recursive: true });
    writeFileSync(file, JSON.stringify({ apiKey: `sk-demo-${randomBytes(12).toString("hex")}`, hfToken: `hf_demo${randomBytes(12).toString("hex")}` }), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, "utf8"));
}

/** The committed profile, with the host paths moved under the demo's cache (this is not the GPU host). */
function profile(stack: string): ValidatedProfile {
  const p = loadStack(stack);
  p.host.hfCachePath = join(STATE, "hf-cache");
  p.host.compileCachePath = join(STATE, "vllm-cache");
  return p;
}

function probeHost(p: ValidatedProfile, stack: string): void {
  const out = execFileSync("/bin/sh", ["-c", PROBE_SCRIPT], { encoding: "utf8" });
  const probe = parseProbe(out);
  const { errors, notes } = checkHost(probe, { stack, gpus: p.host.gpus, gpuMemoryUtilization: p.vllm.gpuMemoryUtilization, plannedGpuMemoryMiB: p.host.gpuMemoryMiB });
  step(`host probe: ${probe.gpus.map((g) => `GPU ${g.index} ${g.name} ${g.memoryTotalMiB} MiB`).join(", ")}; runtimes ${probe.runtimes.join(",")}`);
  for (const n of notes) step(`  note: ${n}`);
  if (errors.length > 0) throw new Error(`host checks failed:\n  ${errors.join("\n  ")}`);
}


function gate(p: ValidatedProfile): void {
  const r = spawnSync("/bin/sh", ["-c", readyGateScript({ containerName: p.server.containerName, port: p.server.port, timeoutSeconds: 120 })], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
}

/** Starts the stack's container: reuses it when its settings are unchanged, else replaces it. */
async function deploy(stack: string, p: ValidatedProfile, s: { apiKey: string; hfToken: string }): Promise<string> {
  const existing = await inspect(p.server.containerName);
  if (existing && existing.Config.Labels["org.myia.config-hash"] === configHash(p, stack)) {
    if (existing.State.Running) return "reused (running, unchanged)";
    await start(p.server.containerName);
    return "restarted the kept container";
  }
  if (existing) await remove(p.server.containerName);
  await createAndStart(p, { stack, lease: gpuLease(HOST, p.host.gpus), ...s, extraEnv: [`STANDIN_LOAD_SECONDS=${LOAD_SECONDS}`, `STANDIN_DOWNLOAD_SECONDS=${DOWNLOAD_SECONDS}`] });
  return existing ? "replaced (settings changed)" : "created";
}

/** The takeover step `pulumi up` runs: stops (and keeps) other stacks' containers on our GPUs. */
function takeGpus(stack: string, p: ValidatedProfile): string[] {
  const r = spawnSync("/bin/sh", ["-c", takeoverScript({ stack, gpus: p.host.gpus, stopTimeoutSeconds: 5 })], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`taking the GPUs over failed:\n${r.stderr}`);
  return r.stdout.trim().split("\n").filter(Boolean);
}

async function switchTo(stack: string, s: { apiKey: string; hfToken: string }): Promise<void> {
  const p = profile(stack);
  step(`== ${stack}: ${p.model.id} on vLLM ${p.vllmVersion}, port ${p.server.port}`);
  probeHost(p, stack);
  const image = await docker("GET", `/images/${encodeURIComponent(`${p.image.repository}:${p.image.tag}`)}/json`);
  if (image.status !== 200) throw new Error(`image ${p.image.repository}:${p.image.tag} is not on the host`);
  step(`image ${p.image.repository}:${p.image.tag} in place (stand-in)`);
  const tFetch = Date.now();
  const fetched = spawnSync("/bin/sh", ["-c", prefetchWeightsScript({ image: imageRef(p), model: p.model.id, hfCachePath: p.host.hfCachePath })], {
    encoding: "utf8",
    env: { ...process.env, HF_TOKEN: s.hfToken, STANDIN_DOWNLOAD_SECONDS: String(DOWNLOAD_SECONDS) },
  });
  if (fetched.status !== 0) throw new Error(`fetching the weights failed:\n${fetched.stderr}`);
  step(`weights in the cache (${/Using cached weights/.test(fetched.stdout) ? "already there" : "downloaded"}) in ${secs(Date.now() - tFetch)}, before anything is stopped`);
  const tStop = Date.now();
  const outage = watchOutage([5002, 5003]);
  const stopped = takeGpus(stack, p);
  for (const line of stopped) step(line);
  const how = await deploy(stack, p, s);
  gate(p);
  const tReady = Date.now();
  const downMs = await outage.stop();
  step(`${p.server.containerName}: ${how}; healthy after ${secs(tReady - tStop)}; no model answered for ${secs(downMs)} (probed every 100 ms; stand-in load time ${LOAD_SECONDS}s)`);
  const report = await validate({ stack, profile: p, baseUrl: `http://127.0.0.1:${p.server.port}`, apiKey: s.apiKey, containerName: p.server.containerName }, hostAccess(p), {
    requests: 20,
    concurrency: 4,
    log: () => undefined,
  });
  console.log(formatReport(report).replace(/^/gm, "           "));
  if (!report.ok) throw new Error(`validation of ${stack} failed`);
}

async function finalState(): Promise<void> {
  const filter = encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${PROJECT_NAME}`] }));
  const { body } = await docker<{ Names: string[]; State: string; Status: string; Labels: Record<string, string> }[]>("GET", `/containers/json?all=1&filters=${filter}`);
  console.log("\nfinal state:");
  for (const c of body) console.log(`  ${c.Labels["org.myia.stack"].padEnd(10)} ${c.Names[0].replace(/^\//, "").padEnd(28)} ${c.State.padEnd(8)} ${c.Status}`);
  for (const stack of ["medium", "medium-vl"]) {
    const p = profile(stack);
    console.log(`  ${stack.padEnd(10)} http://localhost:${p.server.port}/v1 ${(await answers(p.server.port)) ? "answers" : "does not answer"}`);
  }
}

async function main(): Promise<void> {
  console.log("myia-vllm demo: a STAND-IN GPU host. The model server is a stand-in for vLLM (no GPU, no weights);");
  console.log("containers get the settings the Pulumi program declares, applied through the Docker API, because");
  console.log("the docker and command Pulumi plugins cannot be built on this machine (see README).\n");
  if (process.argv.includes("--down")) {
    for (const stack of ["medium", "medium-vl"]) await remove(profile(stack).server.containerName);
    step(`removed the demo's containers; kept the caches in ${STATE} and the images`);
    return;
  }
  const s = secrets();
  await switchTo("medium", s);
  await switchTo("medium-vl", s);
  await switchTo("medium", s);
  await finalState();
  step("done");
}

main().catch((e: Error) => {
  console.error(`demo failed: ${e.message}`);
  process.exitCode = 1;
});

/**
 * npm run bench [-- --runs 3 --download 20 --load 10 --json FILE --chart FILE --short]
 *
 * A model switch, medium -> medium-vl and back, by the old Compose procedure
 * and by ours, on the same stand-in GPU host, in one run:
 *   - compose (old timings): the old layout (base file + one file per
 *     profile + .env), `down` the old profile, `up -d --force-recreate --wait`
 *     the new one, with the old healthcheck (30 s interval, 300 s start period);
 *     the new container downloads its weights itself once the old one stopped;
 *   - compose (our timings): the same, with our stacks' healthcheck timings;
 *   - pulumi up --stack <target>, through the engine (Automation API, inline);
 *   - npm run switch (tools/switch.ts): preview, up, validate.
 * Each run starts from a fresh HF cache and fresh stacks: the migration is
 * cold (download D, load L), the rollback warm. Both ports are probed every
 * 100 ms. It prints a table of medians (min–max), the goals as ratios, writes
 * JSON and a timeline chart (SVG, Vega-Lite). It exits 0 when it ran, whatever
 * the timings; 1 when a procedure failed; 2 on a usage error or a busy host.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, release, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import type { ValidatedProfile } from "../components/config/schema";
import { networkName } from "../components/docker/gateway/spec";
import { gatewayLatency } from "./lib/benchGateway";
import { clientFromOutputs } from "./lib/client";
import { composeArgs, composeBaseFile, composeEnvFile, composeProfileFile, OLD_TIMINGS, type HealthTimings } from "./lib/benchCompose";
import {
  chartSpec,
  type EventMark,
  firstUpOf,
  formatGoals,
  formatSteps,
  formatTable,
  goals,
  intervalsOf,
  type BenchResult,
  type Phase,
  type PhaseRun,
  type Procedure,
  PROCEDURES,
  type RotationRun,
  type Sample,
  type Step,
  stepsOf,
} from "./lib/benchReport";
import { parseCli } from "./lib/cli";
import { engineFailure, localBackendEnv, programStack } from "./lib/engine";
import { answers, watchOutage } from "./lib/outage";
import { streamWorkload } from "./lib/streams";
import { describePlugins, missingPlugins } from "./lib/plugins";
import { watchExit, watchRss } from "./lib/procRss";
import { loadStack, REPO, standbyOn } from "./lib/stacks";

const USAGE = `usage: npm run bench [-- --runs 3 --download 20 --load 10 --wake 1 --json FILE --chart FILE --short]

A model switch medium -> medium-vl (cold cache) and back (warm), by the old Compose procedure
(old healthcheck timings, then ours) and by ours (pulumi up through the engine, npm run switch),
and with standby (the other model asleep: a switch is a wake), on the local stand-in GPU host. Prints medians (min–max) and the goals, writes JSON and a chart.
  --runs <n>        runs of each procedure (default 3)
  --download <s>    the stand-in's first download, seconds (default 20)
  --load <s>        the stand-in's load time, seconds (default 10)
  --wake <s>        the stand-in's wake from sleep mode, seconds (default 1; vLLM's blog: 2.9 s
                    against a 47 s load for a 30B model)
  --json <file>     where the results go (default: bench.json in the run's temp folder)
  --chart <file>    the timeline chart, SVG (default: docs/bench-timeline.svg; with --short, the temp folder)
  --only <list>     some of: ${PROCEDURES.join(",")} (default: all)
  --short           CI mode: 1 run, D = 2, L = 2, W = 0.5 (flags given after it still apply)
  --help            this text
It uses the daemon's containers myia_vllm-medium-qwen3 and myia_vllm-medium-vl-qwen3 (ports 5002,
5003), and refuses to start while either exists. Exit: 0 ran (whatever the timings), 1 a procedure
failed, 2 usage or busy host.`;

const MEDIUM = "medium";
const VL = "medium-vl";
const t0 = Date.now();
const log = (line: string) => console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${line}`);

// ---- processes -------------------------------------------------------------

interface Ran {
  code: number;
  out: string;
}

/** A command, asynchronously (the probes keep running), its output kept. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; onLine?: (line: string) => void } = {}): Promise<Ran> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env });
    let out = "";
    let partial = "";
    const take = (d: Buffer) => {
      out += d;
      partial += d;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) opts.onLine?.(l);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("error", (e) => done({ code: -1, out: `${out}\n${e.message}` }));
    child.on("close", (code) => done({ code: code ?? -1, out }));
  });
}

async function must(cmd: string, args: string[], opts: Parameters<typeof run>[2] = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.code}:\n${r.out.trim().split("\n").slice(-20).join("\n")}`);
  return r.out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitAnswers(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await answers(port))) {
    if (Date.now() > deadline) throw new Error(`nothing answered on port ${port} within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

const exists = (name: string) => spawnSync("docker", ["inspect", "-f", "{{.State.Status}}", name], { encoding: "utf8" });

async function removeContainers(names: string[]): Promise<void> {
  for (const n of names) if (exists(n).status === 0) await run("docker", ["rm", "-f", n]);
}

async function downloadedWeights(container: string): Promise<boolean> {
  const r = await run("docker", ["logs", container]);
  if (r.code !== 0) throw new Error(`docker logs ${container}: ${r.out.trim()}`);
  return r.out.includes("Downloading weights");
}

// ---- setup -----------------------------------------------------------------

/**
 * What `npm run demo` sets up: the pulumi CLI, the plugins, the Compose v2
 * plugin, dockerd with the stand-in GPU runtime and the stand-in images;
 * then this process's PATH is the toolchain's, with the fake nvidia-smi first.
 */
function bootstrap(): void {
  const script = `set -uo pipefail
source scripts/toolchain.sh
toolchain_node >&2 || exit 1
toolchain_pulumi >&2 || { echo "bench: the pulumi CLI could not be had" >&2; exit 1; }
toolchain_plugins >&2 || { for m in "\${_tc_missing[@]}"; do echo "bench: MISSING $m" >&2; done; exit 1; }
source scripts/compose.sh
toolchain_compose >&2 || { echo "bench: docker compose v2 could not be had" >&2; exit 1; }
bash scripts/dockerd.sh start >&2 || exit 1
bash scripts/build-standin.sh --pinned >/dev/null || exit 1
printf 'BENCH_PATH=%s\\n' "$PATH"`;
  const r = spawnSync("bash", ["-c", script], { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const path = /^BENCH_PATH=(.*)$/m.exec(r.stdout ?? "")?.[1];
  if (r.status !== 0 || !path) throw new Error(`setting up the toolchain failed (exit ${r.status})`);
  process.env.PATH = `${join(REPO, "standin/nvidia")}:${path}`;
  process.env.MYIA_NVIDIA_SMI_SCENARIO ??= "rtx4090x2-idle";
  process.env.PULUMI_SKIP_UPDATE_CHECK = "true";
  process.env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
  const missing = missingPlugins();
  if (missing) throw new Error(missing);
}

const version = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: "utf8" }).stdout?.trim() || "unknown";

// ---- one measured phase ----------------------------------------------------

const PORTS = [5002, 5003];

interface Measured {
  upStepAt?: number;
  steps?: Step[];
}

/** Runs `action` with both ports probed every 100 ms; `target` is the port index that must answer at the end. */
async function measure(procedure: Procedure, phase: Phase, runNo: number, target: number, container: string, action: (started: number) => Promise<Measured>): Promise<PhaseRun> {
  const samples: Sample[] = [];
  const started = Date.now();
  const outage = watchOutage(PORTS, (t, up) => samples.push({ t: t - started, up }));
  let m: Measured;
  let returned: number;
  try {
    m = await action(started);
  } finally {
    returned = Date.now() - started;
  }
  // A second more of probes, so the chart shows the new model answering past the return.
  await sleep(1000);
  const downtimeMs = await outage.stop();
  if (!(await answers(PORTS[target]))) throw new Error(`${procedure} ${phase}: port ${PORTS[target]} does not answer after the tool returned`);
  const firstUpMs = firstUpOf(samples, target);
  const r: PhaseRun = {
    procedure,
    phase,
    run: runNo,
    wallMs: returned,
    downtimeMs,
    firstUpMs,
    lagMs: firstUpMs === null ? null : returned - firstUpMs,
    ...(m.upStepAt !== undefined ? { upStepLagMs: firstUpMs === null ? null : m.upStepAt - firstUpMs } : {}),
    downloadedWeights: await downloadedWeights(container),
    intervals: intervalsOf(samples, PORTS),
    returnedMs: returned,
    ...(m.steps ? { steps: m.steps } : {}),
  };
  const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? "n/a" : `${(ms / 1000).toFixed(1)} s`);
  log(
    `  ${procedure} ${phase}: wall ${s(r.wallMs)}, no model answered for ${s(r.downtimeMs)}, detection lag ${s(r.lagMs)}${r.upStepLagMs !== undefined ? ` (up step ${s(r.upStepLagMs)})` : ""}, weights ${r.downloadedWeights ? "downloaded by the container" : "already cached"}`,
  );
  if (r.steps) for (const l of formatSteps(r.steps)) log(`      ${l}`);
  return r;
}

// ---- the context -----------------------------------------------------------

interface Ctx {
  root: string;
  D: number;
  L: number;
  /** The stand-in's wake from sleep mode (the standby rows), seconds. */
  W: number;
  apiKey: string;
  hfToken: string;
  medium: ValidatedProfile;
  vl: ValidatedProfile;
  result: BenchResult;
  floor?: Stack;
}

/** A reply streams a token every TOKEN_MS, as a model does (row 9 needs replies that last): the same for every procedure. */
const TOKEN_MS = 40;
const standinEnv = (c: Ctx) => ({ STANDIN_DOWNLOAD_SECONDS: String(c.D), STANDIN_LOAD_SECONDS: String(c.L), STANDIN_TOKEN_MS: String(TOKEN_MS) });

// ---- compose ---------------------------------------------------------------

async function composeRun(c: Ctx, procedure: "compose-old" | "compose-fair", runNo: number): Promise<void> {
  const dir = join(c.root, `${procedure}-${runNo}`);
  mkdirSync(join(dir, "hf"), { recursive: true });
  mkdirSync(join(dir, "vllm-cache"), { recursive: true });
  const timings: HealthTimings = procedure === "compose-old" ? OLD_TIMINGS : c.medium.container.healthcheck;
  const opts = { hfCachePath: join(dir, "hf"), compileCachePath: join(dir, "vllm-cache"), env: standinEnv(c), timings };
  writeFileSync(join(dir, "docker-compose.yml"), composeBaseFile("myia_vllm"));
  writeFileSync(join(dir, "medium.yml"), composeProfileFile(c.medium, opts));
  writeFileSync(join(dir, "medium-vl.yml"), composeProfileFile(c.vl, opts));
  writeFileSync(join(dir, ".env"), composeEnvFile(c.apiKey, c.hfToken), { mode: 0o600 });
  const compose = (profile: string, ...args: string[]) => must("docker", composeArgs("docker-compose.yml", profile, ...args), { cwd: dir });
  const wait = ["--wait", "--wait-timeout", String(c.D + c.L + 600)];
  try {
    log(`${procedure} run ${runNo}: setup: compose up medium (cold: it downloads, then loads)`);
    await compose("medium.yml", "up", "-d");
    await waitAnswers(5002, (c.D + c.L + 120) * 1000);
    c.result.phases.push(
      await measure(procedure, "migration", runNo, 1, c.vl.server.containerName, async () => {
        await compose("medium.yml", "down");
        await compose("medium-vl.yml", "up", "-d", "--force-recreate", ...wait);
        return {};
      }),
    );
    c.result.phases.push(
      await measure(procedure, "rollback", runNo, 0, c.medium.server.containerName, async () => {
        await compose("medium-vl.yml", "down");
        await compose("medium.yml", "up", "-d", "--force-recreate", ...wait);
        return {};
      }),
    );
  } finally {
    await run("docker", composeArgs("docker-compose.yml", "medium.yml", "down"), { cwd: dir });
    await run("docker", composeArgs("docker-compose.yml", "medium-vl.yml", "down"), { cwd: dir });
  }
}

// ---- ours ------------------------------------------------------------------

/** Pulumi.yaml as committed, or without `options: refresh: always`. */
function projectFile(refresh: boolean): string {
  const text = readFileSync(join(REPO, "Pulumi.yaml"), "utf8");
  if (refresh) return text;
  const out = text.replace(/^options:\n(?:[ \t]+.*\n)+/m, "");
  if (out === text || /refresh:\s*always/.test(out)) throw new Error("Pulumi.yaml: could not drop `options: refresh: always`");
  return out;
}

async function engineRun(c: Ctx, procedure: "pulumi-up" | "switch" | "standby", runNo: number): Promise<void> {
  const dir = join(c.root, `${procedure}-${runNo}`);
  const project = join(dir, "project");
  mkdirSync(project, { recursive: true });
  mkdirSync(join(dir, "state"));
  copyFileSync(join(REPO, "Pulumi.yaml"), join(project, "Pulumi.yaml"));
  for (const s of [MEDIUM, VL]) copyFileSync(join(REPO, `Pulumi.${s}.yaml`), join(project, `Pulumi.${s}.yaml`));
  if (procedure === "standby") standbyOn(project, [MEDIUM, VL], String(c.W));
  const passphrase = randomBytes(16).toString("hex");
  const envVars = localBackendEnv(join(dir, "state"), passphrase);
  const stacks: Record<string, Stack> = {};
  for (const name of [MEDIUM, VL]) {
    stacks[name] = await programStack(name, project, envVars);
    await stacks[name].setAllConfig(
      {
        apiKey: { value: c.apiKey, secret: true },
        hfToken: { value: c.hfToken, secret: true },
        "host.hfCachePath": { value: join(dir, "hf") },
        "host.compileCachePath": { value: join(dir, "vllm-cache") },
        "container.env.STANDIN_LOAD_SECONDS": { value: String(c.L) },
        "container.env.STANDIN_DOWNLOAD_SECONDS": { value: String(c.D) },
        "container.env.STANDIN_TOKEN_MS": { value: String(TOKEN_MS) },
        "container.readyTimeoutSeconds": { value: String(c.D + c.L + 600) },
      },
      true,
    );
  }
  const outputs: string[] = [];
  /** `pulumi up` through the Automation API; `started` given: when the CLI printed its summary (it exits next; the API then reads the outputs). */
  const up = async (name: string, started?: number): Promise<Measured> => {
    let text = "";
    let upStepAt: number | undefined;
    const marks: EventMark[] = [];
    const cli = started !== undefined ? watchExit("pulumi") : undefined;
    try {
      await stacks[name].up({
        onOutput: (o) => {
          text += o;
          if (started !== undefined && upStepAt === undefined && /Duration: /.test(text)) upStepAt = Date.now() - started;
        },
        onEvent: (e) => {
          if (started === undefined) return;
          const kind = Object.keys(e).find((k) => k.endsWith("Event"))?.replace(/Event$/, "") ?? "?";
          const meta = (e as unknown as Record<string, { metadata?: { op?: string; urn?: string } }>)[`${kind}Event`]?.metadata;
          marks.push({ ms: Date.now() - started, kind, op: meta?.op, urn: meta?.urn });
        },
      });
      const exited = await cli?.stop();
      const steps = stepsOf(marks);
      if (exited !== undefined && started !== undefined) steps.push({ name: "(the pulumi CLI exited)", op: "exit", fromMs: exited - started, toMs: exited - started });
      return { upStepAt: exited !== undefined && started !== undefined ? exited - started : upStepAt, steps };
    } catch (e) {
      throw new Error(`pulumi up --stack ${name} failed:\n${engineFailure(`${text}\n${(e as Error).message}`)}`);
    } finally {
      outputs.push(`== up ${name}\n${text}`);
    }
  };
  const switchEnv = { ...process.env, ...envVars };
  const runSwitch = async (to: string, started: number): Promise<Measured> => {
    let upStepAt: number | undefined;
    const r = await run(process.execPath, ["--import", "tsx", join(REPO, "tools/switch.ts"), "--to", to, "--dir", project], {
      cwd: REPO,
      env: switchEnv,
      onLine: (l) => {
        if (upStepAt === undefined && new RegExp(`\\] up ${to}: ok in`).test(l)) upStepAt = Date.now() - started;
      },
    });
    outputs.push(`== switch --to ${to}\n${r.out}`);
    if (r.code !== 0) throw new Error(`switch --to ${to} exited ${r.code}:\n${r.out.trim().split("\n").slice(-20).join("\n")}`);
    return { upStepAt };
  };
  try {
    log(`${procedure} run ${runNo}: setup: pulumi up --stack medium (fresh stacks, cold cache)`);
    await up(MEDIUM);
    if (procedure === "pulumi-up") {
      const rss = watchRss();
      let peaks;
      try {
        c.result.phases.push(await measure(procedure, "migration", runNo, 1, c.vl.server.containerName, (s) => up(VL, s)));
      } finally {
        peaks = await rss.stop();
      }
      c.result.rss.push({ run: runNo, byKind: peaks.byKind, totalKiB: peaks.totalKiB });
      c.result.phases.push(await measure(procedure, "rollback", runNo, 0, c.medium.server.containerName, (s) => up(MEDIUM, s)));
      await extras(c, runNo, project, stacks);
    } else if (procedure === "standby") {
      // Both models loaded once, medium-vl asleep; then each switch is a wake.
      log(`${procedure} run ${runNo}: setup: pulumi up --stack medium-vl (a load; medium goes to sleep), then medium (a wake)`);
      await up(VL);
      await up(MEDIUM);
      c.result.phases.push(await measure(procedure, "migration", runNo, 1, c.vl.server.containerName, (s) => up(VL, s)));
      c.result.phases.push(await measure(procedure, "rollback", runNo, 0, c.medium.server.containerName, (s) => up(MEDIUM, s)));
    } else {
      c.result.phases.push(await measure(procedure, "migration", runNo, 1, c.vl.server.containerName, (s) => runSwitch(VL, s)));
      c.result.phases.push(await measure(procedure, "rollback", runNo, 0, c.medium.server.containerName, (s) => runSwitch(MEDIUM, s)));
    }
  } finally {
    writeFileSync(join(dir, "engine.log"), outputs.join("\n"));
    writeFileSync(join(project, "Pulumi.yaml"), projectFile(true));
    for (const name of [VL, MEDIUM]) {
      try {
        await stacks[name].destroy({ onOutput: () => undefined });
      } catch (e) {
        log(`  destroy ${name} failed (${(e as Error).message.split("\n")[0]}); removing its container`);
      }
    }
    await removeContainers([c.vl.server.containerName, c.medium.server.containerName].flatMap((n) => [n, `${n}-gateway`]));
  }
}

/** Rows 3 and 6, on the pulumi-up run's stacks: medium serves, medium-vl is deployed and stopped. */
async function extras(c: Ctx, runNo: number, project: string, stacks: Record<string, Stack>): Promise<void> {
  const timed = async <T>(f: () => Promise<T>): Promise<[number, T]> => {
    const t = Date.now();
    const r = await f();
    return [Date.now() - t, r];
  };
  const pmarks: EventMark[] = [];
  const pt = Date.now();
  const [previewMs] = await timed(() =>
    stacks[VL].preview({
      onOutput: () => undefined,
      onEvent: (e) => {
        const kind = Object.keys(e).find((k) => k.endsWith("Event"))?.replace(/Event$/, "") ?? "?";
        const meta = (e as unknown as Record<string, { metadata?: { op?: string; urn?: string } }>)[`${kind}Event`]?.metadata;
        pmarks.push({ ms: Date.now() - pt, kind, op: meta?.op, urn: meta?.urn });
      },
    }),
  );
  for (const l of formatSteps(stepsOf(pmarks), 100)) log(`      preview: ${l}`);
  const [infoMs] = await timed(() => stacks[MEDIUM].info());
  const [outputsMs] = await timed(() => stacks[MEDIUM].outputs());
  log(`  what the Automation API runs after an up's CLI exits: stack history ${(infoMs / 1000).toFixed(2)} s, stack output ${(outputsMs / 1000).toFixed(2)} s`);
  const [floorMs] = await timed(() => c.floor!.preview({ onOutput: () => undefined }));
  c.result.previews.push({ run: runNo, previewMs, floorMs, epilogueMs: infoMs + outputsMs });
  log(`  preview medium-vl ${(previewMs / 1000).toFixed(1)} s; empty program ${(floorMs / 1000).toFixed(1)} s`);

  const changes = (r: { summary: { resourceChanges?: Record<string, number> } }) => JSON.stringify(r.summary.resourceChanges ?? {});
  // The first up after the rollback settles the takeover's trigger (the other stack no longer runs).
  await stacks[MEDIUM].up({ onOutput: () => undefined });
  const [withMs, w] = await timed(() => stacks[MEDIUM].up({ onOutput: () => undefined }));
  writeFileSync(join(project, "Pulumi.yaml"), projectFile(false));
  let withoutMs: number;
  let wo;
  try {
    [withoutMs, wo] = await timed(() => stacks[MEDIUM].up({ onOutput: () => undefined }));
  } finally {
    writeFileSync(join(project, "Pulumi.yaml"), projectFile(true));
  }
  c.result.refresh.push({ run: runNo, withMs, withoutMs, withChanges: changes(w), withoutChanges: changes(wo) });
  log(`  up medium, nothing to change: ${(withMs / 1000).toFixed(1)} s with refresh ${changes(w)}, ${(withoutMs / 1000).toFixed(1)} s without ${changes(wo)}`);

  // Row 7: medium serves behind its gateway; vLLM's own address is on the stack's network.
  const p = c.medium.server.port;
  const ip = (await must("docker", ["inspect", "-f", `{{(index .NetworkSettings.Networks "${networkName(MEDIUM)}").IPAddress}}`, c.medium.server.containerName])).trim();
  // The gateway serves HTTPS with the host's CA, which the stack's output gives; clients trust it.
  const client = clientFromOutputs(await stacks[MEDIUM].outputs());
  const g = await gatewayLatency(client.baseUrl.replace("localhost", "127.0.0.1"), `http://${ip}:${p}`, c.apiKey, c.result.mode === "short" ? 100 : 1000);
  c.result.gateway!.push({ run: runNo, ...g });
  log(`  gateway: p50 ${g.gateway.p50.toFixed(2)} ms through it, ${g.direct.p50.toFixed(2)} ms direct; p99 ${g.gateway.p99.toFixed(2)} / ${g.direct.p99.toFixed(2)} ms (${g.requests} requests each)`);

  // Row 8: a key rotation, then back to the stack's one key for the next run.
  const rot = await rotation(stacks[MEDIUM], client.baseUrl, p);
  c.result.rotation!.push({ run: runNo, ...rot });
  log(`  rotation: up ${(rot.upMs / 1000).toFixed(1)} s; key A refused ${(rot.revokedMs / 1000).toFixed(1)} s after it began; model outage ${(rot.outageMs / 1000).toFixed(1)} s; ${rot.failed} of A's requests failed before`);

  // Row 9: what becomes of replies in flight when a switch stops their model, without the drain and with it.
  for (const drainSeconds of [0, c.vl.gateway.drainSeconds]) {
    for (const s of [MEDIUM, VL]) await stacks[s].setConfig("gateway.drainSeconds", { value: String(drainSeconds) }, true);
    try {
      for (const [phase, from, to] of [["migration", MEDIUM, VL], ["rollback", VL, MEDIUM]] as const) {
        const x = await inFlight(c, stacks[from], stacks[to]);
        c.result.inFlight!.push({ run: runNo, phase, drainSeconds, ...x });
        log(`  in flight, ${phase}, drain ${drainSeconds} s: ${x.completed} completed, ${x.cut} cut mid-stream, ${x.refused} refused before any byte; outage ${(x.outageMs / 1000).toFixed(1)} s, up ${(x.upMs / 1000).toFixed(1)} s`);
      }
    } finally {
      for (const s of [MEDIUM, VL]) await stacks[s].removeConfig("gateway.drainSeconds", true);
    }
  }
}

/** Clients stream long replies against the serving stack while `pulumi up` switches to the other one; what became of each reply. */
async function inFlight(c: Ctx, serving: Stack, target: Stack): Promise<{ completed: number; cut: number; refused: number; outageMs: number; upMs: number }> {
  const outputs = await serving.outputs();
  const client = clientFromOutputs(outputs);
  // Replies of about L each (a token every TOKEN_MS): one is in flight on every client whenever the switch stops the model.
  const work = streamWorkload({ baseUrl: client.baseUrl.replace("localhost", "127.0.0.1"), apiKey: client.apiKey, model: String(outputs.servedModelName?.value), clients: 4, minTokens: Math.round((c.L * 1000) / TOKEN_MS) });
  const outage = watchOutage([c.medium.server.port, c.vl.server.port]);
  await sleep(500);
  const t = Date.now();
  const r = await target.up({ onOutput: () => undefined }).then(
    () => undefined,
    (e: Error) => e,
  );
  const upMs = Date.now() - t;
  const [tally, outageMs] = await Promise.all([work.stop(), outage.stop()]);
  if (r) throw new Error(`up during the in-flight run failed:\n${engineFailure(r.message)}`);
  return { completed: tally.completed, cut: tally.cut, refused: tally.refused, outageMs, upMs };
}

/** An up that adds key B and revokes key A, while a client asks with A every 50 ms until refused. */
async function rotation(stack: Stack, baseUrl: string, port: number): Promise<Omit<RotationRun, "run">> {
  const keyA = `sk-bench-a-${randomBytes(12).toString("hex")}`;
  const keyB = `sk-bench-b-${randomBytes(12).toString("hex")}`;
  await stack.setConfig("apiKeys.bench-a", { value: keyA, secret: true }, true);
  await stack.up({ onOutput: () => undefined });
  await stack.setConfig("apiKeys.bench-b", { value: keyB, secret: true }, true);
  await stack.removeConfig("apiKeys.bench-a", true);
  const outage = watchOutage([port]);
  const t0 = Date.now();
  let revokedAt: number | undefined;
  let failed = 0;
  const upDone = stack.up({ onOutput: () => undefined }).then(() => Date.now());
  // Bounded: the up's own time plus 30 s.
  while (revokedAt === undefined && Date.now() - t0 < 300_000) {
    const status = await fetch(`${baseUrl}/v1/models`, { headers: { authorization: `Bearer ${keyA}` }, signal: AbortSignal.timeout(5000) })
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 401) revokedAt = Date.now();
    else if (status !== 200) failed++;
    else await new Promise((r) => setTimeout(r, 50));
  }
  const upEnd = await upDone;
  const outageMs = await outage.stop();
  await stack.removeConfig("apiKeys", true);
  await stack.up({ onOutput: () => undefined });
  return { upMs: upEnd - t0, revokedMs: (revokedAt ?? Date.now()) - t0, outageMs, failed };
}

/** The engine's floor: an empty inline program, on the same kind of backend. */
async function floorStack(c: Ctx): Promise<Stack> {
  const dir = join(c.root, "floor");
  mkdirSync(join(dir, "state"), { recursive: true });
  writeFileSync(join(dir, "Pulumi.yaml"), "name: myia-bench-floor\nruntime: nodejs\n");
  const s = await LocalWorkspace.createOrSelectStack({ stackName: "floor", projectName: "myia-bench-floor", program: async () => ({}) }, { workDir: dir, envVars: localBackendEnv(join(dir, "state"), randomBytes(16).toString("hex")) });
  await s.preview({ onOutput: () => undefined }); // warm: the first run of a new stack pays for its creation
  return s;
}

// ---- the chart -------------------------------------------------------------

async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const vega = await import("vega");
  // vega-lite's types need moduleResolution node16+; the repo's is node: a typed view of the one call.
  const vlName = "vega-lite";
  const vl = (await import(vlName)) as { compile(spec: unknown): { spec: Parameters<typeof vega.parse>[0] } };
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

// ---- main ------------------------------------------------------------------

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const values = parseCli(
    argv,
    { runs: { type: "string" }, download: { type: "string" }, load: { type: "string" }, wake: { type: "string" }, json: { type: "string" }, chart: { type: "string" }, only: { type: "string" }, short: { type: "boolean" } },
    USAGE,
  );
  if (typeof values === "number") return values;
  const short = values.short === true;
  const num = (v: string | undefined, dflt: number, what: string, min: number) => {
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isFinite(n) || n < min || (what === "runs" && !Number.isInteger(n))) throw new UsageError(`--${what} must be a number >= ${min}, not ${v}`);
    return n;
  };
  let runs: number, D: number, L: number, W: number, only: Procedure[];
  try {
    runs = num(values.runs, short ? 1 : 3, "runs", 1);
    D = num(values.download, short ? 2 : 20, "download", 0);
    L = num(values.load, short ? 2 : 10, "load", 0);
    W = num(values.wake, short ? 0.5 : 1, "wake", 0);
    only = (values.only ?? PROCEDURES.join(",")).split(",").map((s) => s.trim()) as Procedure[];
    const bad = only.filter((p) => !PROCEDURES.includes(p));
    if (bad.length) throw new UsageError(`--only: unknown ${bad.join(", ")} (one of ${PROCEDURES.join(", ")})`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n${USAGE.split("\n")[0]}\n(--help for more)`);
    return 2;
  }

  bootstrap();
  // A probe's fetch holds no ref'd handle: without this, a wait on nothing but it would let node exit.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    return await bench(values, { runs, D, L, W, only, short });
  } finally {
    clearInterval(keepAlive);
  }
}

async function bench(values: { json?: string; chart?: string }, o: { runs: number; D: number; L: number; W: number; only: Procedure[]; short: boolean }): Promise<number> {
  const { runs, D, L, W, only, short } = o;
  const medium = loadStack(MEDIUM);
  const vl = loadStack(VL);
  const names = [medium.server.containerName, vl.server.containerName];
  const present = names.filter((n) => exists(n).status === 0);
  if (present.length) {
    console.error(`bench: ${present.map((n) => `${n} (${exists(n).stdout.trim()})`).join(", ")} already on this daemon (the demo, the tests, or an old run?).\nThe bench needs both names and ports 5002, 5003: remove them first (npm run demo -- --down, or docker rm -f ${present.join(" ")}).`);
    return 2;
  }
  const root = mkdtempSync(join(tmpdir(), "myia-bench-"));
  const jsonFile = resolve(values.json ?? join(root, "bench.json"));
  const chartFile = resolve(values.chart ?? (short ? join(root, "bench-timeline.svg") : join(REPO, "docs", "bench-timeline.svg")));
  const c: Ctx = {
    root,
    D,
    L,
    W,
    apiKey: `sk-bench-${randomBytes(12).toString("hex")}`,
    hfToken: `hf_bench${randomBytes(12).toString("hex")}`,
    medium,
    vl,
    result: {
      startedAt: new Date().toISOString(),
      mode: short ? "short" : "full",
      machine: {
        nproc: availableParallelism(),
        memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
        kernel: release(),
        docker: version("docker", ["version", "--format", "{{.Server.Version}}"]),
        compose: version("docker", ["compose", "version", "--short"]),
        pulumi: version("pulumi", ["version"]),
      },
      downloadSeconds: D,
      loadSeconds: L,
      ...(only.includes("standby") ? { wakeSeconds: W } : {}),
      runs,
      plugins: describePlugins(),
      phases: [],
      previews: [],
      refresh: [],
      gateway: [],
      rotation: [],
      inFlight: [],
      rss: [],
      failures: [],
    },
  };
  log(`a STAND-IN GPU host (vLLM and the GPUs are stand-ins); D = ${D} s, L = ${L} s, W = ${W} s, ${runs} run(s) of ${only.join(", ")}; work folder ${root}`);
  for (const line of c.result.plugins) log(line);
  if (only.includes("pulumi-up")) c.floor = await floorStack(c);
  for (let i = 1; i <= runs; i++) {
    for (const p of only) {
      try {
        if (p === "compose-old" || p === "compose-fair") await composeRun(c, p, i);
        else await engineRun(c, p, i);
      } catch (e) {
        const msg = `${p} run ${i}: ${(e as Error).message}`;
        c.result.failures.push(msg);
        log(`FAILED ${msg}`);
        await removeContainers(names);
      }
    }
  }
  // Correctness, not timing: a rollback never downloads, ours never download after the old model stopped.
  for (const r of c.result.phases) {
    const ours = r.procedure === "pulumi-up" || r.procedure === "switch";
    if (r.downloadedWeights && (r.phase === "rollback" || ours)) c.result.failures.push(`${r.procedure} ${r.phase} run ${r.run}: the new container downloaded weights`);
  }

  console.log(`\n${formatTable(c.result)}\n\n${formatGoals(goals(c.result))}\n`);
  try {
    mkdirSync(dirname(chartFile), { recursive: true });
    writeFileSync(chartFile, await renderSvg(chartSpec(c.result)));
    log(`chart: ${chartFile}`);
  } catch (e) {
    c.result.failures.push(`chart: ${(e as Error).message}`);
  }
  mkdirSync(dirname(jsonFile), { recursive: true });
  writeFileSync(jsonFile, `${JSON.stringify({ ...c.result, goals: goals(c.result) }, null, 2)}\n`);
  log(`json: ${jsonFile}`);
  log(`machine: ${c.result.machine.nproc} cores, ${c.result.machine.memoryGiB} GiB; docker ${c.result.machine.docker}, compose ${c.result.machine.compose}, pulumi ${c.result.machine.pulumi}`);
  if (c.result.failures.length) {
    console.error(`bench: ${c.result.failures.length} failure(s):\n  ${c.result.failures.join("\n  ").replace(/\n/g, "\n    ")}`);
    return 1;
  }
  log("done (timings are reported, never judged: exit 0)");
  return 0;
}

class UsageError extends Error {}

if (require.main === module) {
  // A failed inline run leaves the program's pending registrations behind; the outcome is reported above.
  process.on("unhandledRejection", () => undefined);
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`bench: ${e.message}`);
      process.exit(1);
    },
  );
}

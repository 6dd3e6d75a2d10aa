/**
 * The bench's numbers: medians with their range, the timeline of which port
 * answered when, the table, the goals as ratios, and the chart's Vega-Lite
 * spec. Pure: no I/O.
 */

export const PROCEDURES = ["compose-old", "compose-fair", "pulumi-up", "switch", "standby"] as const;
export type Procedure = (typeof PROCEDURES)[number];
export type Phase = "migration" | "rollback";

export const PROCEDURE_LABEL: Record<Procedure, string> = {
  "compose-old": "compose (old timings)",
  "compose-fair": "compose (our timings)",
  "pulumi-up": "pulumi up",
  switch: "npm run switch",
  standby: "pulumi up, standby (a wake)",
};

/** One probe of the ports, `t` in ms from the procedure's start. */
export interface Sample {
  t: number;
  up: boolean[];
}

/** A stretch in which a port answered /health, in ms from the procedure's start. */
export interface Interval {
  port: number;
  from: number;
  to: number;
}

/** One run of one procedure for one phase. */
export interface PhaseRun {
  procedure: Procedure;
  phase: Phase;
  run: number;
  /** From the first command to the tool returning. */
  wallMs: number;
  /** The longest stretch with no port answering (watchOutage). */
  downtimeMs: number;
  /** The first probe at which the target answered, after the outage began. */
  firstUpMs: number | null;
  /** The tool returning minus firstUpMs. */
  lagMs: number | null;
  /**
   * For switch: when its up step said ok (the validation follows); for pulumi
   * up: when the CLI printed its summary (the Automation API then reads the
   * stack's outputs); minus firstUpMs.
   */
  upStepLagMs?: number | null;
  /** The new container's log says it downloaded weights. */
  downloadedWeights: boolean;
  intervals: Interval[];
  returnedMs: number;
  /** For pulumi up: the engine's steps as its events arrived (the profile). */
  steps?: Step[];
}

/** An engine event as it arrived, in ms from the phase's start. */
export interface EventMark {
  ms: number;
  kind: string;
  op?: string;
  urn?: string;
}

/** One resource operation, from its pre-event to its outputs (or failure). */
export interface Step {
  name: string;
  op: string;
  fromMs: number;
  toMs: number;
}

/** A URN's last part: `urn:pulumi:s::p::a$b::medium-vl-weights` -> `medium-vl-weights`. */
const shortUrn = (urn: string) => urn.split("::").pop() ?? urn;

/**
 * The engine's timeline: the prelude (CLI start, program, plugins: up to the
 * first event), each resource's step, and the end (the summary event).
 */
export function stepsOf(events: readonly EventMark[]): Step[] {
  const out: Step[] = [];
  const first = events[0];
  if (first) out.push({ name: "(start: CLI, program, plugins)", op: "start", fromMs: 0, toMs: first.ms });
  const open = new Map<string, EventMark>();
  for (const e of events) {
    if (e.kind === "resourcePre" && e.urn) open.set(`${e.op}|${e.urn}`, e);
    if ((e.kind === "resOutputs" || e.kind === "resOpFailed") && e.urn) {
      const key = [...open.keys()].find((k) => k.endsWith(`|${e.urn}`));
      const pre = key ? open.get(key) : undefined;
      if (pre && key) {
        open.delete(key);
        out.push({ name: shortUrn(e.urn), op: pre.op ?? "?", fromMs: pre.ms, toMs: e.ms });
      }
    }
    if (e.kind === "summary") out.push({ name: "(summary)", op: "summary", fromMs: e.ms, toMs: e.ms });
  }
  return out;
}

/** One line a step that took at least `minMs`. */
export function formatSteps(steps: readonly Step[], minMs = 200): string[] {
  return steps.filter((s) => s.toMs - s.fromMs >= minMs || s.op === "summary").map((s) => `${(s.fromMs / 1000).toFixed(1).padStart(6)} s +${((s.toMs - s.fromMs) / 1000).toFixed(1).padStart(4)} s  ${s.op.padEnd(8)} ${s.name}`);
}

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function spread(values: readonly (number | null | undefined)[]): Spread {
  const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return { median: median(v), min: v.length ? Math.min(...v) : NaN, max: v.length ? Math.max(...v) : NaN, n: v.length };
}

/** Seconds, one decimal: "10.6 s (10.4–10.9)"; a single value has no range. */
export function fmt(s: Spread, unit = "s", scale = 1000, digits = 1): string {
  if (!s.n) return "n/a";
  const f = (x: number) => (x / scale).toFixed(digits);
  return s.n > 1 ? `${f(s.median)} ${unit} (${f(s.min)}–${f(s.max)})` : `${f(s.median)} ${unit}`;
}

/** Each port's answering stretches; a stretch ends at the next probe that found it silent (or the last probe). */
export function intervalsOf(samples: readonly Sample[], ports: readonly number[]): Interval[] {
  const out: Interval[] = [];
  ports.forEach((port, i) => {
    let from: number | undefined;
    for (const s of samples) {
      if (s.up[i] && from === undefined) from = s.t;
      if (!s.up[i] && from !== undefined) {
        out.push({ port, from, to: s.t });
        from = undefined;
      }
    }
    if (from !== undefined) out.push({ port, from, to: samples[samples.length - 1].t });
  });
  return out.sort((a, b) => a.from - b.from || a.port - b.port);
}

/** The longest stretch with no port answering, as watchOutage measures it (open at the end: until `endMs`). */
export function downtimeOf(samples: readonly Sample[], endMs: number): number {
  let since: number | undefined;
  let longest = 0;
  for (const s of samples) {
    const up = s.up.some(Boolean);
    if (!up && since === undefined) since = s.t;
    if (up && since !== undefined) {
      longest = Math.max(longest, s.t - since);
      since = undefined;
    }
  }
  if (since !== undefined) longest = Math.max(longest, endMs - since);
  return longest;
}

/**
 * When the target (port index `target`) first answered after the others had
 * gone silent: the first answering probe of the target following the first
 * probe at which nothing answered (or, with no such probe, its first answer).
 */
export function firstUpOf(samples: readonly Sample[], target: number): number | null {
  const gone = samples.findIndex((s) => !s.up.some(Boolean));
  const from = gone < 0 ? 0 : gone;
  const hit = samples.slice(from).find((s) => s.up[target]);
  return hit ? hit.t : null;
}

// ---- the table -------------------------------------------------------------

export interface PreviewRun {
  run: number;
  previewMs: number;
  floorMs: number;
  /** What the Automation API runs after an up's CLI exits (stack history + stack output). */
  epilogueMs?: number;
}

export interface RefreshRun {
  run: number;
  withMs: number;
  withoutMs: number;
  withChanges: string;
  withoutChanges: string;
}

export interface RssPeak {
  run: number;
  /** Peak RSS in KiB, per process kind, and of all of them together. */
  byKind: Record<string, number>;
  totalKiB: number;
}

export type { GatewayRun } from "./benchGateway";

/** Row 8: `up` that adds a client key and revokes another, while a client keeps asking with the old one. */
export interface RotationRun {
  run: number;
  /** The whole `up`. */
  upMs: number;
  /** From `up` starting to the first 401 for the revoked key. */
  revokedMs: number;
  /** The longest stretch in which the model did not answer /health during the up (watchOutage). */
  outageMs: number;
  /** Requests with the revoked key that failed before it was refused (other than 401). */
  failed: number;
}
import type { GatewayRun } from "./benchGateway";

/** Row 9: clients streaming long replies against the serving stack while `pulumi up` switches it. */
export interface InFlightRun {
  run: number;
  phase: Phase;
  /** gateway.drainSeconds of the deploying stack: 0 stops the old model at once. */
  drainSeconds: number;
  completed: number;
  cut: number;
  refused: number;
  /** The longest stretch in which no model answered /health (watchOutage). */
  outageMs: number;
  upMs: number;
}

export interface BenchResult {
  startedAt: string;
  mode: "full" | "short";
  machine: { nproc: number; memoryGiB: number; kernel: string; docker: string; compose: string; pulumi: string };
  downloadSeconds: number;
  loadSeconds: number;
  /** The stand-in's wake from sleep mode, seconds (the standby rows; older reports have none). */
  wakeSeconds?: number;
  runs: number;
  plugins: string[];
  phases: PhaseRun[];
  previews: PreviewRun[];
  refresh: RefreshRun[];
  /** Row 7: the gateway's added latency (older reports have none). */
  gateway?: GatewayRun[];
  /** Row 8: a client key rotated (older reports have none). */
  rotation?: RotationRun[];
  /** Row 9: requests in flight during a switch, with and without the drain (older reports have none). */
  inFlight?: InFlightRun[];
  rss: RssPeak[];
  failures: string[];
}

const of = (r: BenchResult, proc: Procedure, phase: Phase) => r.phases.filter((x) => x.procedure === proc && x.phase === phase);

/** Markdown table rows, as a list of cells. */
function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The whole table (markdown), rows 1-6 of the issue. */
export function formatTable(r: BenchResult): string {
  const L = r.loadSeconds * 1000;
  const D = r.downloadSeconds * 1000;
  const out: string[] = [];
  for (const phase of ["migration", "rollback"] as Phase[]) {
    out.push(
      phase === "migration"
        ? `**1. Migration medium → medium-vl, cold cache** (D = ${r.downloadSeconds} s, L = ${r.loadSeconds} s)`
        : `**2. Rollback medium-vl → medium, warm cache** (L = ${r.loadSeconds} s)`,
    );
    out.push("");
    const rows = PROCEDURES.filter((p) => of(r, p, phase).length).map((p) => {
      const runs = of(r, p, phase);
      const dl = runs.filter((x) => x.downloadedWeights).length;
      const lag = fmt(spread(runs.map((x) => x.lagMs)));
      const upLag = runs.some((x) => x.upStepLagMs !== undefined) ? ` (${p === "switch" ? "its up step" : "the CLI's exit"}: ${fmt(spread(runs.map((x) => x.upStepLagMs)))})` : "";
      // Standby's switch is a wake: its overhead is what the wall adds to the wake W, in both phases.
      const W = (r.wakeSeconds ?? 0) * 1000;
      const overhead = p === "standby" ? runs.map((x) => x.wallMs - W) : phase === "migration" ? runs.map((x) => x.wallMs - D - L) : runs.map((x) => x.wallMs - L);
      return [
        p === "standby" ? `${PROCEDURE_LABEL[p]}, W = ${r.wakeSeconds} s (overhead: wall − W)` : PROCEDURE_LABEL[p],
        fmt(spread(runs.map((x) => x.downtimeMs))),
        fmt(spread(runs.map((x) => x.wallMs))),
        lag + upLag,
        fmt(spread(overhead)),
        `${dl}/${runs.length}`,
      ];
    });
    out.push(mdTable(["procedure", "downtime", "wall", "detection lag", phase === "migration" ? "wall − D − L" : "overhead: wall − L", "new container downloaded weights"], rows));
    out.push("");
  }
  out.push("**3. Preview of medium-vl, warm, against the engine's floor** (an empty program, same backend)");
  out.push("");
  const pv = spread(r.previews.map((x) => x.previewMs));
  const fl = spread(r.previews.map((x) => x.floorMs));
  out.push(mdTable(["preview medium-vl", "empty program (floor)", "ratio (medians)"], [[fmt(pv), fmt(fl), `${(pv.median / fl.median).toFixed(2)}×`]]));
  out.push("");
  out.push("**4. `up` overhead** (wall − L of the warm rollback; wall − D − L of the cold migration): in rows 1 and 2.");
  out.push("");
  out.push("**5. Peak RSS during `pulumi up --stack medium-vl`** (processes of the bench: node runs the Automation API and the inline program)");
  out.push("");
  const kinds = [...new Set(r.rss.flatMap((x) => Object.keys(x.byKind)))].sort();
  out.push(
    mdTable(
      ["process", "peak RSS"],
      [...kinds.map((k) => [k, fmt(spread(r.rss.map((x) => x.byKind[k])), "MiB", 1024, 0)]), ["all together (peak of the sum)", fmt(spread(r.rss.map((x) => x.totalKiB)), "MiB", 1024, 0)]],
    ),
  );
  out.push("");
  out.push("**6. `options: refresh: always`**: `pulumi up --stack medium` with nothing to change, with and without it");
  out.push("");
  const w = spread(r.refresh.map((x) => x.withMs));
  const wo = spread(r.refresh.map((x) => x.withoutMs));
  out.push(mdTable(["with refresh", "without", "cost of the refresh (medians)"], [[fmt(w), fmt(wo), `${((w.median - wo.median) / 1000).toFixed(1)} s`]]));
  const gw = r.gateway ?? [];
  if (gw.length > 0) {
    out.push("");
    out.push(`**7. The gateway's latency**: GET /v1/models with the key, ${gw[0].requests} requests one at a time, through Caddy and straight to vLLM (stand-in)`);
    out.push("");
    const ms = (xs: number[]) => fmt(spread(xs), "ms", 1, 2);
    out.push(
      mdTable(
        ["path", "p50", "p99"],
        [
          ["through the gateway", ms(gw.map((x) => x.gateway.p50)), ms(gw.map((x) => x.gateway.p99))],
          ["direct (vLLM on its network)", ms(gw.map((x) => x.direct.p50)), ms(gw.map((x) => x.direct.p99))],
          ["added by the gateway", ms(gw.map((x) => x.gateway.p50 - x.direct.p50)), ms(gw.map((x) => x.gateway.p99 - x.direct.p99))],
        ],
      ),
    );
  }
  const rot = r.rotation ?? [];
  if (rot.length > 0) {
    out.push("");
    out.push("**8. A key rotation**: `pulumi up --stack medium` that adds key B and revokes key A, while a client asks with A every 50 ms");
    out.push("");
    out.push(
      mdTable(
        ["up", "A refused after", "model outage", "A's requests failed before"],
        [[fmt(spread(rot.map((x) => x.upMs))), fmt(spread(rot.map((x) => x.revokedMs))), fmt(spread(rot.map((x) => x.outageMs))), String(Math.max(...rot.map((x) => x.failed)))]],
      ),
    );
  }
  const inf = r.inFlight ?? [];
  if (inf.length > 0) {
    out.push("");
    out.push("**9. Requests in flight during a switch**: clients streaming long replies against the serving stack through `pulumi up` (replies summed over the runs)");
    out.push("");
    const rows: string[][] = [];
    for (const phase of ["migration", "rollback"] as Phase[]) {
      for (const drain of [...new Set(inf.map((x) => x.drainSeconds))].sort((a, b) => a - b)) {
        const xs = inf.filter((x) => x.phase === phase && x.drainSeconds === drain);
        if (xs.length === 0) continue;
        const sum = (f: (x: InFlightRun) => number) => String(xs.reduce((a, x) => a + f(x), 0));
        rows.push([phase, drain === 0 ? "none (stop at once)" : `${drain} s`, sum((x) => x.completed), sum((x) => x.cut), sum((x) => x.refused), fmt(spread(xs.map((x) => x.outageMs))), fmt(spread(xs.map((x) => x.upMs)))]);
      }
    }
    out.push(mdTable(["switch", "drain", "completed", "cut mid-stream", "refused before any byte", "outage", "up"], rows));
  }
  return out.join("\n");
}

// ---- the goals -------------------------------------------------------------

export interface Goal {
  goal: string;
  measured: number;
  limit: number;
  /** measured / limit: met when <= 1. */
  ratio: number;
  met: boolean;
  detail: string;
  /** How measured and limit print: seconds (default) or milliseconds. */
  unit?: "s" | "ms" | "count";
}

export function goals(r: BenchResult): Goal[] {
  const L = r.loadSeconds * 1000;
  const med = (p: Procedure, phase: Phase, f: (x: PhaseRun) => number | null | undefined) => spread(of(r, p, phase).map(f)).median;
  const out: Goal[] = [];
  const goal = (name: string, measured: number, limit: number, detail: string, unit?: "ms" | "count") => {
    if (Number.isFinite(measured) && Number.isFinite(limit)) out.push({ goal: name, measured, limit, ratio: measured / limit, met: measured <= limit, detail, ...(unit ? { unit } : {}) });
  };
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  for (const p of ["pulumi-up", "switch"] as Procedure[]) {
    const compose = med("compose-old", "migration", (x) => x.downtimeMs);
    const lag = med("compose-old", "migration", (x) => x.lagMs);
    goal(`migration downtime ≤ L + 1 s (${PROCEDURE_LABEL[p]})`, med(p, "migration", (x) => x.downtimeMs), L + 1000, Number.isFinite(compose) ? `compose (old timings): ${s(compose)} ≈ D + L, and it returns ${s(lag)} later` : "");
  }
  for (const p of ["pulumi-up", "switch"] as Procedure[]) goal(`rollback downtime ≤ L + 1 s (${PROCEDURE_LABEL[p]})`, med(p, "rollback", (x) => x.downtimeMs), L + 1000, "");
  if (r.wakeSeconds !== undefined) {
    const cold = med("pulumi-up", "rollback", (x) => x.downtimeMs);
    goal("rollback downtime ≤ wake + 1 s (pulumi up, standby)", med("standby", "rollback", (x) => x.downtimeMs), r.wakeSeconds * 1000 + 1000, `wake ${r.wakeSeconds} s; without standby: ${s(cold)}`);
  }
  for (const phase of ["migration", "rollback"] as Phase[]) goal(`detection lag ≤ 1 s (pulumi up, ${phase}: the CLI's exit)`, med("pulumi-up", phase, (x) => x.upStepLagMs), 1000, "");
  for (const phase of ["migration", "rollback"] as Phase[]) goal(`detection lag ≤ 1 s (pulumi up, ${phase}: the Automation API's return)`, med("pulumi-up", phase, (x) => x.lagMs), 1000, "");
  for (const phase of ["migration", "rollback"] as Phase[]) goal(`detection lag ≤ 1 s (npm run switch, ${phase}, its up step)`, med("switch", phase, (x) => x.upStepLagMs), 1000, "the tool itself returns after the validation");
  const pv = spread(r.previews.map((x) => x.previewMs)).median;
  const fl = spread(r.previews.map((x) => x.floorMs)).median;
  goal("preview ≤ 1.5× the floor", pv, 1.5 * fl, `floor ${s(fl)}`);
  for (const phase of ["rollback", "migration"] as Phase[]) {
    const extra = phase === "migration" ? r.downloadSeconds * 1000 + L : L;
    const ours = med("pulumi-up", phase, (x) => x.wallMs) - extra;
    const theirs = med("compose-fair", phase, (x) => x.wallMs) - extra;
    goal(`up overhead ≤ compose's + 2 s (${phase}, against compose with our timings)`, ours, theirs + 2000, `compose: ${s(theirs)}`);
  }
  const rot = r.rotation ?? [];
  if (rot.length > 0) goal("a key rotation costs the model no outage (≤ one 100 ms probe)", spread(rot.map((x) => x.outageMs)).median, 100, `A refused ${s(spread(rot.map((x) => x.revokedMs)).median)} after up began`);
  const drained = (r.inFlight ?? []).filter((x) => x.drainSeconds > 0);
  if (drained.length > 0) goal("0 replies cut mid-stream by a switch, with the drain", drained.reduce((a, x) => a + x.cut, 0), 0, `${drained.reduce((a, x) => a + x.completed, 0)} completed, ${drained.reduce((a, x) => a + x.refused, 0)} refused cleanly`, "count");
  const gw = r.gateway ?? [];
  const added = spread(gw.map((x) => x.gateway.p50 - x.direct.p50)).median;
  goal("the gateway adds ≤ 1 ms at p50", added, 1, `p50 ${spread(gw.map((x) => x.gateway.p50)).median.toFixed(2)} ms through it, ${spread(gw.map((x) => x.direct.p50)).median.toFixed(2)} ms direct`, "ms");
  return out;
}

export function formatGoals(gs: Goal[]): string {
  return mdTable(
    ["goal", "measured / limit", "ratio", ""],
    gs.map((g) => [
      g.goal,
      g.unit === "count" ? `${g.measured} / ${g.limit}` : g.unit === "ms" ? `${g.measured.toFixed(2)} ms / ${g.limit.toFixed(2)} ms` : `${(g.measured / 1000).toFixed(1)} s / ${(g.limit / 1000).toFixed(1)} s`,
      Number.isFinite(g.ratio) ? g.ratio.toFixed(2) : "–", `${g.met ? "met" : "**missed**"}${g.detail ? ` (${g.detail})` : ""}`]),
  );
}

/** The table in plain text for the terminal (the markdown reads fine there). */
export const formatText = (r: BenchResult) => `${formatTable(r)}\n\n${formatGoals(goals(r))}`;

// ---- the chart -------------------------------------------------------------

/** The run whose downtime is the median one, per procedure and phase (what the chart shows). */
export function medianRun(runs: readonly PhaseRun[]): PhaseRun | undefined {
  const sorted = [...runs].sort((a, b) => a.downtimeMs - b.downtimeMs);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

const PORT_NAME: Record<number, string> = { 5002: "medium :5002", 5003: "medium-vl :5003" };

/**
 * A Vega-Lite spec: one lane per procedure and port, a bar where the port
 * answered, a tick where the tool returned, the outage shaded; migration and
 * rollback side by side, time in seconds from the switch's start.
 */
export function chartSpec(r: BenchResult): Record<string, unknown> {
  const values: Record<string, unknown>[] = [];
  for (const phase of ["migration", "rollback"] as Phase[]) {
    for (const p of PROCEDURES) {
      const run = medianRun(of(r, p, phase));
      if (!run) continue;
      const procedure = PROCEDURE_LABEL[p];
      for (const i of run.intervals) values.push({ kind: "up", phase, procedure, lane: PORT_NAME[i.port] ?? `:${i.port}`, from: i.from / 1000, to: i.to / 1000 });
      values.push({ kind: "returned", phase, procedure, at: run.returnedMs / 1000, label: `returned ${(run.returnedMs / 1000).toFixed(1)} s` });
      values.push({ kind: "down", phase, procedure, label: `no model: ${(run.downtimeMs / 1000).toFixed(1)} s` });
    }
  }
  const order = PROCEDURES.map((p) => PROCEDURE_LABEL[p]);
  const phaseTitle = (phase: Phase) =>
    phase === "migration" ? `Migration medium → medium-vl, cold cache (D = ${r.downloadSeconds} s, L = ${r.loadSeconds} s)` : `Rollback medium-vl → medium, warm cache (L = ${r.loadSeconds} s)`;
  const panel = (phase: Phase) => ({
    title: phaseTitle(phase),
    transform: [{ filter: `datum.phase === '${phase}'` }],
    facet: { row: { field: "procedure", type: "nominal", sort: order, header: { title: null, labelAngle: 0, labelAlign: "left", labelFontWeight: "bold" } } },
    spec: {
      width: 520,
      height: 44,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'up'" }],
          mark: { type: "bar", height: 14 },
          encoding: {
            x: { field: "from", type: "quantitative", title: "seconds from the start of the switch" },
            x2: { field: "to" },
            y: { field: "lane", type: "nominal", title: null, sort: Object.values(PORT_NAME) },
            color: { field: "lane", type: "nominal", title: "answers /health", scale: { domain: Object.values(PORT_NAME), range: ["#4c78a8", "#f58518"] } },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'returned'" }],
          mark: { type: "rule", color: "black", strokeDash: [4, 2], strokeWidth: 1.5 },
          encoding: { x: { field: "at", type: "quantitative" } },
        },
        {
          transform: [{ filter: "datum.kind === 'returned'" }],
          mark: { type: "text", align: "left", dx: 3, dy: -16, fontSize: 10 },
          encoding: { x: { field: "at", type: "quantitative" }, text: { field: "label" } },
        },
        {
          transform: [{ filter: "datum.kind === 'down'" }],
          mark: { type: "text", align: "right", baseline: "bottom", x: 520, y: 44, dy: 14, fontSize: 10, color: "#b00" },
          encoding: { text: { field: "label" } },
        },
      ],
    },
    resolve: { scale: { x: "shared" } },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: "Which model answers when: compose vs. the Pulumi engine (median run)", subtitle: `${r.runs} run(s), probed every 100 ms; dashed: the tool returned` },
    data: { values },
    vconcat: [panel("migration"), panel("rollback")],
    config: { font: "sans-serif", view: { stroke: "#ddd" } },
  };
}

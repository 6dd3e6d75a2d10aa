import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type BenchResult,
  chartSpec,
  downtimeOf,
  firstUpOf,
  fmt,
  formatGoals,
  formatTable,
  goals,
  intervalsOf,
  median,
  medianRun,
  type PhaseRun,
  type Sample,
  spread,
  stepsOf,
  formatSteps,
} from "./benchReport";

// medium answers until 300 ms, nothing until 1200 ms, then medium-vl.
const samples: Sample[] = [0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400].map((t) => ({ t, up: [t < 300, t >= 1200] }));

describe("stats", () => {
  it("median of odd and even counts, and nothing", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
  it("spread skips missing values", () => {
    assert.deepEqual(spread([3000, null, 1000, 2000, undefined]), { median: 2000, min: 1000, max: 3000, n: 3 });
  });
  it("formats a median with its range, or one value alone", () => {
    assert.equal(fmt(spread([10600, 10400, 10900])), "10.6 s (10.4–10.9)");
    assert.equal(fmt(spread([2000])), "2.0 s");
    assert.equal(fmt(spread([])), "n/a");
    assert.equal(fmt(spread([204800]), "MiB", 1024, 0), "200 MiB");
  });
});

describe("the timeline of one switch", () => {
  it("finds each port's answering stretches", () => {
    assert.deepEqual(intervalsOf(samples, [5002, 5003]), [
      { port: 5002, from: 0, to: 300 },
      { port: 5003, from: 1200, to: 1400 },
    ]);
  });
  it("measures the outage as watchOutage does", () => {
    assert.equal(downtimeOf(samples, 1500), 900);
    assert.equal(downtimeOf(samples.slice(0, 6), 800), 500); // still down at the end
  });
  it("finds when the target first answered after the old one went silent", () => {
    assert.equal(firstUpOf(samples, 1), 1200);
    // The target answering before the outage (a no-op) counts from its first answer.
    assert.equal(firstUpOf([{ t: 0, up: [false, true] }], 1), 0);
    assert.equal(firstUpOf([{ t: 0, up: [true, false] }], 1), null);
  });
});

const phase = (procedure: PhaseRun["procedure"], p: PhaseRun["phase"], run: number, downtimeMs: number, wallMs: number, lagMs: number, extra: Partial<PhaseRun> = {}): PhaseRun => ({
  procedure,
  phase: p,
  run,
  wallMs,
  downtimeMs,
  firstUpMs: wallMs - lagMs,
  lagMs,
  downloadedWeights: procedure.startsWith("compose") && p === "migration",
  intervals: [
    { port: p === "migration" ? 5002 : 5003, from: 0, to: 1000 },
    { port: p === "migration" ? 5003 : 5002, from: 1000 + downtimeMs, to: wallMs },
  ],
  returnedMs: wallMs,
  ...extra,
});

function result(): BenchResult {
  const phases: PhaseRun[] = [];
  for (const run of [1, 2, 3]) {
    phases.push(phase("compose-old", "migration", run, 58000 + run * 100, 61000, 28000));
    phases.push(phase("compose-fair", "migration", run, 33000, 34000, 3000));
    phases.push(phase("pulumi-up", "migration", run, 10500 + run * 100, 38000, 600));
    phases.push(phase("switch", "migration", run, 10600, 42000, 2500, { upStepLagMs: 700 }));
    phases.push(phase("compose-old", "rollback", run, 30500, 31000, 20000));
    phases.push(phase("compose-fair", "rollback", run, 13000, 14000, 3000));
    phases.push(phase("pulumi-up", "rollback", run, 12500, 17000, 800));
    phases.push(phase("switch", "rollback", run, 10700, 22000, 2400, { upStepLagMs: 900 }));
  }
  return {
    startedAt: "2026-01-01T00:00:00Z",
    mode: "full",
    machine: { nproc: 2, memoryGiB: 24, kernel: "6", docker: "26", compose: "2.40.3", pulumi: "v3.274.1" },
    downloadSeconds: 20,
    loadSeconds: 10,
    runs: 3,
    plugins: [],
    phases,
    previews: [1, 2, 3].map((run) => ({ run, previewMs: 3000 + run * 100, floorMs: 1500 })),
    refresh: [1, 2, 3].map((run) => ({ run, withMs: 5000, withoutMs: 3500, withChanges: "{}", withoutChanges: "{}" })),
    rss: [1, 2, 3].map((run) => ({ run, byKind: { node: 200 * 1024, pulumi: 100 * 1024 }, totalKiB: 300 * 1024 })),
    failures: [],
  };
}

describe("the table", () => {
  const t = formatTable(result());
  it("has a row per procedure with median (min–max)", () => {
    assert.match(t, /\| pulumi up \| 10\.7 s \(10\.6–10\.8\) \| 38\.0 s \(38\.0–38\.0\) \| 0\.6 s/);
    assert.match(t, /\| npm run switch \| 10\.6 s .* \| 2\.5 s \(2\.5–2\.5\) \(its up step: 0\.7 s/);
    assert.match(t, /\| compose \(old timings\) \| 58\.2 s/);
  });
  it("counts the new containers that downloaded weights", () => {
    assert.match(t, /\| compose \(our timings\) \| 33\.0 s .* \| 3\/3 \|/);
    assert.match(t, /Rollback[\s\S]*\| pulumi up \|[^\n]*\| 0\/3 \|/);
  });
  it("has the preview, RSS and refresh rows", () => {
    assert.match(t, /\| 3\.2 s \(3\.1–3\.3\) \| 1\.5 s \(1\.5–1\.5\) \| 2\.13× \|/);
    assert.match(t, /\| node \| 200 MiB/);
    assert.match(t, /\| 5\.0 s \(5\.0–5\.0\) \| 3\.5 s \(3\.5–3\.5\) \| 1\.5 s \|/);
  });
});

describe("the goals", () => {
  const gs = goals(result());
  const g = (re: RegExp) => gs.find((x) => re.test(x.goal))!;
  it("gives each as a ratio, met or missed", () => {
    assert.equal(g(/^migration downtime.*pulumi up/).met, true);
    assert.equal(g(/^migration downtime.*pulumi up/).limit, 11000);
    assert.equal(g(/^rollback downtime.*pulumi up/).met, false);
    assert.ok(Math.abs(g(/^rollback downtime.*pulumi up/).ratio - 12500 / 11000) < 1e-9);
    assert.equal(g(/^preview/).met, false);
    assert.equal(g(/detection lag.*switch, migration/).measured, 700);
    // rollback overhead: ours 17 - 10 = 7 s, compose (our timings) 14 - 10 = 4 s, + 2 s
    assert.equal(g(/up overhead.*rollback/).measured, 7000);
    assert.equal(g(/up overhead.*rollback/).limit, 6000);
  });
  it("formats them", () => {
    assert.match(formatGoals(gs), /\| preview ≤ 1\.5× the floor \| 3\.2 s \/ 2\.3 s \| 1\.42 \| \*\*missed\*\*/);
  });
  it("skips what was not measured", () => {
    assert.equal(goals({ ...result(), phases: [], previews: [] }).length, 0);
  });
  it("row 8: a key rotation, its table and its goal", () => {
    const r = { ...result(), rotation: [{ run: 1, upMs: 6200, revokedMs: 5100, outageMs: 0, failed: 0 }, { run: 2, upMs: 6400, revokedMs: 5300, outageMs: 0, failed: 0 }] };
    assert.match(formatTable(r), /\*\*8\. A key rotation\*\*[\s\S]*\| 6\.3 s \(6\.2–6\.4\) \| 5\.2 s \(5\.1–5\.3\) \| 0\.0 s \(0\.0–0\.0\) \| 0 \|/);
    const rot = goals(r).find((x) => /key rotation/.test(x.goal))!;
    assert.equal(rot.met, true);
    assert.equal(rot.limit, 100);
    assert.equal(goals({ ...r, rotation: [{ run: 1, upMs: 6200, revokedMs: 5100, outageMs: 400, failed: 0 }] }).find((x) => /key rotation/.test(x.goal))!.met, false);
  });
  it("row 9: requests in flight, summed per switch and drain, and the goal on the drained ones", () => {
    const x = (phase: "migration" | "rollback", drainSeconds: number, completed: number, cut: number, refused: number, outageMs: number) => ({ run: 1, phase, drainSeconds, completed, cut, refused, outageMs, upMs: 15000 });
    const r = { ...result(), inFlight: [x("migration", 0, 10, 4, 30, 11000), x("migration", 30, 14, 0, 40, 14500), x("rollback", 0, 9, 4, 20, 10800), x("rollback", 30, 13, 0, 25, 14000)] };
    const t = formatTable(r);
    assert.match(t, /\| migration \| none \(stop at once\) \| 10 \| 4 \| 30 \| 11\.0 s \|/);
    assert.match(t, /\| rollback \| 30 s \| 13 \| 0 \| 25 \| 14\.0 s \|/);
    const g = goals(r).find((y) => /cut mid-stream/.test(y.goal))!;
    assert.equal(g.met, true);
    assert.match(formatGoals(goals(r)), /\| 0 replies cut mid-stream by a switch, with the drain \| 0 \/ 0 \| – \| met \(27 completed, 65 refused cleanly\) \|/);
    const cutOne = { ...r, inFlight: [x("migration", 30, 14, 1, 40, 14500)] };
    assert.equal(goals(cutOne).find((y) => /cut mid-stream/.test(y.goal))!.met, false);
  });
  it("standby: its rows (overhead over the wake W) and the rollback goal, wake + 1 s, against the rollback without it", () => {
    const base = result();
    const r = { ...base, wakeSeconds: 1, phases: [...base.phases, ...[1, 2, 3].flatMap((run) => [phase("standby", "migration", run, 1500 + run * 100, 6000, 700), phase("standby", "rollback", run, 1700, 5800, 600)])] };
    const t = formatTable(r);
    assert.match(t, /Rollback[\s\S]*\| pulumi up, standby \(a wake\), W = 1 s \(overhead: wall − W\) \| 1\.7 s \(1\.7–1\.7\) \| 5\.8 s \(5\.8–5\.8\) \| 0\.6 s \(0\.6–0\.6\) \| 4\.8 s/);
    const g = goals(r).find((y) => /standby/.test(y.goal))!;
    assert.deepEqual([g.measured, g.limit, g.met], [1700, 2000, true]);
    assert.match(g.detail, /without standby: 12\.5 s/);
    assert.equal(goals(base).filter((y) => /standby/.test(y.goal)).length, 0, "no standby goal in a report without its rows");
  });
});

describe("the chart", () => {
  it("shows the median run of each procedure and phase", () => {
    const runs = result().phases.filter((x) => x.procedure === "pulumi-up" && x.phase === "migration");
    assert.equal(medianRun(runs)!.run, 2);
  });
  it("is a Vega-Lite spec with the answering bars, the returns and both phases", () => {
    const spec = chartSpec(result()) as { data: { values: Record<string, unknown>[] }; vconcat: unknown[] };
    assert.equal(spec.vconcat.length, 2);
    const up = spec.data.values.filter((v) => v.kind === "up");
    assert.equal(up.length, 16); // 4 procedures x 2 phases x 2 stretches
    assert.ok(up.some((v) => v.procedure === "pulumi up" && v.lane === "medium-vl :5003" && v.phase === "migration"));
    const ret = spec.data.values.filter((v) => v.kind === "returned");
    assert.deepEqual(ret.map((v) => v.at).slice(0, 4), [61, 34, 38, 42]);
  });
  it("compiles with vega-lite and renders to SVG with vega", async () => {
    const vega = await import("vega");
    const name = "vega-lite";
    const vl = (await import(name)) as { compile(spec: unknown): { spec: Parameters<typeof vega.parse>[0] } };
    const view = new vega.View(vega.parse(vl.compile(chartSpec(result())).spec), { renderer: "none" });
    const svg = await view.toSVG();
    assert.match(svg, /^<svg/);
    assert.match(svg, /npm run switch/);
    assert.match(svg, /medium-vl :5003/);
  });
});

describe("the engine's profile", () => {
  it("pairs each resource's pre-event with its outputs, after the start", () => {
    const u = (n: string) => `urn:pulumi:medium-vl::myia-vllm::myia:vllm:VllmService$command:local:Command::${n}`;
    const steps = stepsOf([
      { ms: 900, kind: "prelude" },
      { ms: 1000, kind: "resourcePre", op: "refresh", urn: u("medium-vl-weights") },
      { ms: 1200, kind: "resourcePre", op: "create", urn: u("medium-vl-ready") },
      { ms: 1300, kind: "resOutputs", op: "refresh", urn: u("medium-vl-weights") },
      { ms: 4200, kind: "resOpFailed", urn: u("medium-vl-ready") },
      { ms: 4300, kind: "summary" },
    ]);
    assert.deepEqual(steps, [
      { name: "(start: CLI, program, plugins)", op: "start", fromMs: 0, toMs: 900 },
      { name: "medium-vl-weights", op: "refresh", fromMs: 1000, toMs: 1300 },
      { name: "medium-vl-ready", op: "create", fromMs: 1200, toMs: 4200 },
      { name: "(summary)", op: "summary", fromMs: 4300, toMs: 4300 },
    ]);
    assert.deepEqual(formatSteps(steps, 500).map((l) => l.trim().split(/\s+/).slice(-1)[0]), ["plugins)", "medium-vl-ready", "(summary)"]);
  });
});

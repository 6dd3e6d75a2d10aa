/**
 * The docker plugin the engine runs (our offline build, or the official one)
 * serves the schema @pulumi/docker 5.2.0 was generated from: its schema, as
 * `pulumi package get-schema` gets it from the plugin, against the official
 * pulumi-docker schema closest to 5.2.0 (../shared/reference). Everything the
 * program uses must have the same wire shape (names, types, refs, required,
 * secret); every other difference is listed in the test's output.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { resolvedPlugins } from "../../tools/lib/plugins";
import { needsPlugins } from "../helpers/engineProject";
import { REPO } from "../helpers/profile";

const REFERENCE = join(REPO, "..", "shared", "reference", "pulumi-docker-237b7899.schema.json");

/** The tokens the program declares (components/docker/gpuHost.ts, components/docker/vllmService.ts). */
const USED_RESOURCES = ["docker:index/container:Container", "docker:index/remoteImage:RemoteImage"];

type Prop = Record<string, unknown>;
type Schema = { config: { variables: Record<string, Prop> }; provider: { inputProperties: Record<string, Prop> }; resources: Record<string, any>; functions: Record<string, any>; types: Record<string, any> };

/** What the SDK and the engine exchange about a property; descriptions and annotations left out. */
const NOT_WIRE = new Set(["description", "willReplaceOnChanges", "deprecationMessage", "language"]);
function wire(p: unknown): unknown {
  if (Array.isArray(p)) return p.map(wire);
  if (!p || typeof p !== "object") return p;
  return Object.fromEntries(
    Object.entries(p)
      .filter(([k]) => !NOT_WIRE.has(k))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, wire(v)]),
  );
}

function refsOf(v: unknown, into: Set<string>): Set<string> {
  if (Array.isArray(v)) v.forEach((x) => refsOf(x, into));
  else if (v && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "$ref" && typeof x === "string" && x.startsWith("#/types/")) into.add(decodeURIComponent(x.slice("#/types/".length)));
      else refsOf(x, into);
    }
  }
  return into;
}

/** Compares two property maps; returns the mismatches of the shared ones and the names only one side has. */
function compareProps(where: string, ours: Record<string, Prop> = {}, theirs: Record<string, Prop> = {}) {
  const mismatched: string[] = [];
  const onlyOurs = Object.keys(ours).filter((k) => !(k in theirs)).map((k) => `${where}.${k}`);
  const onlyTheirs = Object.keys(theirs).filter((k) => !(k in ours)).map((k) => `${where}.${k}`);
  const annotations: string[] = [];
  for (const k of Object.keys(ours).filter((k) => k in theirs)) {
    if (JSON.stringify(wire(ours[k])) !== JSON.stringify(wire(theirs[k]))) mismatched.push(`${where}.${k}: ours ${JSON.stringify(wire(ours[k]))}, official ${JSON.stringify(wire(theirs[k]))}`);
    if (Boolean(ours[k].willReplaceOnChanges) !== Boolean(theirs[k].willReplaceOnChanges)) annotations.push(`${where}.${k}: willReplaceOnChanges ours ${Boolean(ours[k].willReplaceOnChanges)}, official ${Boolean(theirs[k].willReplaceOnChanges)}`);
  }
  return { mismatched, onlyOurs, onlyTheirs, annotations };
}

const docker = resolvedPlugins().find((p) => p.name === "docker");
const skip = !existsSync(REFERENCE) ? `no reference schema at ${REFERENCE} (../shared/reference is laid beside the repo on our machines)` : needsPlugins;

describe("docker plugin schema against the official one", { skip }, () => {
  let ours: Schema;
  let theirs: Schema;
  before(() => {
    ours = JSON.parse(execFileSync("pulumi", ["package", "get-schema", docker!.path], { encoding: "utf8", maxBuffer: 64 << 20 }));
    theirs = JSON.parse(readFileSync(REFERENCE, "utf8"));
    console.log(`our plugin: ${docker!.source} (${docker!.path})`);
  });

  it("serves every resource the program uses, with the same inputs, outputs and types", () => {
    const problems: string[] = [];
    const types = new Set<string>();
    for (const tok of USED_RESOURCES) {
      assert.ok(ours.resources[tok], `our plugin has no ${tok}`);
      for (const section of ["inputProperties", "properties"] as const) {
        const c = compareProps(`${tok}.${section}`, ours.resources[tok][section], theirs.resources[tok][section]);
        problems.push(...c.mismatched, ...c.onlyTheirs.map((n) => `${n}: missing from ours`));
      }
      assert.deepEqual([...(ours.resources[tok].required ?? [])].sort(), [...(theirs.resources[tok].required ?? [])].sort(), `${tok} required outputs`);
      assert.deepEqual([...(ours.resources[tok].requiredInputs ?? [])].sort(), [...(theirs.resources[tok].requiredInputs ?? [])].sort(), `${tok} required inputs`);
      refsOf(theirs.resources[tok], types);
    }
    // Every type those resources reach, and the types those reach.
    for (const seen = new Set<string>(); [...types].some((t) => !seen.has(t)); ) {
      for (const t of [...types].filter((t) => !seen.has(t))) {
        seen.add(t);
        refsOf(theirs.types[t], types);
      }
    }
    for (const t of types) {
      if (!ours.types[t]) {
        problems.push(`type ${t}: missing from ours`);
        continue;
      }
      const c = compareProps(`type ${t}`, ours.types[t].properties, theirs.types[t].properties);
      problems.push(...c.mismatched, ...c.onlyTheirs.map((n) => `${n}: missing from ours`));
    }
    const c = compareProps("provider", ours.provider.inputProperties, theirs.provider.inputProperties);
    problems.push(...c.mismatched, ...c.onlyTheirs.map((n) => `${n}: missing from ours`));
    assert.deepEqual(problems, []);
    console.log(`compared ${USED_RESOURCES.length} resources, ${types.size} types and the provider's config: same wire shape`);
  });

  it("lists every other difference", () => {
    const lines: string[] = [];
    const keys = (o: object = {}) => Object.keys(o);
    for (const kind of ["resources", "functions", "types"] as const) {
      for (const k of keys(theirs[kind]).filter((k) => !ours[kind][k])) lines.push(`${kind} ${k}: only in the official plugin`);
      for (const k of keys(ours[kind]).filter((k) => !theirs[kind][k])) lines.push(`${kind} ${k}: only in ours`);
    }
    for (const tok of keys(ours.resources).filter((k) => theirs.resources[k])) {
      for (const section of ["inputProperties", "properties"] as const) {
        const c = compareProps(`${tok}.${section}`, ours.resources[tok][section], theirs.resources[tok][section]);
        lines.push(...c.onlyOurs.map((n) => `${n}: only in ours (newer upstream)`), ...c.annotations);
        if (!USED_RESOURCES.includes(tok)) lines.push(...c.mismatched, ...c.onlyTheirs.map((n) => `${n}: only in the official plugin`));
      }
    }
    for (const l of lines) console.log(`difference: ${l}`);
    assert.ok(ours.resources["docker:index/container:Container"].inputProperties.deviceRequests, "deviceRequests, for the GPUs");
    if (docker!.source.startsWith("official")) return;
    // Our build lacks the one resource of the official 5.x that is not Terraform's
    // (docker:index/image:Image, native buildx) and its four types; the program uses none of them.
    assert.deepEqual(
      lines.filter((l) => / only in the official plugin$/.test(l) && (l.startsWith("resources ") || l.startsWith("types "))).sort(),
      ["resources docker:index/image:Image", ...["builderVersion:BuilderVersion", "cacheFrom:CacheFrom", "dockerBuild:DockerBuild", "registry:Registry"].map((t) => `types docker:index/${t}`)].map((t) => `${t}: only in the official plugin`).sort(),
    );
  });
});

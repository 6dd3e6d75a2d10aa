/**
 * Our flag check is never looser than vLLM's parser: for hundreds of command
 * lines built from each release's table (every option with a good and a bad
 * value, unknown, removed and abbreviated flags), whatever the stand-in's
 * parser (itself held to CPython's argparse by its Go tests) rejects, our
 * checkArgv rejects too. Where we are stricter on purpose (abbreviations,
 * values vLLM only checks at start-up), the count is printed.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { checkArgv, flagTable, FlagSpec, supportedVersions } from "../components/vllm/catalog";

const REPO = join(__dirname, "..");
let bin = "";

function casesFor(version: string): string[][] {
  const t = flagTable(version)!;
  const cases: string[][] = [];
  const good: Record<string, string> = { int: "7", float: "0.5", json: "{}", human_int: "4096", str: "x", bool_str: "true" };
  const bad: Record<string, string> = { int: "x7", float: "abc", json: "{bad", human_int: "lots" };
  for (const o of t.options as FlagSpec[]) {
    const name = o.names.find((n) => n.startsWith("--"));
    if (!name || o.action === "help" || o.action === "version") continue;
    if (o.action === "store_true" || o.action === "store_false" || o.action === "boolean_optional") {
      cases.push(["m", name], ["m", `${name}=1`]);
      continue;
    }
    const type = o.type ?? "str";
    const goodValue = String(o.choices?.[0] ?? o.knownValues?.[0] ?? good[type] ?? "x");
    cases.push(["m", name, goodValue]);
    if (bad[type]) cases.push(["m", name, bad[type]]);
    if (o.choices) cases.push(["m", name, "not-a-choice"]);
    cases.push(["m", name]); // missing value
    cases.push(["m", name.replace(/-/g, "_").replace(/^__/, "--"), goodValue]);
  }
  for (const r of t.removed) cases.push(["m", r.flag, "1"]);
  cases.push(["m", "--no-such-flag", "1"], ["m", "--tensor-parallel", "2"], ["m", "--max-model", "4096"], ["m", "extra-positional"], ["m", "--limit-mm-per-prompt.image", "3"]);
  return cases;
}

describe("our flag check against the stand-in's parser", () => {
  before(() => {
    bin = join(mkdtempSync(join(tmpdir(), "standin-bin-")), "vllm");
    execFileSync("go", ["build", "-o", bin, "./cmd/vllm-standin"], { cwd: join(REPO, "standin"), env: { ...process.env, CGO_ENABLED: "0" } });
  });

  for (const version of supportedVersions()) {
    it(`is never looser than vLLM ${version}'s parser`, () => {
      let agree = 0;
      const stricter: string[] = [];
      const looser: string[] = [];
      for (const argv of casesFor(version)) {
        const r = spawnSync(bin, ["serve", ...argv], { encoding: "utf8", env: { PATH: process.env.PATH, STANDIN_PARSE_ONLY: "1", STANDIN_FLAGS_FILE: join(REPO, `components/vllm/flags/v${version}.json`) } });
        const theirs = r.status === 0;
        const ours = checkArgv(flagTable(version)!, argv).length === 0;
        if (theirs === ours) agree++;
        else if (theirs) stricter.push(argv.slice(1).join(" "));
        else looser.push(`${argv.slice(1).join(" ")} -> ${r.stderr.trim().split("\n").pop()}`);
      }
      console.log(`vLLM ${version}: ${agree} agree, ${stricter.length} refused only by us (on purpose), ${looser.length} refused only by vLLM`);
      assert.deepEqual(looser, [], "accepted by our check but refused by vLLM's parser");
    });
  }
});

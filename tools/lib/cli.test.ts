import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseCli } from "./cli";

const REPO = join(__dirname, "..", "..");

describe("parseCli", () => {
  const usage = "usage: x [--n N]\n\nmore";
  it("returns the values, with defaults", () => {
    assert.deepEqual({ ...(parseCli(["--n", "3"], { n: { type: "string", default: "1" }, v: { type: "boolean" } }, usage) as object) }, { n: "3" });
  });
  it("prints the usage for --help and -h and returns 0", () => {
    assert.equal(parseCli(["--help"], {}, usage), 0);
    assert.equal(parseCli(["-h"], {}, usage), 0);
  });
  it("returns 2 for an unknown option or a stray argument", () => {
    assert.equal(parseCli(["--bogus"], {}, usage), 2);
    assert.equal(parseCli(["stray"], {}, usage), 2);
  });
});

describe("every tool's command line", () => {
  for (const tool of ["check", "validate", "switch", "demo", "import", "bench"]) {
    const run = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools", `${tool}.ts`), ...args], { cwd: REPO, encoding: "utf8" });
    it(`${tool} --help prints its usage, exit 0`, () => {
      const r = run("--help");
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: npm run ${tool}`));
    });
    it(`${tool} --bogus says what is wrong and the usage, exit 2, no stack trace`, () => {
      const r = run("--bogus");
      assert.equal(r.status, 2);
      assert.match(r.stderr, /Unknown option '--bogus'/);
      assert.match(r.stderr, new RegExp(`usage: npm run ${tool}`));
      assert.doesNotMatch(r.stderr, /^\s+at /m);
    });
  }
});

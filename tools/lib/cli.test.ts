import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
  // Every npm script that runs a tool (the demo through scripts/demo.sh).
  const scripts = (JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const tools = [...Object.entries(scripts).flatMap(([name, cmd]) => (/^tsx tools\/\w+\.ts$/.test(cmd) ? [name] : [])), "demo"];
  it("covers every tool, ca and catalog included", () => assert.deepEqual([...tools].sort(), ["bench", "ca", "catalog", "check", "demo", "import", "switch", "validate"]));
  for (const tool of tools) {
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

describe("npm run ca", () => {
  // A project whose stack is deployed nowhere: no backend, and a Docker host that does not answer.
  const dir = mkdtempSync(join(tmpdir(), "myia-ca-"));
  writeFileSync(join(dir, "Pulumi.yaml"), readFileSync(join(REPO, "Pulumi.yaml")));
  writeFileSync(join(dir, "Pulumi.medium-vl.yaml"), `${readFileSync(join(REPO, "Pulumi.medium-vl.yaml"), "utf8")}  myia-vllm:host:\n    docker: unix:///tmp/myia-ca-test-no-docker.sock\n`);
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools", "ca.ts"), ...args, "--dir", dir], { cwd: REPO, encoding: "utf8", env: { ...process.env, PULUMI_BACKEND_URL: `file://${join(dir, "no-backend")}` } });
  it("needs --stack: one line and the usage, exit 2", () => {
    const r = run();
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^--stack is required\nusage: npm run ca/);
  });
  it("says how to make the CA when the stack is not deployed, exit 1, no stack trace", () => {
    const r = run("--stack", "medium-vl");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^stack medium-vl: no CA yet; the gateway makes it on its first start: run `pulumi up --stack medium-vl`/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });
});

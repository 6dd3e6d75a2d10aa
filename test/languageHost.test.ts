/**
 * `pulumi preview` runs index.ts through the nodejs language host, which
 * compiles TypeScript with @pulumi/pulumi's vendored ts-node 7 and the
 * project's own typescript. That host cannot be built here, so this test
 * does its compile step: a feature ts-node 7 cannot handle fails here, not on
 * the GPU host.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { it } from "node:test";

const REPO = join(__dirname, "..");

it("compiles and loads index.ts the way the nodejs language host does", () => {
  const script = `
    const tsn = require(require("path").join(require.resolve("@pulumi/pulumi/package.json"), "..", "vendor", "ts-node@7.0.1"));
    tsn.register({ typeCheck: true, compiler: require.resolve("typescript"), project: "tsconfig.json", files: true });
    const program = require("./index.ts");
    process.stdout.write(typeof program);`;
  // Plain node, no tsx: only ts-node compiles here.
  const r = spawnSync(process.execPath, ["-e", script], { cwd: REPO, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "function");
});

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import { previousRelease } from "./catalog";

const REPO = join(__dirname, "..");
const catalog = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", join(REPO, "tools/catalog.ts"), ...args], { cwd: REPO, encoding: "utf8" });

describe("npm run catalog", () => {
  it("answers --help without touching PyPI", () => {
    const r = catalog("--help");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: npm run catalog -- --vllm <version>/);
  });

  it("refuses a missing or malformed --vllm with exit 2", () => {
    assert.equal(catalog().status, 2);
    assert.equal(catalog("--vllm", "latest").status, 2);
  });

  it("compares with the catalogued release just before", () => {
    assert.equal(previousRelease(["0.11.0", "0.21.0", "0.20.0"], "0.34.0"), "0.21.0");
    assert.equal(previousRelease(["0.11.0", "0.21.0", "0.20.0"], "0.21.0"), "0.20.0");
    assert.equal(previousRelease(["0.11.0"], "0.11.0"), undefined);
  });
});

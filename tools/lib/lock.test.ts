import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { takeLock } from "./lock";

describe("takeLock", () => {
  it("refuses a second holder while the first lives, and frees on release", () => {
    const path = join(mkdtempSync(join(tmpdir(), "lock-")), "switch.lock");
    const release = takeLock(path, "switch");
    assert.throws(() => takeLock(path, "switch"), new RegExp(`another switch is running \\(pid ${process.pid}\\); wait for it to end`));
    release();
    assert.equal(existsSync(path), false);
    takeLock(path, "switch")();
  });

  it("takes over a lock whose owner is gone", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "lock-")), "switch.lock");
    const child = spawn(process.execPath, ["-e", ""]);
    const pid = child.pid!;
    await new Promise((r) => child.on("exit", r));
    writeFileSync(path, String(pid));
    takeLock(path, "switch")();
  });
});

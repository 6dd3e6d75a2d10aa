/**
 * A lock file, so that two switches never race on one host: taken with
 * O_EXCL, it holds the owner's pid; a lock whose owner is gone is taken over.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock, or throws saying who holds it. Returns the release function. */
export function takeLock(path: string, what: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = Number(readFileSync(path, "utf8").trim());
      if (owner && alive(owner)) throw new Error(`another ${what} is running (pid ${owner}); wait for it to end`);
      rmSync(path, { force: true }); // its owner is gone: a stale lock
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

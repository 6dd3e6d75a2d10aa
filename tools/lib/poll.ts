/**
 * A sampling loop for the tools' watchers (outage, RSS, process exit): runs
 * `tick` every `everyMs`, counted from each tick's start, until `stop()` or
 * until `tick` returns false. `stop()` resolves once the last tick is done.
 */
export function pollEvery(everyMs: number, tick: (t: number) => Promise<boolean | void>): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = Date.now();
      if ((await tick(t)) === false) return;
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - t))));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

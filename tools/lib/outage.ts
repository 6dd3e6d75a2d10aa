/** Is a model answering? Measured from outside, as a client sees it. */
import { pollEvery } from "./poll";

/** True when the server on this port answers /health within a second. */
export async function answers(port: number, host = "127.0.0.1"): Promise<boolean> {
  try {
    return (await fetch(`http://${host}:${port}/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
  } catch {
    return false;
  }
}

/**
 * Probes the ports every 100 ms and measures the longest stretch in which no
 * model answered /health on any of them. `onSample`, when given, sees every
 * probe: its start time (epoch ms) and which ports answered, in `ports` order
 * (the bench draws its timeline from these).
 */
export function watchOutage(ports: number[], onSample?: (t: number, up: boolean[]) => void): { stop(): Promise<number> } {
  let downSince: number | undefined;
  let longest = 0;
  const poll = pollEvery(100, async (t) => {
    const each = await Promise.all(ports.map((p) => answers(p)));
    onSample?.(t, each);
    const up = each.some(Boolean);
    if (!up && downSince === undefined) downSince = t;
    if (up && downSince !== undefined) {
      longest = Math.max(longest, t - downSince);
      downSince = undefined;
    }
  });
  return {
    async stop() {
      await poll.stop();
      if (downSince !== undefined) longest = Math.max(longest, Date.now() - downSince);
      return longest;
    },
  };
}


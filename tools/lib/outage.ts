/** Is a model answering? Measured from outside, as a client sees it. */
import * as http from "node:http";
import * as https from "node:https";
import { pollEvery } from "./poll";

function status(mod: typeof http | typeof https, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // Availability, not trust: the probe runs before the first up has made
    // the CA that clients trust (validate checks the certificate).
    const req = mod.get(url, { timeout: 1000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

/**
 * True when the server on this port answers /health within a second: over
 * HTTPS (the gateway's default), else plain HTTP (a gateway with
 * gateway.tls.mode off, vLLM's own port, the compose baseline).
 */
export async function answers(port: number, host = "127.0.0.1"): Promise<boolean> {
  try {
    return (await status(https, `https://${host}:${port}/health`)) === 200;
  } catch (e) {
    // Not TLS at all: the port speaks plain HTTP.
    if (!/EPROTO|wrong version number|packet length too long/i.test(String((e as Error).message) + String((e as NodeJS.ErrnoException).code))) return false;
  }
  try {
    return (await status(http, `http://${host}:${port}/health`)) === 200;
  } catch {
    return false;
  }
}

/** A local port to probe with `answers`, or a probe of its own (a cluster's Service through a forward: tools/lib/cluster.ts). */
export type Watched = number | (() => Promise<boolean>);

/**
 * Probes each target every 100 ms and measures the longest stretch in which
 * no model answered /health on any of them. `onSample`, when given, sees
 * every probe: its start time (epoch ms) and which targets answered, in
 * their order (the bench draws its timeline from these).
 */
export function watchOutage(targets: Watched[], onSample?: (t: number, up: boolean[]) => void): { stop(): Promise<number> } {
  let downSince: number | undefined;
  let longest = 0;
  const poll = pollEvery(100, async (t) => {
    const each = await Promise.all(targets.map((p) => (typeof p === "number" ? answers(p) : p())));
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

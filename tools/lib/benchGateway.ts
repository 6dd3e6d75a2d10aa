/**
 * The gateway's cost: N small requests (GET /v1/models with the key), one at
 * a time on a kept-alive connection, through the gateway and straight to
 * vLLM on its private network (the bench runs on the host, which reaches
 * the container's address), interleaved so both see the same machine load.
 */
import { percentile } from "./stats";

export interface LatencyPair {
  p50: number;
  p99: number;
}

export interface GatewayRun {
  run: number;
  requests: number;
  gateway: LatencyPair;
  direct: LatencyPair;
}

async function once(url: string, apiKey: string): Promise<number> {
  const t = performance.now();
  const r = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}`);
  return performance.now() - t;
}

const pair = (ms: number[]): LatencyPair => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

/** Latency through `gatewayUrl` and `directUrl` (each a base URL without /v1), `requests` of each. */
export async function gatewayLatency(gatewayUrl: string, directUrl: string, apiKey: string, requests: number): Promise<Omit<GatewayRun, "run">> {
  const via: number[] = [];
  const direct: number[] = [];
  // Warm both paths: connections, Caddy's upstream pool, the JIT.
  for (let i = 0; i < 20; i++) {
    await once(`${gatewayUrl}/v1/models`, apiKey);
    await once(`${directUrl}/v1/models`, apiKey);
  }
  for (let i = 0; i < requests; i++) {
    via.push(await once(`${gatewayUrl}/v1/models`, apiKey));
    direct.push(await once(`${directUrl}/v1/models`, apiKey));
  }
  return { requests, gateway: pair(via), direct: pair(direct) };
}

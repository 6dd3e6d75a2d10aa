/**
 * Clients streaming long chat replies in a loop, as an application would
 * while a switch happens, and what became of each reply. A reply is:
 *   - completed: it ended with a finish_reason and `data: [DONE]`;
 *   - cut: its first byte came (HTTP 200), and it ended without them: the
 *     model went away mid-stream, which a client only sees by checking
 *     finish_reason;
 *   - refused: turned away before any byte of a reply (a 503 with
 *     Retry-After from a draining gateway, a connection refused or reset):
 *     clean, since a client can retry it as if it was never sent.
 */

export interface StreamTally {
  completed: number;
  cut: number;
  refused: number;
  /** The first cut reply's last bytes, to say how it ended. */
  cutSample?: string;
  /** How the refused ones were refused ("HTTP 503 Retry-After 5", "ECONNREFUSED"), counted. */
  refusedHow?: Record<string, number>;
}

export interface StreamWorkload {
  /** Stops sending; resolves when the replies in flight have ended, with the tally. */
  stop(): Promise<StreamTally>;
}

export interface StreamOptions {
  /** The stack's endpoint without /v1, e.g. https://127.0.0.1:5002. */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Clients streaming at once (default 4). */
  clients?: number;
  /** Tokens per reply (vLLM's min_tokens): sets how long a reply streams. */
  minTokens?: number;
  /** Pause after a refusal, as a client honouring Retry-After would (shorter, to keep counting). */
  retryMs?: number;
}

/** How one streamed request ended. */
export async function streamOnce(o: StreamOptions): Promise<{ outcome: "completed" | "cut" | "refused"; tail: string }> {
  let res: Response;
  try {
    res = await fetch(`${o.baseUrl}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
      body: JSON.stringify({ model: o.model, messages: [{ role: "user", content: "Tell a long story." }], stream: true, min_tokens: o.minTokens ?? 100 }),
      signal: AbortSignal.timeout(120_000),
    });
  } catch (e) {
    // No response at all: nothing of a reply reached the client.
    return { outcome: "refused", tail: String((e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message) };
  }
  if (res.status !== 200) {
    await res.text().catch(() => "");
    const retry = res.headers.get("retry-after");
    return { outcome: "refused", tail: `HTTP ${res.status}${retry ? ` Retry-After ${retry}` : ""}` };
  }
  let text = "";
  try {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
  } catch (e) {
    return { outcome: "cut", tail: `${text.slice(-120)} [${(e as Error).message}]` };
  }
  const whole = /"finish_reason":"[a-z_]+"/.test(text) && text.includes("data: [DONE]");
  return { outcome: whole ? "completed" : "cut", tail: text.slice(-120) };
}

/** Starts the clients; each sends its next request as soon as the last one ended. */
export function streamWorkload(o: StreamOptions): StreamWorkload {
  const tally: StreamTally = { completed: 0, cut: 0, refused: 0 };
  let stopping = false;
  const loop = async () => {
    while (!stopping) {
      const r = await streamOnce(o);
      tally[r.outcome]++;
      if (r.outcome === "cut") tally.cutSample ??= r.tail;
      if (r.outcome === "refused") {
        (tally.refusedHow ??= {})[r.tail] = (tally.refusedHow[r.tail] ?? 0) + 1;
        await new Promise((res) => setTimeout(res, o.retryMs ?? 200));
      }
    }
  };
  const loops = Array.from({ length: o.clients ?? 4 }, loop);
  return {
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return tally;
    },
  };
}

import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { streamOnce, streamWorkload } from "./streams";

/** A server that ends its streams the ways a switch can: whole, cut mid-stream, or refused before any byte. */
function server(): Promise<{ url: string; srv: Server; mode: { now: string } }> {
  const mode = { now: "whole" };
  const srv = createServer((req, res) => {
    req.resume();
    if (mode.now === "refuse") {
      res.writeHead(503, { "retry-after": "10" }).end("being switched off");
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(`data: {"choices":[{"delta":{"content":"Once"},"finish_reason":null}]}\n\n`);
    if (mode.now === "cut") {
      // The model's process goes away: the connection ends mid-reply.
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (mode.now === "truncate") {
      // Ends cleanly at the HTTP level, but without a finish_reason.
      setTimeout(() => res.end(), 20);
      return;
    }
    setTimeout(() => res.end(`data: {"choices":[{"delta":{},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n`), 20);
  });
  return new Promise((r) => srv.listen(0, "127.0.0.1", () => r({ url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, srv, mode })));
}

describe("stream outcomes", () => {
  let s: Awaited<ReturnType<typeof server>>;
  before(async () => (s = await server()));
  after(() => s.srv.close());

  const cases = [
    { mode: "whole", outcome: "completed" },
    { mode: "cut", outcome: "cut" },
    { mode: "truncate", outcome: "cut" },
    { mode: "refuse", outcome: "refused" },
  ];
  for (const c of cases) {
    it(`${c.mode} -> ${c.outcome}`, async () => {
      s.mode.now = c.mode;
      assert.equal((await streamOnce({ baseUrl: s.url, model: "m" })).outcome, c.outcome);
    });
  }

  it("a port where nothing listens is a clean refusal", async () => {
    // A port that was just free: fetch refuses some well-known ones by policy, not by connection.
    const free = await new Promise<number>((r) => {
      const t = createServer().listen(0, "127.0.0.1", () => {
        const port = (t.address() as AddressInfo).port;
        t.close(() => r(port));
      });
    });
    const r = await streamOnce({ baseUrl: `http://127.0.0.1:${free}`, model: "m" });
    assert.equal(r.outcome, "refused");
    assert.match(r.tail, /ECONNREFUSED/);
  });

  it("the workload counts every reply its clients got, and waits for those in flight", async () => {
    s.mode.now = "whole";
    const w = streamWorkload({ baseUrl: s.url, model: "m", clients: 3 });
    await new Promise((r) => setTimeout(r, 150));
    s.mode.now = "cut";
    await new Promise((r) => setTimeout(r, 150));
    const t = await w.stop();
    assert.ok(t.completed >= 3, JSON.stringify(t));
    assert.ok(t.cut >= 1, JSON.stringify(t));
    assert.equal(t.refused, 0);
    assert.match(t.cutSample ?? "", /Once/);
  });

  it("the workload says how each refused reply was refused", async () => {
    s.mode.now = "refuse";
    const w = streamWorkload({ baseUrl: s.url, model: "m", clients: 2, retryMs: 10 });
    await new Promise((r) => setTimeout(r, 100));
    const t = await w.stop();
    assert.ok(t.refused >= 2, JSON.stringify(t));
    assert.deepEqual(t.refusedHow, { "HTTP 503 Retry-After 10": t.refused });
  });
});

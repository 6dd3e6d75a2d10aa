import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GUARDED_PREFIX, HEALTH_PATH, UNGUARDED_ROUTES } from "./routes";

describe("UNGUARDED_ROUTES", () => {
  it("lists only paths vLLM's prefix test leaves open: none under /v1, not /health", () => {
    for (const r of UNGUARDED_ROUTES) {
      assert.ok(!r.path.startsWith(GUARDED_PREFIX), r.path);
      assert.notEqual(r.path, HEALTH_PATH);
    }
    assert.equal(new Set(UNGUARDED_ROUTES.map((r) => r.path)).size, UNGUARDED_ROUTES.length);
  });

  it("covers the inference routes, the tokenizer, elastic EP and the dev-mode controls", () => {
    const paths = UNGUARDED_ROUTES.map((r) => r.path);
    for (const p of ["/invocations", "/inference/v1/generate", "/pooling", "/classify", "/score", "/rerank", "/tokenize", "/detokenize", "/scale_elastic_ep"]) assert.ok(paths.includes(p), p);
    assert.deepEqual(UNGUARDED_ROUTES.filter((r) => r.devMode).map((r) => r.path), ["/sleep", "/wake_up", "/is_sleeping", "/collective_rpc", "/update_weights", "/reset_prefix_cache"]);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HF_HOME, imageRef, pinnedRef, VLLM_CACHE_ROOT } from "./image";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe("the pinned vLLM image", () => {
  it("a reference is the pinned tag, plus the digest when one is given", () => {
    assert.equal(pinnedRef({ repository: "caddy", tag: "2.10.2-alpine" }), "caddy:2.10.2-alpine");
    assert.equal(pinnedRef({ repository: "caddy", tag: "2.10.2-alpine", digest: DIGEST }), `caddy:2.10.2-alpine@${DIGEST}`);
  });

  it("vLLM's reference is its profile's image, as pinned", () => {
    assert.equal(imageRef({ image: { repository: "vllm/vllm-openai", tag: "v0.11.0" } }), "vllm/vllm-openai:v0.11.0");
    assert.equal(imageRef({ image: { repository: "vllm/vllm-openai", tag: "v0.11.0", digest: DIGEST } }), `vllm/vllm-openai:v0.11.0@${DIGEST}`);
  });

  it("the caches are where the official image looks for them", () => {
    assert.equal(HF_HOME, "/root/.cache/huggingface");
    assert.equal(VLLM_CACHE_ROOT, "/root/.cache/vllm");
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prefetchWeightsScript } from "./weights";

describe("prefetchWeightsScript", () => {
  const base = { image: "vllm/vllm-openai:v0.21.0", model: "Qwen/Qwen3-VL-32B-Instruct-FP8", hfCachePath: "/srv/hf" };

  it("runs the pinned image's huggingface_hub with the token from the environment only", () => {
    const s = prefetchWeightsScript(base);
    assert.match(s, /docker run --rm --entrypoint python3 -e HF_TOKEN -e HF_HOME=\/root\/.cache\/huggingface -v '\/srv\/hf:\/root\/.cache\/huggingface' 'vllm\/vllm-openai:v0.21.0' -c /);
    assert.match(s, /snapshot_download\(repo_id="Qwen\/Qwen3-VL-32B-Instruct-FP8"\)/);
  });

  it("hands the container's extra variables to the download by name, values never on the command line", () => {
    const s = prefetchWeightsScript({ ...base, envNames: ["HF_ENDPOINT", "HTTPS_PROXY"] });
    assert.match(s, /-e HF_TOKEN -e 'HF_ENDPOINT' -e 'HTTPS_PROXY' -e HF_HOME=/);
    assert.doesNotMatch(s, /HF_ENDPOINT=/);
  });
});

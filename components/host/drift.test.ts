import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { probeText } from "../../test/helpers/probeText";
import { givenEnvHash, ownDrift } from "./drift";
import { parseProbe } from "./probe";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("givenEnvHash", () => {
  it("hashes what the probe hashes: our lines beyond the image's, sorted, one per line", () => {
    // The image already sets HF_HOME=/h, so the container was given only A and B.
    assert.equal(givenEnvHash(["B=2", "HF_HOME=/h", "A=1", "A=1"], ["HF_HOME=/h", "PATH=/bin"]), sha("A=1\nB=2\n"));
    assert.equal(givenEnvHash([], ["PATH=/bin"]), sha(""));
  });
});

describe("ownDrift", () => {
  const own = (configHash: string, env: string[], stack = "medium") =>
    parseProbe(probeText({ gpus: "", own: `own|abc|running|${configHash}|${stack}\nimageenv|PATH=/bin\nenvhash|${givenEnvHash(env, ["PATH=/bin"])}\n` })).own;
  const expected = { stack: "medium", configHash: "1234", env: ["VLLM_API_KEY=k", "NVIDIA_VISIBLE_DEVICES=0,1"] };

  it("is silent when the container is the declared one, or absent", () => {
    assert.equal(ownDrift(own("1234", expected.env), expected), undefined);
    assert.equal(ownDrift(undefined, expected), undefined);
  });

  it("names each difference", () => {
    assert.equal(ownDrift(own("9999", [...expected.env, "X=1"], "medium-vl"), expected), 'its stack label is "medium-vl", not "medium"; its config-hash label is "9999", not "1234"; its environment differs');
  });
});

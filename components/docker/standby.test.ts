import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { gpuHoldersKey, standbyState } from "../host/checks";
import { parseProbe, probeScript } from "../host/probe";
import { canaryFunction, readyGateScript } from "./readyGate";
import { takeoverScript } from "./takeover";

const syntaxOk = (script: string) => spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
const standby = { ownContainer: "m", sleepTimeoutSeconds: 60, wakeTimeoutSeconds: 90 };

describe("standby scripts", () => {
  it("the takeover sleeps peers in sleep mode (mode=wait, bounded), keeps their gateways refusing, wakes its own or wakes the old back", () => {
    const s = takeoverScript({ stack: "medium", gpus: [0, 1], drainSeconds: 30, standby });
    assert.equal(syntaxOk(s).status, 0, syntaxOk(s).stderr);
    assert.match(s, /level=1&mode=wait/);
    assert.match(s, /--max-time 60 "http:\/\/localhost:\$port\/sleep\?\$q"/);
    assert.match(s, /A sleeping model's gateway stays up and refuses/);
    assert.match(s, /--max-time 90 "http:\/\/localhost:\$port\/wake_up"/);
    assert.match(s, /woke \$name back: it serves again/);
  });
  it("without standby the takeover neither sleeps nor wakes", () => {
    const s = takeoverScript({ stack: "medium", gpus: [0, 1], drainSeconds: 30 });
    assert.doesNotMatch(s, /sleep\?|wake_up|sleepers/);
  });
  it("the ready gate sends a canary completion (with an image for a vision model) after /health", () => {
    const s = readyGateScript({ containerName: "vl", port: 5003, timeoutSeconds: 30, canary: { model: "Qwen/VL", image: true, timeoutSeconds: 60 } });
    assert.equal(syntaxOk(s).status, 0, syntaxOk(s).stderr);
    assert.match(s, /canary; exit \$\?/);
    assert.match(canaryFunction("vl", 5003, { model: "Qwen/VL", image: true, timeoutSeconds: 60 }), /image_url.*data:image\/png;base64/);
    assert.doesNotMatch(readyGateScript({ containerName: "vl", port: 5003, timeoutSeconds: 30 }), /canary/);
  });
  it("the canary's body reaches curl as one JSON word (run through sh -c as docker exec would)", () => {
    const fn = canaryFunction("vl", 5003, { model: "Qwen/VL", image: true, timeoutSeconds: 60 });
    const inner = /sh -c '(.*)' 2>&1\)/.exec(fn)![1];
    const r = spawnSync("sh", ["-c", `curl() { for a in "$@"; do case "$a" in "{"*) printf '%s' "$a" ;; esac; done; }; ${inner}`], { encoding: "utf8", env: { VLLM_API_KEY: "k" } });
    assert.equal(JSON.parse(r.stdout).model, "Qwen/VL");
  });
});

describe("standby in the probe and the holders key", () => {
  const text = (sleep: string, own = "") =>
    `### myia-probe containers\ncontainer|/vl|running|medium-vl|local:gpus=0,1|t1\n### myia-probe status 0\n### myia-probe meminfo\nMemTotal:       65842232 kB\n### myia-probe status 0\n### myia-probe sleep\n${sleep}\n### myia-probe status 0\n${own}`;
  it("reads MemTotal and each model's sleep state", () => {
    const p = parseProbe(text('sleep|/vl|{"is_sleeping":true}\nsleep|/m|{"is_sleeping":false}\nsleep|/x|'));
    assert.equal(p.memTotalMiB, 64299);
    assert.deepEqual(p.sleep, { vl: "asleep", m: "awake", x: "unknown" });
    assert.match(probeScript("m", { standby: true }), /is_sleeping/);
    assert.doesNotMatch(probeScript("m"), /is_sleeping|meminfo/);
  });
  it("the key is stable once the peer sleeps and this model is awake; new at each run while there is work", () => {
    const idle = parseProbe(text('sleep|/vl|{"is_sleeping":true}\nsleep|/m|{"is_sleeping":false}'));
    assert.equal(gpuHoldersKey(idle, "medium", [0, 1], "m", 1), "vl@t1:asleep");
    const work = parseProbe(text('sleep|/vl|{"is_sleeping":false}\nsleep|/m|{"is_sleeping":true}'));
    assert.equal(gpuHoldersKey(work, "medium", [0, 1], "m", 1), "vl@t1:awake;switch@1");
    assert.notEqual(gpuHoldersKey(work, "medium", [0, 1], "m", 2), gpuHoldersKey(work, "medium", [0, 1], "m", 1));
    const ownAsleep = parseProbe(text('sleep|/vl|{"is_sleeping":true}\nsleep|/m|{"is_sleeping":true}'));
    assert.equal(gpuHoldersKey(ownAsleep, "medium", [0, 1], "m", 3), "vl@t1:asleep;switch@3");
  });
  it("says which model is awake, and drift: this model asleep with none awake, or two awake", () => {
    const handSlept = parseProbe(text('sleep|/vl|{"is_sleeping":true}\nsleep|/m|{"is_sleeping":true}'));
    const s = standbyState(handSlept, "medium", [0, 1], "m");
    assert.deepEqual(s.notes, ["standby on GPUs 0,1: awake none; asleep m, vl"]);
    assert.match(s.warnings[0], /m is asleep and no model of the group is awake \(put to sleep by hand\?\); up wakes it/);
    const both = standbyState(parseProbe(text('sleep|/vl|{"is_sleeping":false}\nsleep|/m|{"is_sleeping":false}')), "medium", [0, 1], "m");
    assert.match(both.warnings[0], /m and vl are awake at once \(woken by hand\?\)/);
  });
});

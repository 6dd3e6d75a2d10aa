/**
 * Drift the docker provider cannot see, found for real: the probe hashes on
 * the host the env our container was given, and the program compares it with
 * what it declares. A container replaced by hand under our name, with other
 * env or labels, is found and set aside (stopped, renamed) by the step that
 * runs before create.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, describe, it } from "node:test";
import { configHash, plainEnv, secretEnv } from "../../components/docker/containerSpec";
import { ownDrift } from "../../components/host/drift";
import { parseProbe, probeScript } from "../../components/host/probe";
import { takeoverScript } from "../../components/docker/takeover";
import { handRun, handRunProfile, inspect, remove } from "../helpers/docker";
import { testProfile } from "../helpers/profile";

const API_KEY = "sk-drift-93a1";
const HF_TOKEN = "hf_drift_77c2";
const p = testProfile("medium");
p.server.containerName = `itest-drift-${process.pid}`;
const expected = { stack: "medium", configHash: configHash(p, "medium"), env: [...secretEnv(API_KEY, HF_TOKEN), ...plainEnv(p)] };
const probe = () => {
  const out = spawnSync("/bin/sh", ["-c", probeScript(p.server.containerName)], { encoding: "utf8" }).stdout;
  assert.ok(!out.includes(API_KEY) && !out.includes(HF_TOKEN), "a secret left the host");
  return parseProbe(out);
};

describe("drift detection on the host", () => {
  after(() => remove(p.server.containerName));

  it("finds no drift in the container the program declares", async () => {
    await remove(p.server.containerName);
    await handRunProfile(p, { stack: "medium", lease: "local:gpus=0,1", apiKey: API_KEY, hfToken: HF_TOKEN });
    const own = probe().own;
    assert.ok(own, "the probe did not find our container");
    assert.equal(own.configHash, expected.configHash);
    assert.equal(ownDrift(own, expected), undefined);
  });

  it("finds a container replaced by hand with other env, and the step removes it", async () => {
    const was = await inspect(p.server.containerName);
    await remove(p.server.containerName);
    // Same name, same labels, same image and command; one more variable.
    await handRun(p.server.containerName, { Image: was!.Config.Image, Cmd: was!.Config.Cmd, Env: [...was!.Config.Env, "VLLM_LOGGING_LEVEL=DEBUG"], Labels: was!.Config.Labels, HostConfig: was!.HostConfig });

    const why = ownDrift(probe().own, expected);
    assert.equal(why, "its environment differs");
    const r = spawnSync("/bin/sh", ["-c", takeoverScript({ stack: "medium", gpus: [0, 1], drifted: { name: p.server.containerName, why: why! } })], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const aside = /set itest-drift-\d+ aside as (itest-drift-\d+-replaced-\d+): it differs from the declared container \(its environment differs\); the declared one takes its place/.exec(r.stdout);
    assert.ok(aside, r.stdout);
    assert.equal(await inspect(p.server.containerName), undefined, "the name is free for the declared container");
    const kept = await inspect(aside[1]);
    assert.equal(kept!.State.Status, "exited", "the hand-made container is stopped and kept, not deleted");
    await remove(aside[1]);
  });

  it("finds a container replaced by hand with other labels", async () => {
    await handRunProfile(p, { stack: "medium", lease: "local:gpus=0,1", apiKey: API_KEY, hfToken: HF_TOKEN });
    const was = (await inspect(p.server.containerName))!;
    await remove(p.server.containerName);
    await handRun(p.server.containerName, { Image: was.Config.Image, Cmd: was.Config.Cmd, Env: was.Config.Env, Labels: { ...was.Config.Labels, "org.myia.config-hash": "handmade" }, HostConfig: was.HostConfig });
    assert.match(ownDrift(probe().own, expected) ?? "", /its config-hash label is "handmade"/);
  });
});

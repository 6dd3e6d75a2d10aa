/**
 * A vLLM upgrade is a migration, through the real engine: medium-vl serves
 * on an older release with a flag the newer one removed; the tag moves to
 * the newest catalogued release; preview refuses, naming the flag, the
 * release that removed it and the fix, while the old release keeps serving;
 * the fix applied, up replaces the container on the new release; moving the
 * tag back rolls back.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { supportedVersions } from "../../components/vllm/catalog";
import { clientFromOutputs } from "../../tools/lib/client";
import { docker, mustInspect, removeLeftovers } from "../helpers/docker";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { REPO } from "../helpers/profile";

const API_KEY = `sk-upgrade-${randomBytes(10).toString("hex")}`;
const VL = { stack: "medium-vl", port: 5003, container: "myia_vllm-medium-vl-qwen3", model: "Qwen/Qwen3-VL-32B-Instruct-FP8" };
const OLD = "0.21.0";
const NEW = supportedVersions().at(-1)!;
// In 0.21.0, removed in 0.28.0 (components/vllm/flags/v0.34.0.json "removed").
const REMOVED = "--calculate-kv-scales";

const project = engineProject();
const { op } = project;

async function up() {
  const r = await op(VL.stack, { op: "up" });
  assert.equal(r.ok, true, r.output);
  clientFromOutputs(r.outputs as never);
  return r;
}

/** The release the container runs: the tag whose image it was created from (the provider gives the image's id). */
const image = async () => {
  const id = (await mustInspect(VL.container)).Image;
  for (const v of [OLD, NEW]) if ((await docker.getImage(`vllm/vllm-openai:v${v}`).inspect()).Id === id) return `vllm/vllm-openai:v${v}`;
  return id;
};
const answers = async () => (await fetch(`https://127.0.0.1:${VL.port}/v1/models`, { headers: { authorization: `Bearer ${API_KEY}` } })).status;

describe("a vLLM upgrade is a migration", { skip: needsPlugins }, () => {
  before(async () => {
    // The stand-in of the older release (npm test builds the pinned ones).
    execFileSync("bash", ["scripts/build-standin.sh", OLD], { cwd: REPO, stdio: ["ignore", "ignore", "inherit"] });
    await removeLeftovers(["myia_vllm-medium-qwen3", VL.container], ["medium", VL.stack]);
    await project.configure(API_KEY, "hf_upgrade", 2);
    await op(VL.stack, { op: "configure", config: { "image.tag": { value: `v${OLD}` }, "vllm.extraArgs[0]": { value: REMOVED } } });
  });
  after(async () => {
    await op(VL.stack, { op: "destroy" });
    await removeLeftovers([VL.container], [VL.stack]);
  });

  it(`serves on vLLM ${OLD} with ${REMOVED}`, async () => {
    assert.notEqual(NEW, OLD);
    await up();
    assert.equal(await image(), `vllm/vllm-openai:v${OLD}`);
    assert.equal(await answers(), 200);
  });

  it(`preview of the tag moved to v${NEW} names the removed flag and the fix; nothing stops`, async () => {
    const id = (await mustInspect(VL.container)).Id;
    await op(VL.stack, { op: "configure", config: { "image.tag": { value: `v${NEW}` } } });
    const preview = await op(VL.stack, { op: "preview" });
    assert.equal(preview.ok, false);
    assert.match(preview.output, new RegExp(`vllm\\.extraArgs: ${REMOVED} was removed in vLLM 0\\.28\\.0.*the pinned vLLM ${NEW.replace(/\./g, "\\.")} rejects it`));
    const up = await op(VL.stack, { op: "up" });
    assert.equal(up.ok, false, "up refuses what preview refused");
    assert.equal((await mustInspect(VL.container)).Id, id, "the old release's container is untouched");
    assert.equal(await answers(), 200, "and still serving");
  });

  it(`with the fix applied, up migrates to v${NEW}; moving the tag back rolls back`, async () => {
    await op(VL.stack, { op: "configure", remove: ["vllm.extraArgs"] });
    await up();
    assert.equal(await image(), `vllm/vllm-openai:v${NEW}`);
    assert.equal(await answers(), 200);
    await op(VL.stack, { op: "configure", config: { "image.tag": { value: `v${OLD}` }, "vllm.extraArgs[0]": { value: REMOVED } } });
    await up();
    assert.equal(await image(), `vllm/vllm-openai:v${OLD}`);
    assert.equal(await answers(), 200);
  });
});

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const REPO = join(__dirname, "..");
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
const env = Object.fromEntries(
  readFileSync(join(REPO, "scripts/versions.env"), "utf8")
    .split("\n")
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.split("=") as [string, string]),
);
const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8"));

describe("pinned versions", () => {
  it("pins every dependency exactly", () => {
    for (const [name, v] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      assert.match(String(v), /^\d+\.\d+\.\d+$/, `${name}@${v} is not an exact version`);
    }
  });

  it("builds each plugin at its npm package's version", () => {
    assert.equal(env.DOCKER_PLUGIN_VERSION, pkg.dependencies["@pulumi/docker"]);
    assert.equal(env.COMMAND_PLUGIN_VERSION, pkg.dependencies["@pulumi/command"]);
  });

  it("builds the offline docker plugin from the bridge and upstream that versions.env names", () => {
    const mod = readFileSync(join(REPO, "plugins/docker/go.mod"), "utf8");
    assert.match(mod, new RegExp(`github.com/pulumi/pulumi-terraform-bridge/v3 v${env.DOCKER_BRIDGE_VERSION.replace(/\./g, "\\.")}\\n`));
    assert.ok(mod.includes(`=> github.com/kreuzwerker/terraform-provider-docker ${env.DOCKER_TF_PSEUDO}\n`), "the kreuzwerker replace");
  });

  it("has the lockfile resolve what package.json pins", () => {
    for (const name of Object.keys(pkg.dependencies)) {
      assert.equal(lock.packages[`node_modules/${name}`].version, pkg.dependencies[name], name);
    }
  });

  it("asks for Node 22 or newer, and the toolchain provides one", () => {
    assert.equal(pkg.engines.node, ">=22");
    assert.ok(Number(env.NODE_VERSION.split(".")[0]) >= 22);
  });
});

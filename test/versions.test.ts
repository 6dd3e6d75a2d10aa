import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const REPO = join(__dirname, "..");
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
const env = Object.fromEntries(
  readFileSync(join(REPO, "scripts/versions.env"), "utf8")
    .split("\n")
    .filter((l) => /^[A-Z0-9_]+=/.test(l))
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
    assert.equal(env.KUBERNETES_PLUGIN_VERSION, pkg.dependencies["@pulumi/kubernetes"]);
  });

  it("builds the offline kubernetes plugin from the provider module that versions.env names, with the SDK of the same release", () => {
    const mod = readFileSync(join(REPO, "plugins/kubernetes/go.mod"), "utf8");
    assert.ok(mod.includes(`github.com/pulumi/pulumi-kubernetes/provider/v4 ${env.KUBERNETES_PROVIDER_PSEUDO}\n`), "the provider's pseudo-version");
    assert.ok(mod.includes(`github.com/pulumi/pulumi-kubernetes/sdk/v4 v${env.KUBERNETES_PLUGIN_VERSION}`), "sdk/v4 at the plugin's version");
  });

  it("builds the test cluster at the versions versions.env names", () => {
    const kube = readFileSync(join(REPO, "scripts/k8s/kube/go.mod"), "utf8");
    assert.ok(kube.includes(`require k8s.io/kubernetes v${env.K8S_VERSION}\n`), "k8s.io/kubernetes");
    const staging = `v0.${env.K8S_VERSION.split(".").slice(1).join(".")}`;
    const replaces = [...kube.matchAll(/^\t(k8s\.io\/[\w-]+) => (k8s\.io\/[\w-]+) (v\S+)$/gm)];
    assert.ok(replaces.length >= 30, "a replace line for each staging module");
    for (const [, from, to, v] of replaces) assert.ok(from === to && v === staging, `${from} => ${to} ${v}: every staging module at ${staging}`);
    assert.match(readFileSync(join(REPO, "scripts/k8s/etcd/go.mod"), "utf8"), new RegExp(`go.etcd.io/etcd/server/v3 v${env.ETCD_VERSION.replace(/\./g, "\\.")}\n`));
    assert.match(readFileSync(join(REPO, "scripts/k8s/kwok/go.mod"), "utf8"), new RegExp(`sigs.k8s.io/kwok v${env.KWOK_VERSION.replace(/\./g, "\\.")}\n`));
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

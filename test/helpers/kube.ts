/**
 * The test cluster (scripts/k8s.sh) from a test: its environment, kubectl,
 * the node profiles, and static volumes for the model caches (the test
 * cluster has no provisioner: a claim of class myia-test binds one of these).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { REPO } from "./profile";

const K8S = join(REPO, "scripts", "k8s.sh");
export const kubeEnv: Record<string, string> = {};
for (const line of execFileSync("bash", [K8S, "env"], { encoding: "utf8" }).split("\n")) {
  const m = /^export (\w+)="(.*)"$/.exec(line);
  if (m) kubeEnv[m[1]] = m[2].replace("$PATH", process.env.PATH ?? "");
}
const env = { ...process.env, ...kubeEnv };

/** Why a cluster suite cannot run, or false. */
export const clusterDown: string | false = spawnSync("bash", [K8S, "status"], { encoding: "utf8", env }).status === 0 ? false : "the test cluster is not running (bash scripts/k8s.sh start)";

export const kubectl = (...args: string[]): string => execFileSync("kubectl", args, { encoding: "utf8", env, stdio: ["pipe", "pipe", "pipe"] });
export const kubeApply = (doc: object): string => execFileSync("kubectl", ["apply", "-f", "-"], { input: JSON.stringify(doc), encoding: "utf8", env });
/** Replaces the fake GPU nodes with a profile's (scripts/k8s.sh nodes). */
export const setNodes = (profile: string): string => execFileSync("bash", [K8S, "nodes", profile], { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });

export const STORAGE_CLASS = "myia-test";

/** Static volumes a claim of class myia-test binds (hostPath; no pod really mounts them on a kwok node). */
export function makeVolumes(prefix: string, n: number, accessModes = ["ReadWriteOnce", "ReadWriteMany"]): void {
  for (let i = 0; i < n; i++) {
    kubeApply({
      apiVersion: "v1",
      kind: "PersistentVolume",
      metadata: { name: `${prefix}-${i}`, labels: { "myia-test": prefix } },
      spec: { capacity: { storage: "500Gi" }, accessModes, persistentVolumeReclaimPolicy: "Delete", storageClassName: STORAGE_CLASS, hostPath: { path: `/tmp/${prefix}-${i}`, type: "DirectoryOrCreate" } },
    });
  }
}

/** A number field of a namespaced object, or undefined when it is absent. */
export function jsonpath(kind: string, name: string, ns: string, path: string): string | undefined {
  const r = spawnSync("kubectl", ["-n", ns, "get", kind, name, "-o", `jsonpath={${path}}`], { encoding: "utf8", env });
  return r.status === 0 ? r.stdout : undefined;
}

export async function until<T>(what: string, f: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`not ${what} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Makes a stack of an engine project (test/helpers/engineProject.ts) a
 * cluster stack on the real node (`bash scripts/k8s.sh node start`): its
 * namespace, a short load and bounds the test can wait for.
 */
export function onRealNode(workDir: string, stack: string, namespace: string, container: Record<string, unknown> = {}, cluster: Record<string, unknown> = {}): void {
  const file = join(workDir, `Pulumi.${stack}.yaml`);
  const doc = parse(readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  doc.config["myia-vllm:cluster"] = {
    kubeconfig: kubeEnv.KUBECONFIG,
    namespace,
    nodeSelector: { "myia-vllm/node-set": "real" },
    storageClass: STORAGE_CLASS,
    cacheSize: "10Gi",
    startupSeconds: 60,
    terminationGraceSeconds: 40,
    ...cluster,
  };
  doc.config["myia-vllm:container"] = { readyTimeoutSeconds: 120, env: { STANDIN_LOAD_SECONDS: "2", STANDIN_DOWNLOAD_SECONDS: "1" }, ...container };
  writeFileSync(file, stringify(doc));
}

/** Why a suite on the real node cannot run (the cluster, the node, the stand-in images in dockerd), or false. */
export function realNodeSkip(images: readonly string[]): string | false {
  if (clusterDown) return clusterDown;
  if (spawnSync("bash", [K8S, "node", "status"], { encoding: "utf8", env }).status !== 0) return "the real node is not running (bash scripts/k8s.sh node start)";
  const missing = images.filter((i) => spawnSync("docker", ["image", "inspect", i], { stdio: "ignore" }).status !== 0);
  return missing.length > 0 ? `missing in dockerd: ${missing.join(", ")}` : false;
}

/** Copies images from dockerd into the real node's containerd (imagePullPolicy: Never there). */
export function importToNode(images: readonly string[]): void {
  for (const i of images) execFileSync("bash", [K8S, "node", "import", i], { env, stdio: ["ignore", "ignore", "inherit"] });
}

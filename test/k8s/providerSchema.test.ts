/**
 * The kubernetes plugin the engine will run (the official one, or our offline
 * build of the provider's own code, scripts/plugins.sh) is the one behind the
 * pinned @pulumi/kubernetes: it says it is 4.25.0 over gRPC (GetPluginInfo,
 * from the version ldflag), and its schema (GetSchema, 5 MB: past gRPC's
 * default 4 MB receive limit) has every resource and property the Kubernetes
 * program will declare. What "will declare" means is written once, below, as
 * typed arguments of the npm SDK: `tsc --noEmit` (npm run lint) checks them
 * against the SDK's types, and this test walks them through the plugin's
 * schema, so the SDK and the plugin agree on each name.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import type * as k8s from "@pulumi/kubernetes";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { ResourceProviderClient } from "@pulumi/pulumi/proto/provider_grpc_pb";
import { GetSchemaRequest } from "@pulumi/pulumi/proto/provider_pb";
import { resolvedPlugins } from "../../tools/lib/plugins";
import { REPO } from "../helpers/profile";

const SDK = join(REPO, "node_modules", "@pulumi", "kubernetes");
const sdkVersion: string = JSON.parse(readFileSync(join(SDK, "package.json"), "utf8")).version;

const ns = { name: "myia-medium", labels: { "app.kubernetes.io/managed-by": "myia-vllm" } };
const meta = { name: "vllm", namespace: ns.name, labels: { app: "vllm" }, annotations: { "myia-vllm/config-hash": "0123" } };
const gpuPod: k8s.types.input.core.v1.PodTemplateSpec = {
  metadata: { labels: { app: "vllm" }, annotations: { "pod-ready.stage.kwok.x-k8s.io/delay": "30s" } },
  spec: {
    nodeSelector: { "nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-4090" },
    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    terminationGracePeriodSeconds: 60,
    containers: [
      {
        name: "vllm",
        image: "vllm/vllm-openai:v0.34.0",
        imagePullPolicy: "IfNotPresent",
        args: ["--model", "Qwen/Qwen3-8B"],
        env: [{ name: "VLLM_API_KEY", valueFrom: { secretKeyRef: { name: "vllm-keys", key: "api-key" } } }, { name: "HF_HOME", value: "/models" }],
        ports: [{ name: "http", containerPort: 8000 }],
        resources: { limits: { "nvidia.com/gpu": "2" }, requests: { cpu: "4", memory: "32Gi" } },
        startupProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 10, failureThreshold: 60 },
        readinessProbe: { httpGet: { path: "/health", port: "http" }, periodSeconds: 5 },
        volumeMounts: [{ name: "shm", mountPath: "/dev/shm" }, { name: "models", mountPath: "/models" }],
      },
    ],
    volumes: [
      { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "8Gi" } },
      { name: "models", persistentVolumeClaim: { claimName: "models" } },
    ],
  },
};

/** Every resource the Kubernetes program will declare, with the properties it will set. */
const USED: { token: string; sdk: string; args: object }[] = [
  { token: "kubernetes:core/v1:Namespace", sdk: "core/v1/namespace", args: { metadata: ns } satisfies k8s.core.v1.NamespaceArgs },
  { token: "kubernetes:core/v1:Secret", sdk: "core/v1/secret", args: { metadata: meta, type: "Opaque", stringData: { "api-key": "sk-x" }, immutable: false } satisfies k8s.core.v1.SecretArgs },
  {
    token: "kubernetes:core/v1:PersistentVolumeClaim",
    sdk: "core/v1/persistentVolumeClaim",
    args: { metadata: meta, spec: { accessModes: ["ReadWriteOnce"], storageClassName: "local", resources: { requests: { storage: "200Gi" } } } } satisfies k8s.core.v1.PersistentVolumeClaimArgs,
  },
  {
    token: "kubernetes:core/v1:Service",
    sdk: "core/v1/service",
    args: { metadata: meta, spec: { type: "ClusterIP", selector: { app: "vllm" }, ports: [{ name: "http", port: 8000, targetPort: "http", protocol: "TCP" }] } } satisfies k8s.core.v1.ServiceArgs,
  },
  {
    token: "kubernetes:apps/v1:Deployment",
    sdk: "apps/v1/deployment",
    args: { metadata: meta, spec: { replicas: 1, strategy: { type: "Recreate" }, progressDeadlineSeconds: 900, selector: { matchLabels: { app: "vllm" } }, template: gpuPod } } satisfies k8s.apps.v1.DeploymentArgs,
  },
  {
    token: "kubernetes:batch/v1:Job",
    sdk: "batch/v1/job",
    args: {
      metadata: meta,
      spec: { backoffLimit: 0, activeDeadlineSeconds: 3600, ttlSecondsAfterFinished: 600, template: { spec: { restartPolicy: "Never", containers: [{ name: "fetch", image: "myia/fetch:1", command: ["sh", "-c", "true"] }] } } },
    } satisfies k8s.batch.v1.JobArgs,
  },
  {
    token: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    sdk: "networking/v1/networkPolicy",
    args: {
      metadata: meta,
      spec: { podSelector: { matchLabels: { app: "vllm" } }, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: { matchLabels: { app: "gateway" } } }], ports: [{ port: 8000, protocol: "TCP" }] }] },
    } satisfies k8s.networking.v1.NetworkPolicyArgs,
  },
];

type Prop = { type?: string; $ref?: string; items?: Prop; additionalProperties?: Prop; oneOf?: Prop[] };
type Schema = { name: string; version: string; resources: Record<string, { inputProperties: Record<string, Prop>; properties: Record<string, Prop> }>; types: Record<string, { properties?: Record<string, Prop> }> };

/** The property paths of `value` the schema lacks (walking $ref types, arrays and maps). */
function missing(schema: Schema, props: Record<string, Prop>, value: object, at: string): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = props[k];
    if (!p) {
      out.push(`${at}.${k}`);
      continue;
    }
    out.push(...missingIn(schema, p, v, `${at}.${k}`));
  }
  return out;
}

function missingIn(schema: Schema, p: Prop, v: unknown, at: string): string[] {
  if (v === null || typeof v !== "object") return [];
  if (Array.isArray(v)) return p.items ? v.flatMap((x, i) => missingIn(schema, p.items!, x, `${at}[${i}]`)) : [`${at} (not an array in the schema)`];
  if (p.additionalProperties) return [];
  if (p.$ref) {
    const tok = decodeURIComponent(p.$ref.replace(/^#\/types\//, ""));
    const t = schema.types[tok];
    if (!t) return [`${at} ($ref ${tok} not in the schema)`];
    return missing(schema, t.properties ?? {}, v as object, at);
  }
  return [`${at} (an object where the schema has ${JSON.stringify(p)})`];
}

/** Starts the plugin as the engine does and reads the port it prints. */
function startPlugin(path: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, [], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /^(\d+)\s*\n/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on("exit", (code) => reject(new Error(`${path} exited (${code}) before printing its port: ${err.trim()}`)));
  });
}

const kube = resolvedPlugins().find((p) => p.name === "kubernetes");
const skip = !kube ? "no kubernetes plugin resolved: run `bash scripts/toolchain.sh` (official where installed or downloadable, else our offline build)" : !existsSync(kube.path) ? `the resolved kubernetes plugin ${kube.path} is gone: run \`bash scripts/toolchain.sh\`` : false;

describe("the kubernetes plugin against @pulumi/kubernetes", { skip }, () => {
  let plugin: { child: ChildProcess; port: number };
  let client: ResourceProviderClient;
  let schema: Schema;
  let version: string;

  before(async () => {
    console.log(`kubernetes plugin: ${kube!.source} (${kube!.path})`);
    plugin = await startPlugin(kube!.path);
    // The schema is ~5 MB: past gRPC's default 4 MB receive limit.
    client = new ResourceProviderClient(`127.0.0.1:${plugin.port}`, grpc.credentials.createInsecure(), { "grpc.max_receive_message_length": 64 << 20 });
    version = await new Promise<string>((res, rej) => client.getPluginInfo(new Empty(), (e, r) => (e ? rej(e) : res(r.getVersion()))));
    const text = await new Promise<string>((res, rej) => client.getSchema(new GetSchemaRequest().setVersion(0), (e, r) => (e ? rej(e) : res(r.getSchema()))));
    console.log(`GetSchema: ${(text.length / 1e6).toFixed(1)} MB`);
    schema = JSON.parse(text);
  });
  after(() => {
    client?.close();
    plugin?.child.kill();
  });

  it("is the version the npm SDK pins (GetPluginInfo and the schema)", () => {
    assert.equal(sdkVersion, "4.25.0");
    assert.equal(version, sdkVersion, "GetPluginInfo");
    assert.equal(schema.name, "kubernetes");
    assert.equal(schema.version, sdkVersion, "the schema's version");
  });

  it("has every resource the program will declare, under the SDK's token, with the SDK's input names", () => {
    for (const u of USED) {
      const res = schema.resources[u.token];
      assert.ok(res, `the plugin's schema has no ${u.token}`);
      // The SDK class registers under the same token and sends the same inputs.
      const js = readFileSync(join(SDK, `${u.sdk}.js`), "utf8");
      assert.ok(js.includes(`__pulumiType = '${u.token}'`), `${u.sdk}.js registers ${u.token}`);
      const sdkInputs = new Set([...js.matchAll(/resourceInputs\["(\w+)"\] = args\?\.(\w+)/g)].map((m) => m[1]));
      const schemaInputs = new Set(Object.keys(res.inputProperties).filter((k) => k !== "apiVersion" && k !== "kind"));
      assert.deepEqual([...sdkInputs].sort(), [...schemaInputs].sort(), `${u.token}: the SDK's inputs and the schema's`);
    }
  });

  it("has every property path the program will set (typed against the SDK by tsc)", () => {
    const gaps = USED.flatMap((u) => missing(schema, schema.resources[u.token].inputProperties, u.args, u.token));
    assert.deepEqual(gaps, []);
  });
});

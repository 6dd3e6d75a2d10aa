import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { clusterNamespace } from "../config/cluster";
import type { ValidatedProfile } from "../config/schema";
import { ClientKey, gatewayCaddyfile } from "../gateway/caddyfile";
import type { ClusterGrant } from "./gpuCluster";
import { cacheClaimSpec, networkPolicySpec, serviceSpec, weightsJobName, weightsJobSpec } from "./manifests";
import { CACHE_CLAIM, DEPLOYMENT_NAME, deploymentSpec, objectLabels, podGatewayRender, SECRET_KEYS, SECRET_NAME, selectorLabels, SERVICE_NAME } from "./pod";
import { readyGateScript } from "./readyGate";
import { holdersKey, takeoverScript } from "./takeover";

export interface VllmDeploymentArgs {
  /** The validated profile, with its cluster part: model, flags, ports, probes, GPUs, cache. */
  profile: ValidatedProfile;
  /** The stack deploying it: its namespace and labels. */
  stack: string;
  /** The cluster's provider (GpuCluster). */
  provider: k8s.Provider;
  /** What the cluster granted after its checks: whose GPUs to take over. */
  grant: ClusterGrant;
  /** vLLM's API key: in the Secret only, referenced by the pod. */
  apiKey: pulumi.Input<string>;
  /** The Hugging Face token: in the Secret only, referenced by the pod and the weights Job. */
  hfToken: pulumi.Input<string>;
  /** The keys the gateway accepts, by client: in the Secret's Caddyfile only. */
  clients: pulumi.Input<ClientKey[]>;
}

/**
 * One profile on a cluster: its namespace, Secret, model cache, the weights
 * Job that fills the cache, the GPU takeover (other stacks scaled to 0, kept),
 * the Deployment (vLLM and its gateway in one pod), the Service and the
 * NetworkPolicy. `up` returns when the pods are Ready, or fails within
 * container.readyTimeoutSeconds naming why (the scheduler's reason).
 */
export class VllmDeployment extends pulumi.ComponentResource {
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly secret: k8s.core.v1.Secret;
  public readonly cache: k8s.core.v1.PersistentVolumeClaim;
  public readonly weights: k8s.batch.v1.Job;
  public readonly takeover: command.local.Command;
  public readonly deployment: k8s.apps.v1.Deployment;
  /** Holds up until the pods are Ready. */
  public readonly ready: command.local.Command;
  public readonly service: k8s.core.v1.Service;
  public readonly networkPolicy: k8s.networking.v1.NetworkPolicy;
  /** The OpenAI-compatible base URL inside the cluster. */
  public readonly endpoint: string;

  constructor(name: string, args: VllmDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("myia:k8s:VllmDeployment", name, {}, opts);
    const p = args.profile;
    const c = p.cluster!;
    const ns = clusterNamespace(c, args.stack);
    const labels = objectLabels(p, args.stack);
    const o = { parent: this, provider: args.provider };
    // No empty annotations map: the API server drops it, and refresh would show a diff on every run.
    const meta = (n: string, extra: Record<string, string> = {}) => ({ name: n, namespace: ns, labels, ...(Object.keys(extra).length ? { annotations: extra } : {}) });

    // Kept on destroy, like the cache inside it: deleting a namespace deletes
    // its claims, and retainOnDelete on the claim alone would not save it.
    this.namespace = new k8s.core.v1.Namespace(`${name}-namespace`, { metadata: { name: ns, labels } }, { ...o, retainOnDelete: true });
    const inNs = { ...o, dependsOn: [this.namespace] };

    // The provider keeps a Secret's data secret in the state; the values are
    // pulumi secrets too, so nothing shows in plaintext in state or diffs.
    this.secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        metadata: meta(SECRET_NAME),
        type: "Opaque",
        stringData: {
          [SECRET_KEYS.apiKey]: pulumi.secret(args.apiKey),
          [SECRET_KEYS.hfToken]: pulumi.secret(args.hfToken),
          [SECRET_KEYS.caddyfile]: pulumi.secret(pulumi.output(args.clients).apply((cs) => gatewayCaddyfile(podGatewayRender(p), cs))),
        },
      },
      inNs,
    );

    // The model cache outlives the stack: destroy keeps it (tens of GB to fetch again).
    this.cache = new k8s.core.v1.PersistentVolumeClaim(
      `${name}-cache`,
      // No wait for Bound: a WaitForFirstConsumer class binds only once a pod uses it.
      { metadata: meta(CACHE_CLAIM, { "pulumi.com/skipAwait": "true" }), spec: cacheClaimSpec(p) },
      { ...inNs, retainOnDelete: true },
    );

    // The weights, while the other model still serves. The provider waits for the Job to complete.
    this.weights = new k8s.batch.v1.Job(
      `${name}-weights`,
      { metadata: meta(weightsJobName(p), { "pulumi.com/timeoutSeconds": String(c.weightsTimeoutSeconds) }), spec: weightsJobSpec(p, args.stack) },
      { ...inNs, dependsOn: [this.namespace, this.secret, this.cache] },
    );

    const holders = args.grant.placement.kind === "takeover" ? args.grant.placement.holders : [];
    this.takeover = new command.local.Command(
      `${name}-takeover`,
      { create: takeoverScript(holders, c, c.terminationGraceSeconds + 30), triggers: [holdersKey(holders)] },
      { parent: this, dependsOn: [this.weights] },
    );

    this.deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: meta(DEPLOYMENT_NAME, {
          // The gate below waits instead, and names the scheduler's reason when it fails.
          "pulumi.com/skipAwait": "true",
          // Ours to own: a hand's `kubectl scale` (or another stack's takeover)
          // is drift that up takes back, not a field conflict.
          "pulumi.com/patchForce": "true",
        }),
        spec: deploymentSpec(p, args.stack),
      },
      { ...inNs, dependsOn: [this.secret, this.cache, this.takeover] },
    );

    // up returns when the pods are Ready, or fails within readyTimeoutSeconds naming why.
    // Again on a new spec (generation) or a new takeover.
    this.ready = new command.local.Command(
      `${name}-ready`,
      {
        create: readyGateScript(c, ns, selectorLabels(args.stack), p.container.readyTimeoutSeconds),
        triggers: [this.deployment.metadata.uid, this.deployment.metadata.generation, holdersKey(holders)],
      },
      { parent: this, dependsOn: [this.deployment] },
    );

    // No wait for endpoints: the provider would wait 10 minutes for a Ready
    // pod behind it; the gate above is where up waits, and says why.
    this.service = new k8s.core.v1.Service(`${name}-service`, { metadata: meta(SERVICE_NAME, { "pulumi.com/skipAwait": "true" }), spec: serviceSpec(p, args.stack) }, inNs);
    this.networkPolicy = new k8s.networking.v1.NetworkPolicy(`${name}-network-policy`, { metadata: meta("vllm-gateway-only"), spec: networkPolicySpec(p, args.stack) }, inNs);

    this.endpoint = `http://${SERVICE_NAME}.${ns}.svc:${p.server.port}/v1`;
    this.registerOutputs({ endpoint: this.endpoint, namespace: ns, deployment: this.deployment.metadata.name, ready: this.ready.stdout });
  }
}

/**
 * The `cluster:` part of a stack: where and how the Kubernetes backend runs
 * the profile. A stack targets a Docker host (`host:`) or a cluster
 * (`cluster:`), never both; everything else (flags, memory plan, argv,
 * Caddyfile) is the same pure knowledge for both backends. Pure.
 */
import { z } from "zod";

/** A Kubernetes label value or name segment (the API server refuses others). */
const labelValue = z.string().regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/, { error: "must be a Kubernetes label value (letters, digits, - _ ., at most 63)" });
const labelKey = z.string().regex(/^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, { error: "must be a Kubernetes label key, e.g. nvidia.com/gpu.product" });

export const TolerationSchema = z.strictObject({
  key: labelKey.optional(),
  operator: z.enum(["Exists", "Equal"]).default("Equal"),
  value: labelValue.optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
});

/** The taint GPU nodes usually carry (NVIDIA's GPU operator, GKE, AKS): `nvidia.com/gpu=present:NoSchedule`. */
export const DEFAULT_GPU_TOLERATION = { key: "nvidia.com/gpu", operator: "Exists" as const, effect: "NoSchedule" as const };

/** The GPU feature discovery label the node selector of `gpuProduct` sets. */
export const GPU_PRODUCT_LABEL = "nvidia.com/gpu.product";
/** The GPU feature discovery label with each GPU's memory, MiB: what preview plans against. */
export const GPU_MEMORY_LABEL = "nvidia.com/gpu.memory";

export const ClusterSchema = z
  .strictObject({
    /** A kubeconfig file on the machine running pulumi (absolute path). */
    kubeconfig: z.string().regex(/^\/[^\0]*$/, { error: "must be an absolute path to a kubeconfig file, e.g. /home/me/.kube/gpu-pool.yaml" }).optional(),
    /** A context of that kubeconfig (or of the default one, $KUBECONFIG or ~/.kube/config). */
    context: z.string().min(1).optional(),
    /** The stack's namespace; default `myia-<stack>`. */
    namespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, { error: "must be a Kubernetes namespace name (lowercase letters, digits, -), e.g. myia-medium" }).optional(),
    /** Pods serving the model behind the one Service, each on its own GPUs. */
    replicas: z.int().positive().max(64).default(1),
    /** The extended resource the device plugin advertises (NVIDIA's: nvidia.com/gpu). */
    gpuResource: labelKey.default("nvidia.com/gpu"),
    /** A GPU model, as GPU feature discovery labels it (nvidia.com/gpu.product), e.g. NVIDIA-GeForce-RTX-4090. */
    gpuProduct: labelValue.optional(),
    /** Memory of each GPU, MiB, the memory plan is made for; preview checks it against the nodes' nvidia.com/gpu.memory labels. */
    gpuMemoryMiB: z.int().positive().default(24564),
    nodeSelector: z.record(labelKey, labelValue).default({}),
    tolerations: z.array(TolerationSchema).default([DEFAULT_GPU_TOLERATION]),
    /** The model cache's StorageClass; default: the cluster's default class. */
    storageClass: z.string().min(1).optional(),
    /** The model cache's size (a Kubernetes quantity). */
    cacheSize: z.string().regex(/^\d+(Mi|Gi|Ti)$/, { error: "must be a size such as 200Gi" }).default("200Gi"),
    /** ReadWriteMany lets replicas on several nodes share one cache (NFS, CephFS...). */
    cacheAccessMode: z.enum(["ReadWriteOnce", "ReadWriteMany"]).default("ReadWriteOnce"),
    /** How long a pod may take to load the model before the kubelet restarts it (the startup probe's budget). */
    startupSeconds: z.int().positive().max(7200).default(1200),
    /** How long up waits for the weights Job (tens of GB on the first fetch of a model), then fails naming the Job. */
    weightsTimeoutSeconds: z.int().positive().max(86400).default(7200),
    /** After SIGTERM, how long requests in flight may take before the pod is killed. */
    terminationGraceSeconds: z.int().nonnegative().max(3600).default(60),
    /** Extra annotations on the pods (e.g. a service mesh's); never a secret. */
    podAnnotations: z.record(z.string().min(1), z.string()).default({}),
  })
  .refine((c) => c.kubeconfig !== undefined || c.context !== undefined, {
    error: "set cluster.kubeconfig (a path) or cluster.context, so up never deploys to whichever cluster happens to be current",
  });

export type ClusterConfig = z.output<typeof ClusterSchema>;

/** The stack's namespace: the one configured, else `myia-<stack>`. */
export function clusterNamespace(c: ClusterConfig, stack: string): string {
  return c.namespace ?? `myia-${stack}`;
}

/** The pod's node selector: the configured one plus the GPU product. */
export function nodeSelector(c: ClusterConfig): Record<string, string> {
  return { ...c.nodeSelector, ...(c.gpuProduct ? { [GPU_PRODUCT_LABEL]: c.gpuProduct } : {}) };
}

/** What a stack's config says about its backend, before the schema runs. */
export function backendProblems(raw: Record<string, unknown>): string[] {
  if (raw.host !== undefined && raw.cluster !== undefined) {
    return ["cluster: a stack targets one Docker host (host:) or one Kubernetes cluster (cluster:), not both; remove one of the two"];
  }
  return [];
}

/** What vLLM takes to stop on SIGTERM once nothing is in flight (0.11 stops its engine: SIGTERM, 5 s, SIGKILL). */
export const VLLM_STOP_SECONDS = 10;

/** The settings of a parsed profile that the cluster backend cannot honour, as `path: what to do` lines. */
export function clusterProblems(cfg: {
  cluster?: ClusterConfig;
  vllm: { tensorParallelSize: number };
  gateway: { enabled: boolean; tls: { mode: string }; drainSeconds: number };
  host: { standby: { enabled: boolean } };
  explicitTls: boolean;
}): string[] {
  const c = cfg.cluster;
  if (!c) return [];
  const problems: string[] = [];
  // vLLM listens on the pod's loopback only: the gateway is the pod's one way in.
  if (!cfg.gateway.enabled) problems.push("gateway.enabled: must stay true on a cluster: vLLM listens on the pod's loopback only and the gateway is its one entrance (the key on every route)");
  // Inside the cluster the gateway serves HTTP; TLS belongs to the Ingress or
  // mesh in front of the Service (a CA made inside each pod is one no client could trust).
  if (cfg.explicitTls && cfg.gateway.tls.mode !== "off") problems.push(`gateway.tls.mode: ${cfg.gateway.tls.mode} is not served on a cluster: the pod's gateway speaks HTTP behind its Service; terminate TLS at your Ingress, and remove gateway.tls`);
  if (cfg.host.standby.enabled) problems.push("host.standby: is for a Docker host; remove it on a cluster stack");
  // A pod that stops lets its gateway finish what is in flight (up to
  // gateway.drainSeconds), then stops vLLM: all within the grace period.
  if (c.terminationGraceSeconds < cfg.gateway.drainSeconds + VLLM_STOP_SECONDS) {
    problems.push(`cluster.terminationGraceSeconds: ${c.terminationGraceSeconds} s does not hold the gateway's drain (gateway.drainSeconds ${cfg.gateway.drainSeconds} s) and vLLM's own stop (${VLLM_STOP_SECONDS} s) before the kubelet kills the pod; raise it to ${cfg.gateway.drainSeconds + VLLM_STOP_SECONDS} or more, or lower gateway.drainSeconds`);
  }
  if (c.replicas > 1 && c.cacheAccessMode === "ReadWriteOnce") {
    problems.push(`cluster.replicas: ${c.replicas} pods on different nodes cannot share a ReadWriteOnce model cache; set cluster.cacheAccessMode to ReadWriteMany (a storage class that offers it, e.g. NFS or CephFS)`);
  }
  return problems;
}

/** vLLM's port on the pod's loopback: 8000 (vLLM's default), unless the gateway holds it. */
export function vllmPodPort(stackPort: number): number {
  return stackPort === 8000 ? 8001 : 8000;
}

/**
 * The model's pod, as a plain Deployment spec built from a validated
 * profile: vLLM on the pod's loopback and Caddy (the gateway) on the stack's
 * port, in one pod. Pure: VllmDeployment hands the object to the provider,
 * and the tests read it without a cluster.
 */
import type { ClusterConfig } from "../config/cluster";
import { nodeSelector, vllmPodPort } from "../config/cluster";
import type { ValidatedProfile } from "../config/schema";
import { HF_HOME, imageRef, VLLM_CACHE_ROOT } from "../vllm/image";
import type { GatewayRender } from "../gateway/caddyfile";
import { gatewayImageRef, gatewayRender, UPSTREAM_KEY_ENV } from "../gateway/render";
import { HEALTH_PATH } from "../vllm/routes";
import { PROJECT_LABEL, PROJECT_NAME } from "../host/probe";

/** The stack's Secret and its keys: nothing secret is ever a literal in a pod spec or a ConfigMap. */
export const SECRET_NAME = "myia-vllm";
export const SECRET_KEYS = { apiKey: "apiKey", hfToken: "hfToken", caddyfile: "Caddyfile" } as const;
export const DEPLOYMENT_NAME = "vllm";
export const SERVICE_NAME = "vllm";
export const CACHE_CLAIM = "model-cache";
/** Where the gateway reads its Caddyfile (with the clients' keys): the Secret, mounted as a folder. */
export const CADDYFILE_DIR = "/etc/caddy/secret";
export const STACK_LABEL = "org.myia.stack";
export const ROLE_LABEL = "org.myia.role";

// Kubernetes allows . _ - in label values; a model id's "/" is not one of them.
const labelSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 63);

/** The labels that select a stack's serving pods (and find another stack's Deployment for a takeover). */
export function selectorLabels(stack: string): Record<string, string> {
  return { [PROJECT_LABEL]: PROJECT_NAME, [STACK_LABEL]: stack, [ROLE_LABEL]: "server" };
}

/** Every object's labels: the selector's, plus what a human reads in `kubectl get -L`. */
export function objectLabels(p: ValidatedProfile, stack: string): Record<string, string> {
  return { ...selectorLabels(stack), "org.myia.profile": p.profile, "org.myia.model": labelSafe(p.model.id), "org.myia.vllm-version": p.vllmVersion };
}

/** The gateway's Caddyfile render in the pod: the same rules, vLLM on the loopback, HTTP (TLS at the Ingress). */
export function podGatewayRender(p: ValidatedProfile): GatewayRender {
  // Told to stop, the gateway refuses new connections and lets those in flight finish, up to gateway.drainSeconds; then vLLM stops.
  return { ...gatewayRender(p), upstream: `127.0.0.1:${vllmPodPort(p.server.port)}`, tls: { mode: "off", names: [] }, gracePeriodSeconds: p.gateway.drainSeconds };
}

/** A container's variable: a plain value, or a reference to a key of the stack's Secret. */
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef: { name: string; key: string } };
}

const secretEnv = (name: string, key: string): EnvVar => ({ name, valueFrom: { secretKeyRef: { name: SECRET_NAME, key } } });

/** vLLM's environment: plain values, and the secrets by reference to the stack's Secret. */
export function vllmEnv(p: ValidatedProfile): EnvVar[] {
  return [
    { name: "HF_HOME", value: HF_HOME },
    { name: "VLLM_CACHE_ROOT", value: VLLM_CACHE_ROOT },
    ...Object.entries(p.container.env).map(([name, value]) => ({ name, value })),
    secretEnv("VLLM_API_KEY", SECRET_KEYS.apiKey),
    secretEnv("HF_TOKEN", SECRET_KEYS.hfToken),
  ];
}

/**
 * vLLM's probes ask vLLM itself on the pod's loopback, with the image's own
 * curl (as the Docker healthcheck does): vLLM starts before its gateway (it
 * is the pod's sidecar), so nothing else answers yet while it loads.
 */
export function vllmProbes(p: ValidatedProfile, c: ClusterConfig) {
  const hc = p.container.healthcheck;
  const get = { exec: { command: ["curl", "-fsS", `http://127.0.0.1:${vllmPodPort(p.server.port)}${HEALTH_PATH}`] }, timeoutSeconds: hc.timeoutSeconds };
  return {
    // A 32B model loads for minutes: liveness waits until this succeeds
    // once, so a slow load is never killed by liveness. The gateway starts then.
    startupProbe: { ...get, periodSeconds: hc.intervalSeconds, failureThreshold: Math.max(1, Math.ceil(c.startupSeconds / hc.intervalSeconds)) },
    livenessProbe: { ...get, periodSeconds: Math.max(10, hc.intervalSeconds), failureThreshold: hc.retries },
  };
}

/**
 * The pod is Ready when the gateway's /health answers 200, which asks vLLM
 * through it: what clients see is what is probed. By port number, on the pod's IP.
 */
export function gatewayReadiness(p: ValidatedProfile) {
  const hc = p.container.healthcheck;
  return { httpGet: { path: HEALTH_PATH, port: p.server.port, scheme: "HTTP" }, timeoutSeconds: hc.timeoutSeconds, periodSeconds: hc.intervalSeconds, failureThreshold: 1 };
}

/** The GPUs: the device plugin's resource, tensorParallelSize of them per pod (limits; requests follow). */
export function gpuLimits(p: ValidatedProfile, c: ClusterConfig): Record<string, string> {
  return { [c.gpuResource]: String(p.vllm.tensorParallelSize) };
}

/**
 * vLLM: the pinned image and argv, the GPUs, the caches, its probes. A native
 * sidecar (an init container that keeps running, Kubernetes 1.29+): it starts
 * before the gateway and, when the pod stops, gets SIGTERM only after the
 * gateway has exited, so the requests in flight through the gateway finish
 * first. vLLM does not drain on SIGTERM (0.11 stalls its streams, 0.34 ends
 * them with an error): the gateway's graceful stop is the drain.
 */
export function vllmContainer(p: ValidatedProfile) {
  const c = p.cluster!;
  return {
    name: "vllm",
    image: imageRef(p),
    restartPolicy: "Always",
    // The image's entrypoint is the server; the argv is the same one the Docker backend runs.
    args: p.argv,
    env: vllmEnv(p),
    resources: { limits: gpuLimits(p, c) },
    ...vllmProbes(p, c),
    volumeMounts: [
      { name: "model-cache", mountPath: HF_HOME },
      { name: "compile-cache", mountPath: VLLM_CACHE_ROOT },
      { name: "shm", mountPath: "/dev/shm" },
    ],
  };
}

/** Caddy on the stack's port: the pod's one entrance. */
export function gatewayContainer(p: ValidatedProfile) {
  return {
    name: "gateway",
    image: gatewayImageRef(p),
    // --watch: a key added or revoked updates the mounted Secret, and
    // Caddy reloads it in place; vLLM keeps serving (no new pod).
    command: ["caddy", "run", "--config", `${CADDYFILE_DIR}/${SECRET_KEYS.caddyfile}`, "--adapter", "caddyfile", "--watch"],
    env: [secretEnv(UPSTREAM_KEY_ENV, SECRET_KEYS.apiKey)],
    ports: [{ name: "gateway", containerPort: p.server.port, protocol: "TCP" }],
    readinessProbe: gatewayReadiness(p),
    volumeMounts: [{ name: "gateway-config", mountPath: CADDYFILE_DIR, readOnly: true }],
  };
}

export function podTemplate(p: ValidatedProfile, stack: string) {
  const c = p.cluster!;
  return {
    metadata: { labels: objectLabels(p, stack), ...(Object.keys(c.podAnnotations).length ? { annotations: { ...c.podAnnotations } } : {}) },
    spec: {
      terminationGracePeriodSeconds: c.terminationGraceSeconds,
      nodeSelector: nodeSelector(c),
      tolerations: c.tolerations,
      // No service account token in a pod that never talks to the API.
      automountServiceAccountToken: false,
      initContainers: [vllmContainer(p)],
      containers: [gatewayContainer(p)],
      volumes: [
        { name: "model-cache", persistentVolumeClaim: { claimName: CACHE_CLAIM } },
        { name: "compile-cache", emptyDir: {} },
        // A container's /dev/shm is 64 MiB: tensor parallel's NCCL needs a memory-backed one.
        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: `${p.container.shmSizeMiB}Mi` } },
        { name: "gateway-config", secret: { secretName: SECRET_NAME, items: [{ key: SECRET_KEYS.caddyfile, path: SECRET_KEYS.caddyfile }] } },
      ],
    },
  };
}

/**
 * Recreate, never RollingUpdate: with scarce GPUs a rolling update's new pod
 * waits on "Insufficient nvidia.com/gpu" while the old one holds them, and
 * the rollout never ends. The old pod goes first; the outage is the load.
 */
export function deploymentSpec(p: ValidatedProfile, stack: string, replicas = p.cluster!.replicas) {
  return {
    replicas,
    strategy: { type: "Recreate" },
    selector: { matchLabels: selectorLabels(stack) },
    template: podTemplate(p, stack),
  };
}

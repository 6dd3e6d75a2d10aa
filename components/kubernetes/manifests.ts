/**
 * The stack's other objects as plain specs: the model cache (PVC), the
 * weights Job that fills it, the Service and the NetworkPolicy. Pure.
 */
import { createHash } from "node:crypto";
import { nodeSelector } from "../config/cluster";
import type { ValidatedProfile } from "../config/schema";
import { HF_HOME, imageRef } from "../vllm/image";
import { CACHE_CLAIM, objectLabels, SECRET_KEYS, SECRET_NAME, selectorLabels } from "./pod";

/** The model cache: one claim per stack, kept when the stack is destroyed (tens of GB to fetch again). */
export function cacheClaimSpec(p: ValidatedProfile) {
  const c = p.cluster!;
  return {
    accessModes: [c.cacheAccessMode],
    resources: { requests: { storage: c.cacheSize } },
    ...(c.storageClass ? { storageClassName: c.storageClass } : {}),
  };
}

/**
 * The weights Job's name: a new model or image is a new Job (a Job's pod
 * template cannot change), the same ones keep the Job that already ran.
 */
export function weightsJobName(p: ValidatedProfile): string {
  return `weights-${createHash("sha256").update(`${p.model.id}\n${imageRef(p)}`).digest("hex").slice(0, 10)}`;
}

/**
 * Fetches the weights into the cache before the takeover, with the pinned
 * image's own huggingface_hub, as the Docker backend does (its weights
 * prefetch); the token from the Secret, by reference.
 * No GPU: it runs while the other model still serves.
 */
export function weightsJobSpec(p: ValidatedProfile, stack: string) {
  const c = p.cluster!;
  const code = `from huggingface_hub import snapshot_download; print(snapshot_download(repo_id=${JSON.stringify(p.model.id)}))`;
  return {
    // A download that fails (network, token) is retried a few times, then up fails naming the Job.
    backoffLimit: 3,
    template: {
      metadata: { labels: { ...objectLabels(p, stack), "org.myia.role": "weights" }, ...(Object.keys(c.podAnnotations).length ? { annotations: { ...c.podAnnotations } } : {}) },
      spec: {
        restartPolicy: "Never",
        automountServiceAccountToken: false,
        // On the GPU pool, beside the serving pods: with a ReadWriteOnce cache the volume is attached there.
        nodeSelector: nodeSelector(c),
        tolerations: c.tolerations,
        containers: [
          {
            name: "weights",
            image: imageRef(p),
            command: ["python3", "-c", code],
            env: [
              { name: "HF_HOME", value: HF_HOME },
              ...Object.entries(p.container.env).map(([name, value]) => ({ name, value })),
              { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: SECRET_NAME, key: SECRET_KEYS.hfToken } } },
            ],
            volumeMounts: [{ name: "model-cache", mountPath: HF_HOME }],
          },
        ],
        volumes: [{ name: "model-cache", persistentVolumeClaim: { claimName: CACHE_CLAIM } }],
      },
    },
  };
}

/** One Service on the stack's port, in front of every replica's gateway. */
export function serviceSpec(p: ValidatedProfile, stack: string) {
  return {
    type: "ClusterIP",
    selector: selectorLabels(stack),
    ports: [{ name: "http", port: p.server.port, targetPort: "gateway", protocol: "TCP" }],
  };
}

/**
 * Only the gateway's port is open, from anywhere a NetworkPolicy allows:
 * vLLM listens on the loopback anyway; this also closes any other port a
 * sidecar or a debug build might open.
 */
export function networkPolicySpec(p: ValidatedProfile, stack: string) {
  return {
    podSelector: { matchLabels: selectorLabels(stack) },
    policyTypes: ["Ingress"],
    ingress: [{ ports: [{ port: p.server.port, protocol: "TCP" }] }],
  };
}

/**
 * The vLLM container's settings as plain values, from a validated profile.
 * VllmService turns them into a docker.Container; the demo and the
 * integration tests apply the very same settings with the docker CLI. Pure.
 */
import { createHash } from "node:crypto";
import type { ValidatedProfile } from "./config/schema";
import { PROJECT_LABEL, PROJECT_NAME } from "./host/probe";

// Where the official image looks for its caches.
export const HF_HOME = "/root/.cache/huggingface";
export const VLLM_CACHE_ROOT = "/root/.cache/vllm";

/** The image reference: a pinned tag, plus its digest when one is given. Never `latest`. */
export function imageRef(p: ValidatedProfile): string {
  return `${p.image.repository}:${p.image.tag}${p.image.digest ? `@${p.image.digest}` : ""}`;
}

/** Environment without the secrets. */
export function plainEnv(p: ValidatedProfile): string[] {
  return [
    `HF_HOME=${HF_HOME}`,
    `VLLM_CACHE_ROOT=${VLLM_CACHE_ROOT}`,
    ...Object.entries(p.container.env).map(([k, v]) => `${k}=${v}`),
  ];
}

/**
 * The GPUs as a Docker device request, what `docker run --gpus '"device=0,1"'`
 * sends: the NVIDIA hook exposes exactly these to the container.
 */
export function gpuRequest(p: ValidatedProfile): string {
  return `device=${p.host.gpus.join(",")}`;
}

/** The secrets reach vLLM only as environment, never as argv. */
export function secretEnv(apiKey: string, hfToken: string): string[] {
  return [`VLLM_API_KEY=${apiKey}`, `HF_TOKEN=${hfToken}`];
}

/**
 * A hash of everything that defines the running container but that
 * `pulumi refresh` cannot read back (env and labels): kept as a label so a
 * drift check can compare it with what the container really carries.
 */
export function configHash(p: ValidatedProfile, stack: string): string {
  const defining = { stack, image: imageRef(p), argv: p.argv, env: plainEnv(p), gpus: gpuRequest(p), container: p.container, mounts: [p.host.hfCachePath, p.host.compileCachePath] };
  return createHash("sha256").update(JSON.stringify(defining)).digest("hex").slice(0, 16);
}

export function labels(p: ValidatedProfile, stack: string, lease: string): Record<string, string> {
  return {
    [PROJECT_LABEL]: PROJECT_NAME,
    "org.myia.stack": stack,
    "org.myia.profile": p.profile,
    "org.myia.model": p.model.id,
    "org.myia.vllm-version": p.vllmVersion,
    "org.myia.gpu-lease": lease,
    "org.myia.config-hash": configHash(p, stack),
  };
}

export interface Healthcheck {
  tests: string[];
  interval: string;
  timeout: string;
  retries: number;
  startPeriod: string;
}

export function healthcheck(p: ValidatedProfile): Healthcheck {
  const hc = p.container.healthcheck;
  return {
    tests: ["CMD", "curl", "-fsS", `http://localhost:${p.server.port}/health`],
    interval: `${hc.intervalSeconds}s`,
    timeout: `${hc.timeoutSeconds}s`,
    retries: hc.retries,
    startPeriod: `${hc.startPeriodSeconds}s`,
  };
}

export function volumes(p: ValidatedProfile): { hostPath: string; containerPath: string }[] {
  return [
    { hostPath: p.host.hfCachePath, containerPath: HF_HOME },
    { hostPath: p.host.compileCachePath, containerPath: VLLM_CACHE_ROOT },
  ];
}

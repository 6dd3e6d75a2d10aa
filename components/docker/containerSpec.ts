/**
 * The vLLM container's settings as plain values, from a validated profile.
 * VllmService turns them into a docker.Container; the demo and the
 * integration tests apply the very same settings with the docker CLI. Pure.
 * The image and where its caches live are the same on every backend:
 * components/vllm/image.ts.
 */
import { createHash } from "node:crypto";
import type { ValidatedProfile } from "../config/schema";
import { PROJECT_LABEL, PROJECT_NAME } from "../host/probe";
import { DEV_MODE_ENV } from "../vllm/sleep";
import { HF_HOME, imageRef, VLLM_CACHE_ROOT } from "../vllm/image";

/** Labels as the docker provider takes them. */
export function labelList(labels: Record<string, string>): { label: string; value: string }[] {
  return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/** Environment without the secrets. */
export function plainEnv(p: ValidatedProfile): string[] {
  return [
    `HF_HOME=${HF_HOME}`,
    `VLLM_CACHE_ROOT=${VLLM_CACHE_ROOT}`,
    ...Object.entries(p.container.env).map(([k, v]) => `${k}=${v}`),
    // Standby: vLLM mounts /sleep and /wake_up only in dev mode (the gateway never forwards them).
    ...(p.host.standby.enabled ? [DEV_MODE_ENV] : []),
  ];
}

/** A Docker device request, as the docker provider takes it. */
export interface GpuRequest {
  driver: string;
  deviceIds: string[];
  capabilities: string[];
}

/**
 * The GPUs as a Docker device request: what `docker run --gpus
 * '"device=0,1"'` sends, so the NVIDIA hook exposes exactly these GPUs. Not
 * the provider's `gpus` string: it parses its value as one CSV record, so
 * "device=0,1" becomes a device list [0] plus a count of 1, which dockerd
 * refuses ("cannot set both Count and DeviceIDs"), and it strips the quotes
 * that keep the list whole. `deviceRequests` round-trips exactly.
 */
export function gpuRequest(p: ValidatedProfile): GpuRequest {
  return { driver: "nvidia", deviceIds: p.host.gpus.map(String), capabilities: ["gpu"] };
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

/**
 * Seconds as Go's time.Duration prints them ("30s", "20m0s", "1h0m0s"): the
 * docker provider reads a container's healthcheck back in that form, so any
 * other spelling ("1200s") is a diff on every refresh, and the healthcheck
 * forces a new container.
 */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export function healthcheck(p: ValidatedProfile): Healthcheck {
  const hc = p.container.healthcheck;
  return {
    tests: ["CMD", "curl", "-fsS", `http://localhost:${p.server.port}/health`],
    interval: goDuration(hc.intervalSeconds),
    timeout: goDuration(hc.timeoutSeconds),
    retries: hc.retries,
    startPeriod: goDuration(hc.startPeriodSeconds),
  };
}

export function volumes(p: ValidatedProfile): { hostPath: string; containerPath: string }[] {
  return [
    { hostPath: p.host.hfCachePath, containerPath: HF_HOME },
    { hostPath: p.host.compileCachePath, containerPath: VLLM_CACHE_ROOT },
  ];
}

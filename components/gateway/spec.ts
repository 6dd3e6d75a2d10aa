/**
 * The gateway's settings as plain values, from a validated profile: names,
 * image, labels and what its Caddyfile is rendered from. Pure.
 */
import { createHash } from "node:crypto";
import type { ValidatedProfile } from "../config/schema";
import { pinnedRef } from "../containerSpec";
import { PROJECT_LABEL, PROJECT_NAME } from "../host/probe";
import type { GatewayRender } from "./caddyfile";

/** The environment variable that carries the API key into the gateway's container. */
export const GATEWAY_KEY_ENV = "MYIA_GATEWAY_KEY";

/** The label that marks a gateway container; the takeover stops a stack's gateway with its model. */
export const ROLE_LABEL = "org.myia.role";

export const gatewayContainerName = (p: ValidatedProfile): string => `${p.server.containerName}-gateway`;

/** The stack's private Docker network: vLLM and its gateway, nothing else. */
export const networkName = (stack: string): string => `myia-vllm-${stack}`;

export const gatewayImageRef = (p: ValidatedProfile): string => pinnedRef(p.gateway.image);

export function gatewayRender(p: ValidatedProfile): GatewayRender {
  return {
    port: p.server.port,
    upstream: `${p.server.containerName}:${p.server.port}`,
    keyEnv: GATEWAY_KEY_ENV,
    maxBodyBytes: p.gateway.maxBodyMiB * 2 ** 20,
    expose: p.gateway.expose,
  };
}

export function gatewayLabels(p: ValidatedProfile, stack: string, caddyfile: string): Record<string, string> {
  return {
    [PROJECT_LABEL]: PROJECT_NAME,
    "org.myia.stack": stack,
    "org.myia.profile": p.profile,
    [ROLE_LABEL]: "gateway",
    "org.myia.upstream": p.server.containerName,
    "org.myia.config-hash": createHash("sha256").update(caddyfile).update(gatewayImageRef(p)).digest("hex").slice(0, 16),
  };
}

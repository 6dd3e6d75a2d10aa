/**
 * The gateway's Docker-only settings as plain values, from a validated
 * profile: its container's name, the stack's network, its labels, the CA's
 * volume. Pure. Its image and what its Caddyfile is rendered from are the
 * same on every backend: components/gateway/render.ts.
 */
import { createHash } from "node:crypto";
import type { ValidatedProfile } from "../../config/schema";
import { PROJECT_LABEL, PROJECT_NAME } from "../../host/probe";
import { gatewayImageRef } from "../../gateway/render";

/**
 * The Docker volume that holds Caddy's data (/data) for every gateway on the
 * host: its CA (made on first start and kept, so clients trust one root for
 * every stack and every new container) and the certificates it issued. No
 * stack owns it: destroying a stack keeps it.
 */
export const CA_VOLUME = "myia-vllm-ca";

/** The root certificate of Caddy's CA, inside a gateway's container (public; its key stays beside it, in the volume). */
export const CA_ROOT_PATH = "/data/caddy/pki/authorities/local/root.crt";

/** The label that marks a gateway container; the takeover stops a stack's gateway with its model. */
export const ROLE_LABEL = "org.myia.role";

export const gatewayContainerName = (p: ValidatedProfile): string => `${p.server.containerName}-gateway`;

/** The stack's private Docker network: vLLM and its gateway, nothing else. */
export const networkName = (stack: string): string => `myia-vllm-${stack}`;

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

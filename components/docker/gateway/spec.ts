/**
 * The gateway's settings as plain values, from a validated profile: names,
 * image, labels and what its Caddyfile is rendered from. Pure.
 */
import { createHash } from "node:crypto";
import type { ValidatedProfile } from "../../config/schema";
import { pinnedRef } from "../containerSpec";
import { PROJECT_LABEL, PROJECT_NAME } from "../../host/probe";
import type { GatewayRender } from "../../gateway/caddyfile";

/** The environment variable that carries vLLM's own key (apiKey) into the gateway's container, for the requests it forwards. */
export const UPSTREAM_KEY_ENV = "MYIA_UPSTREAM_KEY";

/** The admin API's socket inside the gateway's container; /config is Caddy's XDG_CONFIG_HOME, present in its image. */
export const ADMIN_SOCKET = "/config/caddy-admin.sock";

/**
 * The Docker volume that holds Caddy's data (/data) for every gateway on the
 * host: its CA (made on first start and kept, so clients trust one root for
 * every stack and every new container) and the certificates it issued. No
 * stack owns it: destroying a stack keeps it.
 */
export const CA_VOLUME = "myia-vllm-ca";

/** The root certificate of Caddy's CA, inside a gateway's container (public; its key stays beside it, in the volume). */
export const CA_ROOT_PATH = "/data/caddy/pki/authorities/local/root.crt";

/** The gateway's drain switch (see GatewayRender.drainFile), in its config folder. */
export const DRAIN_FILE = "/config/myia-drain";

/** The names the gateway serves HTTPS on: the configured ones, the host's address, and loopback. */
export function tlsNames(p: ValidatedProfile): string[] {
  return [...new Set([p.host.address, ...p.gateway.tls.names, "localhost", "127.0.0.1"])];
}

/** The scheme clients use on the public port. */
export const gatewayScheme = (p: ValidatedProfile): "https" | "http" => (p.gateway.enabled && p.gateway.tls.mode !== "off" ? "https" : "http");

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
    upstreamKeyEnv: UPSTREAM_KEY_ENV,
    adminSocket: ADMIN_SOCKET,
    drainFile: DRAIN_FILE,
    tls: { mode: p.gateway.tls.mode, names: tlsNames(p) },
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

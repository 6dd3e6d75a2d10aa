/**
 * What the gateway serves, from a profile: its pinned Caddy image, the
 * values its Caddyfile is rendered from, the environment variable that
 * carries vLLM's key, and the scheme clients use. Pure, and backend-neutral:
 * the Docker host and the cluster run the same Caddy image with the same
 * rules (the cluster's pod puts vLLM on its loopback and leaves TLS to the
 * Ingress), and the tools ask it how to reach a stack; so it lives here,
 * beside the Caddyfile, and neither backend imports the other for it.
 *
 * It reads only the parts of the profile below (a ValidatedProfile has
 * them), so it needs nothing from config.
 */
import { type ImagePin, pinnedRef } from "../vllm/image";
import type { GatewayRender } from "./caddyfile";

/** The parts of a validated profile the gateway is made from. */
export interface GatewayProfile {
  host: { address: string };
  server: { port: number; containerName: string };
  gateway: {
    enabled: boolean;
    image: ImagePin;
    tls: { mode: GatewayRender["tls"]["mode"]; names: readonly string[] };
    maxBodyMiB: number;
    expose: GatewayRender["expose"];
  };
}

/** The environment variable that carries vLLM's own key (apiKey) into the gateway's container, for the requests it forwards. */
export const UPSTREAM_KEY_ENV = "MYIA_UPSTREAM_KEY";

/** The admin API's socket inside the gateway's container; /config is Caddy's XDG_CONFIG_HOME, present in its image. */
export const ADMIN_SOCKET = "/config/caddy-admin.sock";

/** The gateway's drain switch (see GatewayRender.drainFile), in its config folder. */
export const DRAIN_FILE = "/config/myia-drain";

/** The names the gateway serves HTTPS on: the configured ones, the host's address, and loopback. */
export function tlsNames(p: Pick<GatewayProfile, "host" | "gateway">): string[] {
  return [...new Set([p.host.address, ...p.gateway.tls.names, "localhost", "127.0.0.1"])];
}

/** The scheme clients use on the public port. */
export const gatewayScheme = (p: Pick<GatewayProfile, "gateway">): "https" | "http" => (p.gateway.enabled && p.gateway.tls.mode !== "off" ? "https" : "http");

/** The gateway's image reference: the pinned Caddy tag, plus its digest when one is given. */
export const gatewayImageRef = (p: Pick<GatewayProfile, "gateway">): string => pinnedRef(p.gateway.image);

/**
 * The Caddyfile's values for the Docker host, where vLLM is reached by its
 * container name on the stack's private network; the cluster's pod takes
 * these and sets its own upstream and TLS.
 */
export function gatewayRender(p: GatewayProfile): GatewayRender {
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

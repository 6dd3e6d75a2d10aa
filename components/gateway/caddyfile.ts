/**
 * The gateway's Caddyfile, rendered from validated config. Pure: it only
 * builds the text.
 *
 * The rule: /health for everyone; every other path needs a client's key as
 * a Bearer token, and of those only /v1 and /v1/* are forwarded; the rest
 * gets 404 from the gateway itself, never from vLLM (UNGUARDED_ROUTES).
 *
 * Two texts come from it. Without clients it holds no secret: that one is
 * uploaded with the container, and refuses every key. With the clients' keys
 * it is the config the gateway runs: it reaches Caddy only through its admin
 * socket inside the container (`caddy reload` over `docker exec -i`, the
 * text on stdin), so a key added or revoked changes the gateway's config
 * without a new container, and vLLM never sees a client's key: the gateway
 * sends vLLM its own key, read from the container's environment at each
 * request ({env.NAME} is a runtime placeholder).
 */
import { GUARDED_PREFIX, HEALTH_PATH, OptionalPath } from "../vllm/routes";

export interface GatewayRender {
  /** The port the gateway listens on inside its container (the stack's public port). */
  port: number;
  /** vLLM as the gateway reaches it on the stack's private network, host:port. */
  upstream: string;
  /** The environment variable that holds vLLM's own key (apiKey) in the gateway's container. */
  upstreamKeyEnv: string;
  /** The admin API's unix socket inside the container (`caddy reload` talks to it). */
  adminSocket: string;
  /**
   * A file in the container whose content "1" makes the gateway refuse every
   * request with 503 and Retry-After (a drain before its model stops), read
   * at each request; anything else, or no file, serves.
   */
  drainFile: string;
  /** HTTPS on the port (the certificate from Caddy's CA, or the one provided), or plain HTTP. */
  tls: { mode: "internal" | "provided" | "off"; names: readonly string[] };
  /** The largest request body forwarded, bytes; a larger one gets 413. */
  maxBodyBytes: number;
  /** Paths served without the key, each only to clients from these CIDRs. */
  expose: readonly { path: OptionalPath; from: readonly string[] }[];
  /**
   * How long the gateway, once told to stop (SIGTERM), lets requests in
   * flight finish; new connections are refused from the start. Unset: Caddy's
   * default, no bound (the Docker host drains before it stops the gateway).
   */
  gracePeriodSeconds?: number;
}

/** One client of the gateway: its name (in the access log) and its key. */
export interface ClientKey {
  name: string;
  key: string;
}

/** Where a provided certificate and key are put in the gateway's container. */
export const PROVIDED_CERT = "/etc/caddy/tls/cert.pem";
export const PROVIDED_KEY = "/etc/caddy/tls/key.pem";

/** Seconds a refused client is told to wait while the gateway drains (the next model's load is longer). */
export const DRAIN_RETRY_AFTER = 10;

/** The placeholder the clients' map sets: the name of the client whose key came, or "". */
const CLIENT = "myia_client";

const isIp = (n: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(n) || n.includes(":");

/** The address served to clients that send no SNI: the first non-loopback address listed, else loopback. */
export function defaultSni(names: readonly string[]): string | undefined {
  const ips = names.filter(isIp);
  return ips.find((n) => n !== "127.0.0.1" && n !== "::1") ?? ips[0];
}

/** The Caddyfile, tab-indented as `caddy fmt` writes it. */
export function gatewayCaddyfile(g: GatewayRender, clients: readonly ClientKey[] = []): string {
  const proxy = (indent: string, withKey = false) =>
    [
      `${indent}reverse_proxy ${g.upstream} {`,
      // Streamed replies (SSE) reach the client token by token: no buffering.
      `${indent}\tflush_interval -1`,
      // vLLM gets its own key, never the client's: a client key can then be
      // added or revoked without touching vLLM's container.
      ...(withKey ? [`${indent}\theader_up Authorization "Bearer {env.${g.upstreamKeyEnv}}"`] : []),
      `${indent}\ttransport http {`,
      // A box that cannot be reached fails fast; a reply takes as long as vLLM
      // takes (no response_header or read timeout: a long non-streamed
      // generation sends its headers only when it is done).
      `${indent}\t\tdial_timeout 5s`,
      `${indent}\t}`,
      `${indent}}`,
    ].join("\n");
  const exposed = g.expose.flatMap((e, i) => [
    `\t@open${i} {`,
    `\t\tpath ${e.path}`,
    `\t\tremote_ip ${e.from.join(" ")}`,
    `\t}`,
    `\thandle @open${i} {`,
    proxy("\t\t"),
    `\t}`,
  ]);
  const https = g.tls.mode !== "off";
  const site = https ? g.tls.names.map((n) => `https://${n.includes(":") ? `[${n}]` : n}:${g.port}`).join(", ") : `:${g.port}`;
  const tls = g.tls.mode === "internal" ? [`\ttls internal`] : g.tls.mode === "provided" ? [`\ttls ${PROVIDED_CERT} ${PROVIDED_KEY}`] : [];
  return [
    `# Rendered by myia-vllm (components/gateway/caddyfile.ts).`,
    clients.length === 0 ? `# No client key here: this config refuses every key until the clients' config is loaded.` : `# The clients' config: it holds their keys, and reaches Caddy only through its admin socket.`,
    `{`,
    // The admin API only on a socket inside the container: `caddy reload`
    // through docker exec is the one way to change the config (no TCP port
    // would show or change it). The config last loaded is kept in the
    // container (autosave) and `caddy run --resume` starts from it, so a
    // restarted gateway still knows its clients.
    `\tadmin unix/${g.adminSocket}`,
    // No ACME (the box is not on the internet), no redirect listener on :80,
    // no attempt to install the CA into the container's trust store.
    https ? `\tauto_https disable_redirects` : `\tauto_https off`,
    ...(g.tls.mode === "internal" ? [`\tskip_install_trust`] : []),
    // A client that connects by IP address sends no SNI, and inside the
    // container the address it dialled is not known: it gets this one's
    // certificate (one address per gateway; names carry their own SNI).
    ...(https && defaultSni(g.tls.names) ? [`\tdefault_sni ${defaultSni(g.tls.names)}`] : []),
    // Caddy reads 0 as no bound: "stop at once" is a millisecond.
    ...(g.gracePeriodSeconds === undefined ? [] : [`\tgrace_period ${g.gracePeriodSeconds > 0 ? `${g.gracePeriodSeconds}s` : "1ms"}`]),
    `\tservers {`,
    // HTTP/3 would be advertised on a UDP port that is not published.
    `\t\tprotocols h1 h2`,
    `\t\ttimeouts {`,
    // Headers must arrive promptly (slow-header clients); bodies and replies
    // may take as long as they need (large images, long generations).
    `\t\t\tread_header 10s`,
    `\t\t\tidle 5m`,
    `\t\t}`,
    `\t}`,
    `}`,
    ``,
    `${site} {`,
    ...tls,
    // The access log names the client by its key's name; Caddy logs the
    // Authorization header itself as REDACTED.
    `\tlog {`,
    `\t\toutput stdout`,
    `\t\tformat json`,
    `\t}`,
    `\tmap {header.Authorization} {${CLIENT}} {`,
    ...clients.map((c) => `\t\t"Bearer ${c.key}" ${c.name}`),
    `\t\tdefault ""`,
    `\t}`,
    // Early (<): read before the header sent upstream replaces the client's.
    `\tlog_append <client {${CLIENT}}`,
    // Draining: before its model stops, nothing new is admitted, /health
    // included (a load balancer sees it go); requests in flight go on. First:
    // handles with named matchers keep their order, path ones would sort first.
    `\t@draining vars {file.${g.drainFile}} 1`,
    `\thandle @draining {`,
    `\t\theader Retry-After ${DRAIN_RETRY_AFTER}`,
    `\t\theader Content-Type application/json`,
    `\t\trespond \`{"error":{"message":"this model is being switched off; retry in a few seconds","code":503}}\` 503`,
    `\t}`,
    `\t@health path ${HEALTH_PATH}`,
    `\thandle @health {`,
    proxy("\t\t"),
    `\t}`,
    ...exposed,
    `\t@key not vars {${CLIENT}} ""`,
    `\thandle @key {`,
    `\t\t@api path ${GUARDED_PREFIX} ${GUARDED_PREFIX}/*`,
    `\t\thandle @api {`,
    `\t\t\trequest_body {`,
    `\t\t\t\tmax_size ${g.maxBodyBytes}`,
    `\t\t\t}`,
    proxy("\t\t\t", true),
    `\t\t}`,
    `\t\thandle {`,
    `\t\t\theader Content-Type application/json`,
    `\t\t\trespond \`{"error":{"message":"not served by this gateway: only ${GUARDED_PREFIX}/* and ${HEALTH_PATH}","code":404}}\` 404`,
    `\t\t}`,
    `\t}`,
    `\thandle {`,
    `\t\theader Content-Type application/json`,
    `\t\theader WWW-Authenticate "Bearer"`,
    `\t\trespond \`{"error":{"message":"missing or wrong API key: send Authorization: Bearer <key>","code":401}}\` 401`,
    `\t}`,
    `\thandle_errors 413 {`,
    `\t\theader Content-Type application/json`,
    `\t\trespond \`{"error":{"message":"request body over ${Math.floor(g.maxBodyBytes / 2 ** 20)} MiB (gateway.maxBodyMiB)","code":413}}\` 413`,
    `\t}`,
    `}`,
    ``,
  ].join("\n");
}

/**
 * The gateway's Caddyfile, rendered from validated config. Pure: it only
 * builds the text, which holds no secret. Caddy reads the key from the
 * container's environment at each request ({env.NAME} is a runtime
 * placeholder, not substituted when the file is parsed), so the key is in no
 * file, no argv and not in the loaded config either (the admin API is off).
 *
 * The rule: /health for everyone; every other path needs the key as a
 * Bearer token, and of those only /v1 and /v1/* are forwarded; the rest
 * gets 404 from the gateway itself, never from vLLM (UNGUARDED_ROUTES).
 */
import { GUARDED_PREFIX, HEALTH_PATH, OptionalPath } from "../vllm/routes";

export interface GatewayRender {
  /** The port the gateway listens on inside its container (the stack's public port). */
  port: number;
  /** vLLM as the gateway reaches it on the stack's private network, host:port. */
  upstream: string;
  /** The environment variable that holds the API key in the gateway's container. */
  keyEnv: string;
  /** The largest request body forwarded, bytes; a larger one gets 413. */
  maxBodyBytes: number;
  /** Paths served without the key, each only to clients from these CIDRs. */
  expose: readonly { path: OptionalPath; from: readonly string[] }[];
}

/** The Caddyfile, tab-indented as `caddy fmt` writes it. */
export function gatewayCaddyfile(g: GatewayRender): string {
  const proxy = (indent: string) =>
    [
      `${indent}reverse_proxy ${g.upstream} {`,
      // Streamed replies (SSE) reach the client token by token: no buffering.
      `${indent}\tflush_interval -1`,
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
  return [
    `# Rendered by myia-vllm (components/gateway/caddyfile.ts). No secret here: the`,
    `# key is read from $${g.keyEnv} at each request.`,
    `{`,
    // No admin endpoint (it would show and change the config), no ACME, no
    // autosave of the config to disk.
    `\tadmin off`,
    `\tauto_https off`,
    `\tpersist_config off`,
    `\tservers {`,
    `\t\ttimeouts {`,
    // Headers must arrive promptly (slow-header clients); bodies and replies
    // may take as long as they need (large images, long generations).
    `\t\t\tread_header 10s`,
    `\t\t\tidle 5m`,
    `\t\t}`,
    `\t}`,
    `}`,
    ``,
    `:${g.port} {`,
    `\thandle ${HEALTH_PATH} {`,
    proxy("\t\t"),
    `\t}`,
    ...exposed,
    `\t@key header Authorization "Bearer {env.${g.keyEnv}}"`,
    `\thandle @key {`,
    `\t\t@api path ${GUARDED_PREFIX} ${GUARDED_PREFIX}/*`,
    `\t\thandle @api {`,
    `\t\t\trequest_body {`,
    `\t\t\t\tmax_size ${g.maxBodyBytes}`,
    `\t\t\t}`,
    proxy("\t\t\t"),
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

/**
 * What a client of a stack needs: the endpoint, a client key, and trust in
 * the gateway's CA (gateway.tls.mode internal), read from the stack's
 * outputs. Node's TLS clients (fetch included) then verify the gateway's
 * certificate against that CA, as any client of the stack must.
 */
import * as tls from "node:tls";

/** Stack outputs as the Automation API gives them ({value, secret}), or their plain values. */
type Outputs = Record<string, unknown>;

const valueOf = (o: unknown): unknown => (o !== null && typeof o === "object" && "value" in o ? (o as { value: unknown }).value : o);

const trusted = new Set<string>();

/** Adds a CA root to the ones this process's TLS clients trust (fetch, https). Idempotent. */
export function trustCa(pem: string | undefined): void {
  const root = pem?.trim();
  if (!root || trusted.has(root)) return;
  trusted.add(root);
  tls.setDefaultCACertificates([...tls.getCACertificates("default"), ...trusted]);
}

/**
 * The key a tool sends: MYIA_API_KEY when set, else the stack's client
 * "default" (apiKey, when no apiKeys are set), else its first client by name.
 */
export function pickClientKey(keys: Record<string, string> | undefined, env = process.env.MYIA_API_KEY): string | undefined {
  if (env) return env;
  if (!keys) return undefined;
  return keys.default ?? Object.entries(keys).sort(([a], [b]) => a.localeCompare(b))[0]?.[1];
}

export interface StackClient {
  /** The endpoint without /v1, e.g. https://localhost:5003. */
  baseUrl: string;
  apiKey: string | undefined;
  caCertificate: string | undefined;
}

/** A deployed stack's endpoint, key and CA from its outputs; trusts the CA. */
export function clientFromOutputs(outputs: Outputs): StackClient {
  const ca = valueOf(outputs.caCertificate);
  const caCertificate = typeof ca === "string" && ca.includes("BEGIN CERTIFICATE") ? ca : undefined;
  trustCa(caCertificate);
  const keys = valueOf(outputs.clientKeys);
  return {
    baseUrl: String(valueOf(outputs.endpoint) ?? "").replace(/\/v1$/, ""),
    apiKey: pickClientKey(keys !== null && typeof keys === "object" ? (keys as Record<string, string>) : undefined),
    caCertificate,
  };
}

/**
 * Reads this stack's config from the Pulumi engine, validates it, and fails
 * the preview with every error at once, as `path: message` lines and no stack
 * trace. Secrets are read with requireSecret and stay Outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { formatMemoryTable } from "../vllm/memory";
import { validateStack } from "./load";
import type { ClientKey } from "../gateway/caddyfile";
import { apiKeyProblem, clientKeysProblems, ValidatedProfile } from "./schema";
import { PROJECT, siblingStacks, splitConfig } from "./stackFile";

// isConfigSecret is exported by the SDK's runtime but missing from its typings;
// it is how a program tells an encrypted value from a plaintext one.
const isConfigSecret = (runtimeConfig as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret;

/** Structured config reaches the program as JSON text; plain strings as they are. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

export interface LoadedProfile {
  profile: ValidatedProfile;
  /** vLLM's own key; with no apiKeys, also the one client key ("default"). */
  apiKey: pulumi.Output<string>;
  hfToken: pulumi.Output<string>;
  /** The keys the gateway accepts, by client, sorted by name (secret). */
  clients: pulumi.Output<ClientKey[]>;
  /** gateway.tls.mode provided: the certificate and key (secrets). */
  providedTls?: { certificate: pulumi.Output<string>; privateKey: pulumi.Output<string> };
}

/** The client that holds apiKey when the stack sets no apiKeys. */
export const DEFAULT_CLIENT = "default";

export function loadProfile(stack = pulumi.getStack(), projectDir = process.cwd()): LoadedProfile {
  const all = runtimeConfig.allConfig();
  const ours = Object.fromEntries(
    Object.entries(all)
      .filter(([k]) => k.startsWith(`${PROJECT}:`))
      .map(([k, v]) => [k, decode(v)]),
  );
  const self = splitConfig(stack, ours, (k) => isConfigSecret(k));
  const result = validateStack(self, siblingStacks(projectDir, stack));
  for (const w of result.warnings) pulumi.log.warn(w);
  // The key's value is checked here, where the program holds it; the message never shows it.
  const key = all[`${PROJECT}:apiKey`];
  const keyError = typeof key === "string" && self.secrets.apiKey === "secret" ? apiKeyProblem(key) : undefined;
  const rawClients = self.secrets.apiKeys === "secret" ? decode(all[`${PROJECT}:apiKeys`]) : undefined;
  const clientErrors =
    rawClients === undefined
      ? []
      : typeof rawClients === "object" && rawClients !== null && !Array.isArray(rawClients) && Object.keys(rawClients).length > 0
        ? clientKeysProblems(rawClients as Record<string, unknown>, key)
        : ['apiKeys: must map client names to keys; run `pulumi config set --secret --path apiKeys.app-a "sk-$(openssl rand -hex 24)"`'];
  const errors = [...(result.ok ? [] : result.errors), ...(keyError ? [keyError] : []), ...clientErrors];
  if (!result.ok || errors.length > 0) {
    throw new pulumi.RunError([`stack ${stack}: the configuration has ${errors.length} error(s):`, ...errors.map((e) => `  ${e}`)].join("\n"));
  }
  const profile = result.profile;
  pulumi.log.info(`memory plan per GPU (vLLM ${profile.vllmVersion}, ${profile.model.id}, TP ${profile.vllm.tensorParallelSize}):\n${formatMemoryTable(profile.memory, profile.cluster?.gpuMemoryMiB ?? profile.host.gpuMemoryMiB, profile.vllm.maxModelLen)}${profile.standby ? `\n${profile.standby.table}` : ""}`);
  const config = new pulumi.Config(PROJECT);
  const apiKey = config.requireSecret("apiKey");
  const clients = rawClients
    ? pulumi.secret(
        Object.entries(rawClients as Record<string, string>)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, k]) => ({ name, key: k })),
      )
    : apiKey.apply((k) => [{ name: DEFAULT_CLIENT, key: k }]);
  const providedTls = profile.gateway.tls.mode === "provided" ? { certificate: config.requireSecret("tlsCertificate"), privateKey: config.requireSecret("tlsPrivateKey") } : undefined;
  return { profile, apiKey, hfToken: config.requireSecret("hfToken"), clients, providedTls };
}

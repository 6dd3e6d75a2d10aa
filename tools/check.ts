/**
 * npm run check -- --stack <name> [--require-secrets] [--dir <project>]
 *
 * Runs the validation preview runs, on a stack's config file, without the
 * Pulumi engine: prints the rendered vLLM argv (secrets masked) and the
 * memory table, or the errors, and exits non-zero when the config is invalid.
 * Without --stack it checks every Pulumi.<stack>.yaml in the project.
 */
import { readdirSync } from "node:fs";
import { clusterNamespace } from "../components/config/cluster";
import { resolve } from "node:path";
import { validateStack } from "../components/config/load";
import { readStackFile, siblingStacks } from "../components/config/stackFile";
import { formatArgv } from "../components/vllm/argv";
import { formatMemoryTable } from "../components/vllm/memory";
import { networkName } from "../components/docker/gateway/spec";
import { gatewayImageRef } from "../components/gateway/render";
import { parseCli } from "./lib/cli";

export function checkStack(dir: string, stack: string, requireSecrets: boolean): { ok: boolean; report: string } {
  const self = readStackFile(dir, stack);
  const result = validateStack(self, siblingStacks(dir, stack), { missingSecrets: requireSecrets ? "error" : "warn" });
  const lines: string[] = [];
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  if (!result.ok) {
    lines.push(`stack ${stack}: INVALID, ${result.errors.length} error(s):`, ...result.errors.map((e) => `  ${e}`));
    return { ok: false, report: lines.join("\n") };
  }
  const p = result.profile;
  const secret = (k: "apiKey" | "hfToken") => (self.secrets[k] === "secret" ? "******** (secret)" : "(not set)");
  lines.push(
    `stack ${stack}: OK (${p.profile}: ${p.model.id} on vLLM ${p.vllmVersion}, port ${p.server.port}, ${p.cluster ? `${p.cluster.replicas} pod(s) of ${p.vllm.tensorParallelSize} ${p.cluster.gpuResource} on cluster ${p.cluster.context ?? p.cluster.kubeconfig}, namespace ${clusterNamespace(p.cluster, stack)}` : `GPUs ${p.host.gpus.join(",")} of ${p.host.name}`})`,
    "",
    "container command (what follows `vllm serve`):",
    `  ${formatArgv(p.argv)}`,
    "secrets (environment only, never argv):",
    `  VLLM_API_KEY=${secret("apiKey")}`,
    `  HF_TOKEN=${secret("hfToken")}`,
    p.gateway.enabled
      ? `gateway: ${gatewayImageRef(p)} on port ${p.server.port}: /health open, /v1/* with the key, nothing else${p.gateway.expose.length ? `; ${p.gateway.expose.map((e) => `${e.path} from ${e.from.join(" ")}`).join(", ")} without the key` : ""}; bodies up to ${p.gateway.maxBodyMiB} MiB; ${p.cluster ? "vLLM on the pod's loopback, the gateway the pod's one entrance" : `vLLM on network ${networkName(stack)}, no published port`}`
      : `gateway: OFF: vLLM's port ${p.server.port} is published and its routes outside /v1 answer without the key`,
    "",
    `memory per GPU (${p.vllm.tensorParallelSize} GPUs, kv-cache ${p.vllm.kvCacheDtype}):`,
    ...formatMemoryTable(p.memory, p.cluster?.gpuMemoryMiB ?? p.host.gpuMemoryMiB, p.vllm.maxModelLen)
      .split("\n")
      .map((l) => `  ${l}`),
  );
  return { ok: true, report: lines.join("\n") };
}

const USAGE = `usage: npm run check -- [--stack <name>] [--dir <project>] [--require-secrets]

Validates stack files offline, as preview does (schema, vLLM flags of the pinned release, memory
fit), and prints each one's argv and memory table. No engine, no host.
  --stack, -s <name>    one stack (default: every Pulumi.<name>.yaml in the folder)
  --dir <project>       the project folder (default: .)
  --require-secrets     missing apiKey/hfToken are errors, not warnings
Exit: 0 all valid, 1 a stack is invalid, 2 usage.`;

export function main(argv = process.argv.slice(2)): number {
  const values = parseCli(argv, { stack: { type: "string", short: "s" }, dir: { type: "string", default: "." }, "require-secrets": { type: "boolean" } }, USAGE);
  if (typeof values === "number") return values;
  const dir = resolve(values.dir);
  const stacks = values.stack
    ? [values.stack]
    : readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined);
  let failed = 0;
  for (const stack of stacks) {
    let outcome: { ok: boolean; report: string };
    try {
      outcome = checkStack(dir, stack, values["require-secrets"] ?? false);
    } catch (e) {
      outcome = { ok: false, report: `stack ${stack}: cannot read Pulumi.${stack}.yaml: ${(e as Error).message}` };
    }
    console.log(outcome.report + "\n");
    if (!outcome.ok) failed++;
  }
  return failed > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main();

/**
 * The Pulumi engine, driven through the Automation API with this program
 * inline (the nodejs language host cannot be had offline; inline programs
 * need none). One code path for every tool that deploys: the demo, switch,
 * and the engine tests' operations.
 */
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { join } from "node:path";
import { REPO } from "./stacks";

/** A stack of this project in `workDir`, running index.ts inline; `envVars` reach the CLI by environment, never argv. */
export function programStack(name: string, workDir: string, envVars?: Record<string, string>): Promise<Stack> {
  const program = async () => ((await import(join(REPO, "index.ts"))).default as () => Promise<Record<string, unknown>>)();
  // PULUMI_RUN_PROGRAM: `refresh: always` refreshes each resource as the
  // program declares it, not all of them before the program runs. The
  // program probes the host first, so a host it cannot reach fails in the
  // probe's one line instead of one provider error per resource.
  return LocalWorkspace.createOrSelectStack({ stackName: name, projectName: "myia-vllm", program }, { workDir, envVars: { PULUMI_RUN_PROGRAM: "true", ...envVars } });
}

/** The environment a local file backend and a passphrase need, with the engine kept offline. */
export function localBackendEnv(backendDir: string, passphrase: string): Record<string, string> {
  return {
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
}

/** What an operator needs to see of a failed engine run: its errors and the container's log lines. */
export function engineFailure(text: string, n = 24): string {
  const seen = new Set<string>();
  const lines = text.split("\n").filter((l) => /error:|did not become healthy|^\s+\| /.test(l) && !/^\s+at /.test(l) && !seen.has(l.trim()) && seen.add(l.trim()));
  return (lines.length ? lines : text.trim().split("\n").slice(-n)).slice(0, n).join("\n");
}

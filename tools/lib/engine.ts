/**
 * The Pulumi engine, driven through the Automation API with this program
 * inline (the nodejs language host cannot be had offline; inline programs
 * need none). One code path for every tool that deploys: the demo, switch,
 * and the engine tests' operations.
 */
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { join } from "node:path";
import { missingPlugins, useToolchain } from "./plugins";
import { REPO } from "./stacks";

/** A stack of this project in `workDir`, running index.ts inline; `envVars` reach the CLI by environment, never argv. */
export function programStack(name: string, workDir: string, envVars?: Record<string, string>): Promise<Stack> {
  // The CLI and plugins our toolchain built, found without `source scripts/toolchain.sh`;
  // where there are none, one line with what to run, not `spawn pulumi ENOENT` and a stack trace.
  useToolchain();
  const missing = missingPlugins();
  if (missing) return Promise.reject(new Error(missing));
  // The stack files beside Pulumi.yaml in workDir, not this process's folder, are the siblings preview reads.
  const program = async () => ((await import(join(REPO, "index.ts"))).default as (o: { projectDir?: string }) => Promise<Record<string, unknown>>)({ projectDir: workDir });
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

/**
 * What an operator needs to see of a failed engine run: each error whole
 * (the line with `error:` and the lines indented under it: a host check's
 * reason, a config error's `path: what to do`), the container's log lines,
 * a cluster's pods not Ready and why,
 * and nothing twice. The engine prints a program's error both on its
 * progress line and, whole, under "Diagnostics:": the latter is kept.
 */
export function engineFailure(text: string, n = 24): string {
  const all = text.split("\n");
  // The last run's (an output may hold several attempts).
  const diag = all.reduce((at, l, i) => (/^Diagnostics:\s*$/.test(l) ? i : at), -1);
  const lines = diag >= 0 ? all.slice(diag + 1) : all;
  const indent = (l: string) => l.length - l.trimStart().length;
  const kept: string[] = [];
  const seen = new Set<string>();
  const keep = (l: string) => {
    // The same error on a progress line and under Diagnostics is one error.
    const key = (l.includes("error:") ? l.slice(l.indexOf("error:")) : l).trim();
    if (key && !seen.has(key) && !/^\s+at /.test(l) && !/^\s*pulumi:pulumi:Stack \S+\s+\d+ (error|warning|message)/.test(l)) {
      seen.add(key);
      kept.push(l);
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    // An error, or a cluster's ready gate saying why (its pods, indented under it).
    if (/error:|not Ready within .*its pods:$/.test(l)) {
      keep(l);
      // The error's own lines: those indented under it.
      const base = indent(l);
      while (i + 1 < lines.length && lines[i + 1].trim() !== "" && indent(lines[i + 1]) > base && !/error:/.test(lines[i + 1])) keep(lines[++i]);
    } else if (/did not become healthy|^\s+\| /.test(l)) keep(l);
  }
  return (kept.length ? kept : text.trim().split("\n").slice(-n)).slice(0, n).join("\n");
}

/**
 * A throwaway Pulumi project for engine tests: copies of the stack files, a
 * local file backend, a passphrase, and a runner for one operation at a time
 * (test/helpers/engineOp.ts, each in a process of its own).
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePlugins, missingPlugins } from "../../tools/lib/plugins";
import type { EngineOp } from "./engineOp";

const REPO = join(__dirname, "..", "..");

/**
 * Why the engine suites that deploy cannot run here, or false when they can.
 * npm test resolves the plugins first (scripts/plugins.sh: official, else our
 * offline builds), so on a machine set up by it this is false; each suite
 * then prints which plugins it runs with.
 */
export const needsPlugins: string | false = missingPlugins();
if (!needsPlugins) for (const line of describePlugins()) console.log(line);

export type OpReport = { ok: boolean; output: string; [k: string]: unknown };

/**
 * extraEnv: added to every operation's environment, and may be changed
 * between operations (the ssh suite points ssh at another client config).
 */
export function engineProject(extraEnv: Record<string, string> = {}) {
  const root = mkdtempSync(join(tmpdir(), "myia-engine-"));
  const workDir = join(root, "project");
  const backend = join(root, "state");
  const cache = join(root, "cache");
  const passphrase = randomBytes(16).toString("hex");
  const captured: string[] = [];
  mkdirSync(workDir, { recursive: true });
  mkdirSync(backend);
  for (const f of ["Pulumi.yaml", "Pulumi.medium.yaml", "Pulumi.medium-vl.yaml"]) copyFileSync(join(REPO, f), join(workDir, f));
  /** The environment a pulumi command needs here; the host probe finds the fake nvidia-smi first. */
  const env = (scenario = "rtx4090x2-idle") => ({
    ...process.env,
    PATH: `${join(REPO, "standin/nvidia")}:${process.env.PATH}`,
    MYIA_NVIDIA_SMI_SCENARIO: scenario,
    PULUMI_BACKEND_URL: `file://${backend}`,
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    ...extraEnv,
  });

  /** One engine operation, in a process of its own; asynchronous, so an outage probe keeps running. */
  let opNo = 0;
  function op(stack: string, o: Omit<EngineOp, "workDir" | "backend" | "passphrase" | "stack" | "reportFile">, started?: (pid: number) => void): Promise<OpReport> {
    const reportFile = join(root, `report-${++opNo}.json`);
    const spec: EngineOp = { workDir, backend, passphrase, stack, reportFile, ...o };
    // Its own process group, so an interrupted run can be killed whole (the pulumi CLI included).
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "test/helpers/engineOp.ts"), JSON.stringify(spec)], { cwd: REPO, detached: true, env: env() });
    started?.(child.pid!);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d));
    child.stderr.on("data", (d: Buffer) => (stderr += d));
    return new Promise((resolve, reject) => {
      child.on("close", () => {
        const written = existsSync(reportFile);
        if (!written && started) return resolve({ ok: false, output: `killed\n${stdout}`, killed: true });
        if (!written) return reject(new Error(`no report from ${o.op} ${stack}:\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`));
        const report = JSON.parse(readFileSync(reportFile, "utf8")) as OpReport;
        captured.push(report.output);
        // Every operation's output stays beside the test's state, for a human to read.
        writeFileSync(join(root, `${String(captured.length).padStart(2, "0")}-${stack}-${o.op}.log`), report.output);
        resolve(report);
      });
    });
  }

  /** Secrets, caches under the test's folder, and a short stand-in load time, for both stacks. */
  async function configure(apiKey: string, hfToken: string, loadSeconds: number): Promise<void> {
    for (const s of ["medium", "medium-vl"]) {
      const r = await op(s, {
        op: "configure",
        config: {
          apiKey: { value: apiKey, secret: true },
          hfToken: { value: hfToken, secret: true },
          "host.hfCachePath": { value: join(cache, "hf") },
          "host.compileCachePath": { value: join(cache, "vllm") },
          "container.env.STANDIN_LOAD_SECONDS": { value: String(loadSeconds) },
          "container.env.STANDIN_DOWNLOAD_SECONDS": { value: "2" },
          "container.readyTimeoutSeconds": { value: "30" },
        },
      });
      if (!r.ok) throw new Error(r.output);
    }
  }

  /** One of our tools (tools/<name>.ts) on this project, as a user runs it: its exit code and everything it printed. */
  function tool(name: string, args: string[]): Promise<{ code: number; out: string }> {
    const child = spawn(process.execPath, ["--import", "tsx", join(REPO, "tools", `${name}.ts`), ...args, "--dir", workDir], { cwd: REPO, env: env() });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d));
    child.stderr.on("data", (d: Buffer) => (out += d));
    return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, out })));
  }

  return { root, workDir, backend, cache, passphrase, captured, env, extraEnv, op, configure, tool };
}

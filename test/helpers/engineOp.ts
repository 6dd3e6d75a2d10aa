/**
 * One Pulumi operation on one stack, through the Automation API with this
 * program inline, in a process of its own (a failed run leaves rejected
 * promises behind in the process that ran the program). Prints
 * its report as JSON in spec.reportFile. Used by test/engine/lifecycle.test.ts.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { localBackendEnv, programStack } from "../../tools/lib/engine";

export interface EngineOp {
  workDir: string;
  backend: string;
  passphrase: string;
  stack: string;
  op: "configure" | "preview" | "up" | "refresh" | "destroy" | "export" | "cancel";
  /** For configure: path-style keys (e.g. "host.hfCachePath") and values. */
  config?: Record<string, { value: string; secret?: boolean }>;
  /** For configure: keys to remove. */
  remove?: string[];
  /** For destroy and refresh: false as a user's `--run-program=false` (the state alone, not the program). */
  runProgram?: boolean;
  /** Where the report is written (JSON). */
  reportFile: string;
}

const spec = JSON.parse(process.argv[2]) as EngineOp;

/**
 * The report goes to a file the parent names, not to stdout: a failed up's
 * output runs to 100 KB and more, and a line that long on a pipe can be
 * split by another writer (the CLI's children share the stream).
 */
function writeReport(r: Record<string, unknown>): never {
  writeFileSync(spec.reportFile, JSON.stringify(r));
  console.log("REPORT-WRITTEN");
  process.exit(0);
}
process.on("unhandledRejection", () => undefined);
process.on("uncaughtException", () => undefined);

(async () => {
  const envVars = localBackendEnv(spec.backend, spec.passphrase);
  // No CLI or plugin: the tools' one line, reported like any failed operation.
  const stack = await programStack(spec.stack, spec.workDir, envVars).catch((e: Error) => {
    writeReport({ ok: false, output: e.message });
  });
  let output = "";
  const onOutput = (s: string) => (output += s);
  const report: Record<string, unknown> = { ok: true };
  try {
    switch (spec.op) {
      case "configure":
        for (const [k, v] of Object.entries(spec.config ?? {})) await stack.setConfig(k, v, true);
        for (const k of spec.remove ?? []) await stack.removeConfig(k, true);
        break;
      case "preview": {
        const r = await stack.preview({ onOutput });
        report.changeSummary = r.changeSummary;
        break;
      }
      case "up": {
        const r = await stack.up({ onOutput });
        report.outputs = Object.fromEntries(Object.entries(r.outputs).map(([k, o]) => [k, o.secret ? "[secret]" : o.value]));
        report.summary = r.summary.resourceChanges;
        break;
      }
      case "refresh": {
        const r = await stack.refresh({ onOutput, runProgram: spec.runProgram });
        report.summary = r.summary.resourceChanges;
        break;
      }
      case "destroy":
        await stack.destroy({ onOutput, runProgram: spec.runProgram });
        break;
      case "cancel":
        // `pulumi cancel`: what the engine names when an interrupted update left its lock.
        await stack.cancel();
        break;
      case "export":
        // What `pulumi stack export` gives a user. (Stack.exportStack adds --show-secrets.)
        report.state = execFileSync("pulumi", ["stack", "export", "--stack", spec.stack, "--cwd", spec.workDir], { encoding: "utf8", env: { ...process.env, ...envVars } });
        break;
    }
  } catch (e) {
    report.ok = false;
    output += `\n${(e as Error).message}`;
  }
  report.output = output;
  writeReport(report);
})();

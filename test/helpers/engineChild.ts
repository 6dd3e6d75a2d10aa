/**
 * Child process for test/engine/preview.test.ts: previews one stack with the
 * real engine (Automation API, inline program) and prints a JSON report. A
 * child, because a failed inline preview leaves rejected promises behind in
 * the process that ran the program.
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..");
const [stackName, badFile, apiKey, hfToken] = process.argv.slice(2);

process.on("unhandledRejection", () => undefined);
process.on("uncaughtException", () => undefined);

(async () => {
  const root = mkdtempSync(join(tmpdir(), "myia-engine-"));
  const workDir = join(root, "project");
  mkdirSync(join(root, "state"));
  mkdirSync(workDir);
  for (const f of ["Pulumi.yaml", "Pulumi.medium.yaml", "Pulumi.medium-vl.yaml"]) copyFileSync(join(REPO, f), join(workDir, f));
  if (badFile) {
    // A bad file's placeholder ciphertexts mean nothing to this engine: drop them; real secrets are set below.
    writeFileSync(join(workDir, `Pulumi.${stackName}.yaml`), readFileSync(join(REPO, badFile), "utf8").replace(/^ {2}myia-vllm:(apiKey|hfToken):\n {4}secure: .*\n/gm, ""));
  }
  const program = async () => ((await import(join(REPO, "index.ts"))).default as () => Promise<Record<string, unknown>>)();
  const envVars = {
    PULUMI_BACKEND_URL: `file://${join(root, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  const stack = await LocalWorkspace.createOrSelectStack({ stackName, projectName: "myia-vllm", program }, { workDir, envVars });
  await stack.setConfig("apiKey", { value: apiKey, secret: true });
  await stack.setConfig("hfToken", { value: hfToken, secret: true });
  let output = "";
  let ok = true;
  try {
    await stack.preview({ onOutput: (s) => (output += s) });
  } catch (e) {
    ok = false;
    output += `\n${(e as Error).message}`;
  }
  // What `pulumi stack export` gives a user. (Stack.exportStack adds --show-secrets.)
  const report = { ok, output, stackFile: readFileSync(join(workDir, `Pulumi.${stackName}.yaml`), "utf8"), state: execFileSync("pulumi", ["stack", "export", "--stack", stackName, "--cwd", workDir], { encoding: "utf8", env: { ...process.env, ...envVars } }) };
  console.log(`REPORT ${JSON.stringify(report)}`);
  process.exit(0);
})();

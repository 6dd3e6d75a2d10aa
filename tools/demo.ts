/**
 * npm run demo [-- --down]
 *
 * The main job on a machine without a GPU, through the Pulumi engine: on a
 * local stand-in GPU host, `pulumi up` medium, then medium-vl (the
 * migration), then medium again (the rollback); then the same with standby
 * on (the other model asleep: a switch is a wake), each run by the Automation
 * API with this program inline, each shown with the engine's own output and
 * validated, with the time no model answered. A second run changes only what
 * differs. `--down` destroys both stacks (images and caches are kept).
 *
 * What is real: the Pulumi engine and the program, dockerd, the host probe
 * and its checks, the docker plugin (official, or our offline build of it),
 * HTTP. What is not: vLLM (a stand-in image), the GPUs (a no-op hook and a
 * fake nvidia-smi), and, offline, the command plugin (a stand-in).
 */
import { clientFromOutputs } from "./lib/client";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseCli } from "./lib/cli";
import { localBackendEnv, programStack } from "./lib/engine";
import { answers, watchOutage } from "./lib/outage";
import { describePlugins, missingPlugins } from "./lib/plugins";
import { loadStack, REPO, standbyOn } from "./lib/stacks";
import { formatReport, hostAccess, validate } from "./validate";

const USAGE = `usage: npm run demo [-- --down]

Runs the program through the Pulumi engine on a local stand-in GPU host:
up medium, up medium-vl (migration), up medium (rollback), validating each; then
the same with host.standby on (the model not serving sleeps; a switch wakes it).
  --down    destroy both demo stacks (keeps images and caches)
  --help    this text
Environment: STANDIN_LOAD_SECONDS (5), STANDIN_DOWNLOAD_SECONDS (4), STANDIN_WAKE_SECONDS (1), MYIA_CACHE,
MYIA_DEMO_STATE (the demo's state, secrets and caches; default $MYIA_CACHE/demo).`;

const STATE = process.env.MYIA_DEMO_STATE ?? join(process.env.MYIA_CACHE ?? join(homedir(), ".cache", "myia-vllm"), "demo");
const PROJECT = join(STATE, "project");
const STACKS = ["medium", "medium-vl"];
// The stand-in's simulated load and first-download times (seconds).
const LOAD_SECONDS = process.env.STANDIN_LOAD_SECONDS ?? "5";
const DOWNLOAD_SECONDS = process.env.STANDIN_DOWNLOAD_SECONDS ?? "4";
// Its wake from sleep mode (vLLM's blog: 2.9 s against a 47 s load for a 30B model).
const WAKE_SECONDS = process.env.STANDIN_WAKE_SECONDS ?? "1";

const t0 = Date.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const step = (msg: string) => console.log(`[${secs(Date.now() - t0).padStart(6)}] ${msg}`);

/** Made once and kept (mode 0600) beside the demo's state: the same secrets and passphrase on every run. */
function kept(name: string, make: () => string): string {
  const file = join(STATE, name);
  if (!existsSync(file)) writeFileSync(file, make(), { mode: 0o600 });
  return readFileSync(file, "utf8");
}

/**
 * The demo's project: the committed Pulumi.yaml and stack files, copied
 * afresh so the demo runs what is committed, each keeping the encryption
 * salt its secrets were set with.
 */
function project(): void {
  mkdirSync(PROJECT, { recursive: true });
  copyFileSync(join(REPO, "Pulumi.yaml"), join(PROJECT, "Pulumi.yaml"));
  for (const s of STACKS) {
    const file = join(PROJECT, `Pulumi.${s}.yaml`);
    const salt = existsSync(file) ? /^encryptionsalt: .*$/m.exec(readFileSync(file, "utf8"))?.[0] : undefined;
    writeFileSync(file, `${salt ? `${salt}\n` : ""}${readFileSync(join(REPO, `Pulumi.${s}.yaml`), "utf8")}`);
  }
}

async function stack(name: string) {
  const passphrase = kept("passphrase", () => randomBytes(24).toString("hex"));
  const s = await programStack(name, PROJECT, localBackendEnv(join(STATE, "state"), passphrase));
  // This is not the GPU host: its caches live under the demo's folder.
  await s.setAllConfig(
    {
      apiKey: { value: kept("api-key", () => `sk-demo-${randomBytes(12).toString("hex")}`), secret: true },
      hfToken: { value: kept("hf-token", () => `hf_demo${randomBytes(12).toString("hex")}`), secret: true },
      "host.hfCachePath": { value: join(STATE, "hf-cache") },
      "host.compileCachePath": { value: join(STATE, "vllm-cache") },
      "container.env.STANDIN_LOAD_SECONDS": { value: LOAD_SECONDS },
      "container.env.STANDIN_DOWNLOAD_SECONDS": { value: DOWNLOAD_SECONDS },
    },
    true,
  );
  return s;
}

/** The engine's own output, indented, blank lines dropped. */
const engineOut = (text: string) => {
  for (const line of text.split("\n")) if (line.trim()) process.stdout.write(`    | ${line}\n`);
};

async function up(name: string): Promise<void> {
  const p = loadStack(name, PROJECT);
  step(`== pulumi up --stack ${name}: ${p.model.id} on vLLM ${p.vllmVersion}, port ${p.server.port}`);
  const s = await stack(name);
  const outage = watchOutage(STACKS.map((x) => loadStack(x, PROJECT).server.port));
  const tUp = Date.now();
  let buffered = "";
  try {
    const r = await s.up({ onOutput: (o) => (buffered += o) });
    engineOut(buffered);
    const downMs = await outage.stop();
    const changes = Object.entries(r.summary.resourceChanges ?? {}).map(([k, v]) => `${k} ${v}`).join(", ");
    step(`${name}: up in ${secs(Date.now() - tUp)} (${changes}); no model answered for ${secs(downMs)} (probed every 100 ms; stand-in load time ${LOAD_SECONDS}s)`);
    const { baseUrl, apiKey = "" } = clientFromOutputs(r.outputs);
    const report = await validate({ stack: name, profile: p, baseUrl, apiKey, containerName: p.server.containerName }, hostAccess(p), {
      requests: 20,
      concurrency: 4,
      log: () => undefined,
    });
    console.log(formatReport(report).replace(/^/gm, "           "));
    if (!report.ok) throw new Error(`validation of ${name} failed`);
  } catch (e) {
    await outage.stop();
    if (buffered) engineOut(buffered);
    throw e;
  }
}

async function down(): Promise<void> {
  for (const name of [...STACKS].reverse()) {
    const s = await stack(name);
    await s.destroy({ onOutput: () => undefined });
    step(`destroyed stack ${name}`);
  }
  step(`kept the caches in ${STATE} and the images`);
}

async function finalState(): Promise<void> {
  console.log("\nfinal state:");
  for (const name of STACKS) {
    const p = loadStack(name, PROJECT);
    const outputs = await (await stack(name)).outputs();
    const where = outputs.endpoint ? String(outputs.endpoint.value) : "not deployed";
    console.log(`  ${name.padEnd(10)} ${p.server.containerName.padEnd(28)} ${where.padEnd(28)} ${(await answers(p.server.port)) ? "answers" : "does not answer"}`);
  }
  // How a client reaches the HTTPS endpoint: trust the host's CA, send its key.
  const outputs = await (await stack("medium")).outputs();
  if (outputs.caCertificate?.value) {
    const ca = join(STATE, "myia-ca.pem");
    writeFileSync(ca, String(outputs.caCertificate.value));
    console.log(`\nclients trust the gateways' CA (written to ${ca} from the stack's caCertificate output; \`npm run ca\` prints it):`);
    console.log(`  curl --cacert ${ca} -H "Authorization: Bearer $(pulumi stack output clientKeys --show-secrets --stack medium | jq -r .default)" https://localhost:${loadStack("medium", PROJECT).server.port}/v1/models`);
    console.log(`  NODE_EXTRA_CA_CERTS=${ca} node app.js    # the OpenAI SDK for Node; Python's httpx: SSL_CERT_FILE=${ca}`);
  }
}

async function main(argv: string[]): Promise<number> {
  const values = parseCli(argv, { down: { type: "boolean" } }, USAGE);
  if (typeof values === "number") return values;
  console.log("myia-vllm demo: a STAND-IN GPU host. The model server is a stand-in for vLLM (no GPU, no weights);");
  console.log("every change goes through the Pulumi engine running this program (Automation API, inline).");
  const missing = missingPlugins();
  if (missing) throw new Error(missing);
  for (const line of describePlugins()) console.log(`  ${line}`);
  console.log();
  mkdirSync(join(STATE, "state"), { recursive: true });
  project();
  if (values.down) {
    await down();
    return 0;
  }
  await up("medium");
  await up("medium-vl");
  await up("medium");
  console.log();
  step(`== standby: the model not serving sleeps in vLLM's sleep mode (host.standby.enabled), so a switch is a wake (stand-in: ${WAKE_SECONDS}s), not a load (${LOAD_SECONDS}s)`);
  standbyOn(PROJECT, STACKS, WAKE_SECONDS);
  await up("medium");
  await up("medium-vl");
  await up("medium");
  await up("medium-vl");
  await finalState();
  step("done");
  return 0;
}

// A failed inline run leaves the program's pending registrations behind; the outcome is reported below.
process.on("unhandledRejection", () => undefined);
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`demo failed: ${e.message}`);
    process.exit(1);
  },
);

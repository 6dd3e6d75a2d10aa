/**
 * npm run switch -- --to <stack> [--requests 20] [--dir <project>]
 *
 * A health-gated switch with automatic rollback, through the Pulumi engine
 * (Automation API, this program inline):
 *   1. preview the target, and stop on validation errors (nothing changes);
 *   2-3. up the target: its image and weights are put in place first, then
 *      the GPUs are taken over and its container starts, gated on health;
 *   4. validate it (tools/validate).
 * If the up or the validation fails, it ups the stack that was serving
 * before (which brings its container back) and validates that one.
 * On a cluster stack the same steps run: the takeover scales the serving
 * stack's Deployment to 0, the rollback's up scales it back, and validate
 * and the outage watch reach the Services through `kubectl port-forward`. It prints
 * each step's time and the downtime: the time no model answered. Two
 * switches at once are refused by a lock, not raced.
 *
 * The engine needs PULUMI_BACKEND_URL (or a login) and PULUMI_CONFIG_PASSPHRASE
 * as for any pulumi command, and the docker and command plugins.
 */
import { clientFromOutputs } from "./lib/client";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ValidatedProfile } from "../components/config/schema";
import { parseCli } from "./lib/cli";
import { engineFailure, programStack } from "./lib/engine";
import { takeLock } from "./lib/lock";
import { Watched, watchOutage } from "./lib/outage";
import { serviceProbe, servingClusterStacks } from "./lib/cluster";
import { clusterNamespace } from "../components/config/cluster";
import { describePlugins } from "./lib/plugins";
import { loadStack, REPO, servingStacks, stackNames } from "./lib/stacks";
import { accessFor, formatReport, hostAccess, openClusterForward, servingName, validate } from "./validate";
import { parseProbe } from "../components/host/probe";

const started = Date.now();
const log = (line: string) => console.log(`[switch ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}`);

const stackFor = (name: string, dir: string) => programStack(name, dir);

async function upAndValidate(name: string, dir: string, profile: ValidatedProfile, requests: number): Promise<{ ok: boolean; step: string; detail: string }> {
  const stack = await stackFor(name, dir);
  let t = Date.now();
  log(`up ${name}: image, weights, GPU takeover, container, health gate ...`);
  try {
    const up = await stack.up();
    log(`up ${name}: ok in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const { baseUrl: endpoint, apiKey = "" } = clientFromOutputs(up.outputs);
    t = Date.now();
    // On a cluster the endpoint is a name inside it: validate goes through a port-forward to the Service.
    const forward = profile.cluster ? await openClusterForward(name, profile).catch((e: Error) => e) : undefined;
    if (forward instanceof Error) return { ok: false, step: "validate", detail: forward.message };
    if (forward) log(`  ${name}: through ${forward.via} at ${forward.url}`);
    const report = await validate({ stack: name, profile, baseUrl: forward?.url ?? endpoint, apiKey, containerName: servingName(profile, name) }, accessFor(profile, name), {
      requests,
      concurrency: 4,
      log: (l) => log(`  ${l}`),
    }).finally(() => forward?.close());
    console.log(formatReport(report).replace(/^/gm, "    "));
    return report.ok ? { ok: true, step: "validate", detail: "" } : { ok: false, step: "validate", detail: report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join("; ") };
  } catch (e) {
    log(`up ${name}: FAILED after ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return { ok: false, step: "up", detail: engineFailure((e as Error).message) };
  }
}

/**
 * The stack serving before the switch, which a failed switch rolls back to.
 * Without standby, the one whose container runs. With standby every stack
 * of the group runs, the others asleep: the one awake serves.
 */
function servingBefore(target: string, profile: ValidatedProfile): string | undefined {
  // On a cluster: the stack whose Deployment wants pods and has one Ready (a takeover scales the others to 0).
  if (profile.cluster) return servingClusterStacks(profile.cluster, target)[0];
  if (!profile.standby) return servingStacks(profile.host.docker).filter((s) => s !== target)[0];
  // The probe lists our containers too: one round trip for which run and which sleep.
  const probe = parseProbe(hostAccess(profile).probe());
  const running = [...new Set(probe.containers.filter((c) => c.status === "running" && c.stack && c.stack !== target).map((c) => c.stack))];
  const asleep = running.filter((s) => probe.containers.some((c) => c.stack === s && probe.sleep?.[c.name] === "asleep"));
  if (asleep.length > 0) log(`standby: ${asleep.join(", ")} asleep (a rollback wakes the one that served)`);
  return running.find((s) => !asleep.includes(s));
}

/**
 * What the outage watch probes: the stacks' ports on a Docker host; on a
 * cluster, each stack's Service through a port-forward opened again when its
 * pod goes (tools/lib/cluster.ts).
 */
function watchedEndpoints(target: string, profile: ValidatedProfile, from: string | undefined, dir: string): { targets: Watched[]; close(): void } {
  const stacks = [target, ...(from ? [from] : [])];
  if (!profile.cluster) return { targets: [...new Set(stacks.map((s) => loadStack(s, dir).server.port))], close: () => undefined };
  const probes = stacks.map((s) => {
    const p = loadStack(s, dir);
    return serviceProbe(p.cluster ?? profile.cluster!, clusterNamespace(p.cluster ?? profile.cluster!, s), p.server.port);
  });
  return { targets: probes.map((p) => () => p.answers()), close: () => probes.forEach((p) => p.close()) };
}

const USAGE = `usage: npm run switch -- --to <stack> [--requests 20] [--dir <project>]

A health-gated switch through the Pulumi engine: preview the target (stop on any error), up it
(image and weights first, then the GPU takeover, the container, the health gate), validate it.
If the up or the validation fails, up the stack that served before and validate that. Prints each
step's time and the time no model answered. A second switch while one runs is refused.
  --to <stack>          the stack to switch to (required)
  --requests <n>        requests in the validation's load check (default 20)
  --dir <project>       the project folder with the stack files (default: the repo)
On a cluster stack (cluster: in its config): the stack serving before is the one whose Deployment
has a Ready pod; validate and the outage watch go through \`kubectl port-forward svc/vllm\`.
Needs what any pulumi command needs: PULUMI_BACKEND_URL or a login, PULUMI_CONFIG_PASSPHRASE.
Exit: 0 switched, 1 failed (rolled back where something served before), 2 usage or lock.`;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const values = parseCli(argv, { to: { type: "string" }, requests: { type: "string", default: "20" }, dir: { type: "string", default: REPO } }, USAGE);
  if (typeof values === "number") return values;
  const dir = resolve(values.dir);
  const target = values.to;
  if (!target || !stackNames(dir).includes(target)) {
    console.error(`${target ? `no stack ${target} in ${dir}` : "--to is required"}\nusage: npm run switch -- --to <${stackNames(dir).join("|")}>`);
    return 2;
  }
  for (const line of describePlugins()) log(line);
  // Sibling stack files (duplicate ports) are read from the project folder.
  process.chdir(dir);
  const release = takeLock(join(tmpdir(), "myia-vllm-switch.lock"), "switch");
  try {
    const profile = loadStack(target, dir);
    const from = servingBefore(target, profile);
    log(`switch ${from ?? "(nothing serving)"} -> ${target}`);

    log(`preview ${target} ...`);
    try {
      const preview = await (await stackFor(target, dir)).preview();
      log(`preview ${target}: ok (${JSON.stringify(preview.changeSummary)})`);
    } catch (e) {
      log(`preview ${target}: FAILED; nothing was changed\n${engineFailure((e as Error).message)}`);
      return 1;
    }

    const watched = watchedEndpoints(target, profile, from, dir);
    const outage = watchOutage(watched.targets);
    const result = await upAndValidate(target, dir, profile, Number(values.requests));
    const stopWatch = async () => {
      const ms = await outage.stop();
      watched.close();
      return ms;
    };
    if (result.ok) {
      log(`switched to ${target}; no model answered for ${((await stopWatch()) / 1000).toFixed(1)} s`);
      return 0;
    }
    log(`${target} failed at ${result.step}:\n${result.detail.replace(/^/gm, "    ")}`);
    if (!from) {
      await stopWatch();
      log("nothing was serving before: no rollback");
      return 1;
    }
    log(`rolling back to ${from}`);
    const back = await upAndValidate(from, dir, loadStack(from, dir), Number(values.requests));
    const down = (await stopWatch()) / 1000;
    log(back.ok ? `rolled back: ${from} answers again; no model answered for ${down.toFixed(1)} s` : `ROLLBACK FAILED at ${back.step}: ${back.detail}`);
    return 1;
  } finally {
    release();
  }
}

if (require.main === module) {
  // A failed inline run leaves the program's pending registrations behind; the outcome is reported above.
  process.on("unhandledRejection", () => undefined);
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`switch: ${e.message}`);
      process.exit(2);
    },
  );
}

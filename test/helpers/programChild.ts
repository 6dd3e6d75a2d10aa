/** Child process for test/program.test.ts: runs one stack under mocks, prints JSON. */
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MockRun, REPO, runProgram } from "./mockProgram";
import { probeText } from "./probeText";

const [stack, scenario] = process.argv.slice(2);
const gpus = readFileSync(join(REPO, "test/fixtures/nvidia-smi/scenarios/rtx4090x2-idle/query-gpu.csv"), "utf8");
const probes: Record<string, string> = {
  idle: probeText({ gpus }),
  "one-gpu": probeText({ gpus: gpus.split("\n")[0] }),
  busy: probeText({ gpus, apps: `4711, ${gpus.split("\n")[1].split(",")[1].trim()}, 6000` }),
  "held-by-vl": probeText({ gpus, containers: "container|/myia_vllm-medium-vl-qwen3|running|medium-vl|local:gpus=0,1|2026-12-01T21:00:00.5Z\npid 9001\n" }),
  foreign: probeText({ gpus, containers: "foreign|/comfyui||1|1\n" }),
  // A container under our name, made by hand: other labels, other env.
  drifted: probeText({ gpus, own: "own|c0ffee|running|0000000000000000|medium\nimageenv|PATH=/usr/bin\nenvhash|deadbeef\n" }),
};

// The mock monitor hands inputs over as the engine would: secrets wrapped.
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
function unwrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o["4dabf18193072939515e22adb298388d"] === SECRET_SIG) return unwrap(o.value);
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}

let error: string | undefined;
let done = false;
let result: MockRun | undefined;

async function finish(): Promise<void> {
  if (done) return;
  done = true;
  const resources = (result?.resources ?? []).map((r) => ({ type: r.type, name: r.name, inputs: unwrap(r.inputs), hasParent: r.parent !== undefined, created: Object.keys(r.inputs).length > 0, opts: { deleteBeforeReplace: r.opts.deleteBeforeReplace, replaceOnChanges: r.opts.replaceOnChanges, dependsOn: ([] as pulumi.Resource[]).concat((r.opts.dependsOn as pulumi.Resource[] | undefined) ?? []).map((d) => (d as unknown as { __name?: string }).__name) } }));
  const containers = result?.resources.filter((r) => r.type === "docker:index/container:Container") ?? [];
  const container = containers.find((r) => r.name.endsWith("-container") && !r.name.endsWith("-gateway-container"));
  const envs = container?.props.envs as pulumi.Output<unknown> | undefined;
  const gatewayEnvs = containers.find((r) => r.name.endsWith("-gateway-container"))?.props.envs as pulumi.Output<unknown> | undefined;
  const weights = result?.resources.find((r) => r.type === "command:local:Command" && r.name.endsWith("-weights"));
  // The prefetch's token: a secret leaf of its environment.
  const weightsToken = (weights?.props.environment as Record<string, unknown> | undefined)?.HF_TOKEN as pulumi.Output<unknown> | undefined;
  const clients = result?.resources.find((r) => r.type === "command:local:Command" && r.name.endsWith("-gateway-clients"));
  const clientsConfig = (clients?.props.environment as Record<string, unknown> | undefined)?.MYIA_GATEWAY_CONFIG as pulumi.Output<unknown> | undefined;
  const secretProps = {
    clientsConfig: clientsConfig ? await pulumi.isSecret(clientsConfig) : false,
    envs: envs ? await pulumi.isSecret(envs) : false,
    weightsToken: weightsToken ? await pulumi.isSecret(weightsToken) : false,
    gatewayEnvs: gatewayEnvs ? await pulumi.isSecret(gatewayEnvs) : false,
  };
  const invokes = (result?.invokes ?? []).map((i) => ({ token: i.token, command: i.args.command }));
  console.log(JSON.stringify({ resources, invokes, outputs: result?.outputs ?? {}, secretOutputs: result?.secretOutputs ?? [], secretProps, error }));
  process.exit(0);
}

// A failed check throws inside an apply: the program's promise never settles,
// as under the engine, where the error ends the run. Record it and report.
process.on("unhandledRejection", (e) => {
  error = pulumi.RunError.isInstance(e as Error) ? (e as Error).message : String((e as Error)?.stack ?? e);
  setTimeout(finish, 200);
});
setTimeout(() => {
  error ??= "the program did not finish within 20 s";
  void finish();
}, 20000);

// "ssh": the idle host, reached as ssh://gpu@gpu-box:2222.
const configOverride: Record<string, string> = scenario === "ssh" ? { "myia-vllm:host": JSON.stringify({ docker: "ssh://gpu@gpu-box:2222" }) } : {};
runProgram(stack, { probe: probes[scenario] ?? probes.idle, configOverride })
  .then((r) => {
    result = r;
    return new Promise((resolve) => setTimeout(resolve, 200));
  })
  .catch((e: Error) => {
    error = e.message;
  })
  .finally(finish);

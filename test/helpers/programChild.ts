/** Child process for test/program.test.ts: runs one stack under mocks, prints JSON. */
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { probeText } from "./probeText";
import { REPO, runProgram } from "./mockProgram";

const [stack, scenario] = process.argv.slice(2);
const gpus = readFileSync(join(REPO, "test/fixtures/nvidia-smi/scenarios/rtx4090x2-idle/query-gpu.csv"), "utf8");
const probes: Record<string, string> = {
  idle: probeText({ gpus }),
  "one-gpu": probeText({ gpus: gpus.split("\n")[0] }),
  busy: probeText({ gpus, apps: `4711, ${gpus.split("\n")[1].split(",")[1].trim()}, 6000` }),
};

let error: string | undefined;
process.on("unhandledRejection", (e) => {
  error = pulumi.RunError.isInstance(e as Error) ? (e as Error).message : String((e as Error)?.stack ?? e);
});

(async () => {
  const result = await runProgram(stack, { probe: probes[scenario] }).catch((e) => {
    error = (e as Error).message;
    return undefined;
  });
  await new Promise((r) => setTimeout(r, 200));
  const resources = (result?.resources ?? []).map((r) => ({ type: r.type, name: r.name, inputs: r.inputs, hasParent: r.parent !== undefined, created: Object.keys(r.inputs).length > 0, opts: { deleteBeforeReplace: r.opts.deleteBeforeReplace, replaceOnChanges: r.opts.replaceOnChanges } }));
  const container = result?.resources.find((r) => r.type === "docker:index/container:Container");
  const envs = container?.props.envs as pulumi.Output<unknown> | undefined;
  const secretProps = { envs: envs ? await pulumi.isSecret(envs) : false };
  console.log(JSON.stringify({ resources, outputs: result?.outputs ?? {}, secretOutputs: result?.secretOutputs ?? [], secretProps, error }));
  process.exit(0);
})();

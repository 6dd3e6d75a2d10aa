/**
 * Runs index.ts under Pulumi's mocks with a committed stack file's config,
 * and records every resource: its inputs (as the engine would receive them)
 * and its resource options. Unit tests only: this shows the resource graph,
 * not what the engine or Docker would do with it.
 */
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { probeText } from "./probeText";

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  parent?: string;
  opts: pulumi.ResourceOptions & { deleteBeforeReplace?: boolean };
  /** Props as the program passed them, Outputs included, to check secretness. */
  props: Record<string, unknown>;
}

export interface MockRun {
  resources: Recorded[];
  invokes: { token: string; args: Record<string, unknown> }[];
  outputs: Record<string, unknown>;
  /** Which stack outputs are secret. */
  secretOutputs: string[];
  logs: string[];
}

export const REPO = join(__dirname, "..", "..");

/** Host probe answers for the mocked `command:local:run`. */
export function rtx4090Probe(extra: { apps?: string; containers?: string; runtimes?: string } = {}): string {
  const dir = join(REPO, "test/fixtures/nvidia-smi/scenarios/rtx4090x2-idle");
  return probeText({ gpus: readFileSync(join(dir, "query-gpu.csv"), "utf8"), ...extra });
}

/** The engine's view of a stack file: namespaced keys, objects as JSON text. */
export function engineConfig(stack: string, secrets: Record<string, string>): { config: Record<string, string>; secretKeys: string[] } {
  const doc = parse(readFileSync(join(REPO, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config)) {
    if (typeof v === "object" && v !== null && "secure" in v) continue;
    config[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  for (const [k, v] of Object.entries(secrets)) config[`myia-vllm:${k}`] = v;
  return { config, secretKeys: Object.keys(secrets).map((k) => `myia-vllm:${k}`) };
}

/** What the mocked CA command prints (a stand-in for the gateway's root certificate). */
export const MOCK_CA = "-----BEGIN CERTIFICATE-----\nmock\n-----END CERTIFICATE-----";

export async function runProgram(stack: string, opts: { secrets?: Record<string, string>; probe?: string; preview?: boolean; configOverride?: Record<string, string> } = {}): Promise<MockRun> {
  const run: MockRun = { resources: [], invokes: [], outputs: {}, secretOutputs: [], logs: [] };
  const secrets = opts.secrets ?? { apiKey: "sk-test-key-0123456789", hfToken: "hf_testtoken0123456789" };
  const { config, secretKeys } = engineConfig(stack, secrets);
  pulumi.runtime.setAllConfig({ ...config, ...opts.configOverride }, secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const rec = run.resources.find((r) => r.name === args.name && r.type === args.type);
        if (rec) rec.inputs = args.inputs;
        const computed =
          args.type === "docker:index/remoteImage:RemoteImage"
            ? { imageId: "sha256:feed", repoDigest: "vllm/vllm-openai@sha256:feed" }
            : args.type === "command:local:Command"
              ? { stdout: args.name.endsWith("-ca") ? MOCK_CA : "", stderr: "" }
              : {};
        return { id: `${args.name}-id`, state: { ...args.inputs, ...computed } };
      },
      call: (args) => {
        run.invokes.push({ token: args.token, args: args.inputs });
        if (args.token === "command:local:run") return { stdout: opts.probe ?? rtx4090Probe(), stderr: "" };
        return {};
      },
    },
    "myia-vllm",
    stack,
    opts.preview ?? true,
  );
  // runInPulumiStack creates the root stack, as the language host does, so a
  // stack transformation can record every resource's options.
  let program: Record<string, unknown> = {};
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((a) => {
      run.resources.push({ type: a.type, name: a.name, inputs: {}, parent: a.opts.parent ? "(set)" : undefined, opts: a.opts, props: a.props as Record<string, unknown> });
      return undefined;
    });
    const mod = await import(join(REPO, "index.ts"));
    program = await (mod.default as () => Promise<Record<string, unknown>>)();
    return program;
  });
  for (const [k, v] of Object.entries(program)) {
    if (pulumi.Output.isInstance(v)) {
      run.outputs[k] = await new Promise((resolve) => (v as pulumi.Output<unknown>).apply((x) => resolve(x)));
      if (await pulumi.isSecret(v as pulumi.Output<unknown>)) run.secretOutputs.push(k);
    } else {
      run.outputs[k] = v;
    }
  }
  // Let pending registrations settle so newResource has seen every resource.
  await new Promise((r) => setTimeout(r, 50));
  return run;
}

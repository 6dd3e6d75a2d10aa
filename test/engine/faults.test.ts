/**
 * Every fault we know, injected one at a time, through each tool that can
 * meet it: `pulumi preview` through the engine, `npm run switch` (its preview
 * step) and `npm run validate` (its host checks). Each must print the
 * fault's reason line (what is wrong and what to do), whole, and no stack
 * trace; nothing is deployed, so nothing may change.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { docker, remove, removeLeftovers } from "../helpers/docker";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { REPO } from "../helpers/profile";

const API_KEY = `sk-fault-${randomBytes(10).toString("hex")}`;
const FOREIGN = "myia-fault-foreign";
type Tool = "preview" | "switch" | "validate";

const project = engineProject();
const { op } = project;
const scratch = mkdtempSync(join(tmpdir(), "myia-faults-"));

/** The test process's PATH without our stand-in nvidia-smi, the cached CLI or the plugins' folders. */
const bare = (drop: RegExp) => (process.env.PATH ?? "").split(":").filter((d) => !drop.test(d)).join(":");

// A docker whose daemon has no nvidia runtime registered: only `docker info` answers otherwise.
const noRuntime = join(scratch, "no-nvidia-runtime");
mkdirSync(noRuntime);
writeFileSync(join(noRuntime, "docker"), `#!/bin/sh\nif [ "$1" = info ]; then echo '{"runc":{"path":"runc"}}'; exit 0; fi\nexec ${spawnSync("sh", ["-c", "command -v docker"], { encoding: "utf8" }).stdout.trim()} "$@"\n`);
chmodSync(join(noRuntime, "docker"), 0o755);

/** The idle 2x RTX 4090 scenario with 16 GB cards in their place (a scenario may be a folder). */
function smallerGpus(): string {
  const dir = join(scratch, "rtx4080x2");
  mkdirSync(dir, { recursive: true });
  const idle = readFileSync(join(REPO, "test/fixtures/nvidia-smi/scenarios/rtx4090x2-idle/query-gpu.csv"), "utf8");
  writeFileSync(join(dir, "query-gpu.csv"), idle.replace(/NVIDIA GeForce RTX 4090/g, "NVIDIA GeForce RTX 4080").replace(/\b24564\b/g, "16376").replace(/\b24162\b/g, "15974"));
  writeFileSync(join(dir, "compute-apps.csv"), "");
  return dir;
}

interface Fault {
  name: string;
  /** Environment of every tool's process (the engine's included). */
  env?: Record<string, string>;
  /** Stack config set for the fault, removed after. */
  config?: Record<string, string>;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  reason: RegExp;
  tools: Tool[];
}

const FAULTS: Fault[] = [
  { name: "nvidia-smi missing", env: { PATH: bare(/standin\/nvidia/) }, reason: /host: nvidia-smi is not on .+'s PATH on the host \(.*\); install the NVIDIA driver there/, tools: ["preview", "switch", "validate"] },
  { name: "nvidia-smi failing (no driver)", env: { MYIA_NVIDIA_SMI_SCENARIO: "no-driver" }, reason: /host: nvidia-smi failed on the host: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver/, tools: ["preview", "switch", "validate"] },
  { name: "a GPU index that is not there", env: { MYIA_NVIDIA_SMI_SCENARIO: "rtx4090x1" }, reason: /host\.gpus: GPU 1 is not on the host \(it has GPUs 0\); use indices that `nvidia-smi -L` lists/, tools: ["preview", "switch"] },
  { name: "a GPU of another size", env: { MYIA_NVIDIA_SMI_SCENARIO: smallerGpus() }, reason: /host\.gpuMemoryMiB: the plan assumes 24564 MiB per GPU but GPU 0 \(NVIDIA GeForce RTX 4080\) has 16376 MiB; set host\.gpuMemoryMiB to 16376/, tools: ["preview", "switch"] },
  { name: "memory used by others", env: { MYIA_NVIDIA_SMI_SCENARIO: "rtx4090x2-busy" }, reason: /host\.gpus: GPU \d has \d+ MiB free of 24564 MiB once processes not of this project are counted.*lower vllm\.gpuMemoryUtilization to at most/, tools: ["preview", "switch"] },
  { name: "the nvidia runtime not registered", env: { PATH: `${noRuntime}:${join(REPO, "standin/nvidia")}:${process.env.PATH}` }, reason: /host: Docker on the host has no "nvidia" runtime \(it has runc\); install nvidia-container-toolkit/, tools: ["preview", "switch"] },
  {
    name: "a foreign container on our GPUs",
    setup: async () => {
      // As `docker run --gpus device=1`, the way another tool on the box would take a GPU.
      const c = await docker.createContainer({
        name: FOREIGN,
        Image: "caddy:2.11.9",
        Cmd: ["caddy", "respond", "--listen", ":9999", "busy"],
        HostConfig: { DeviceRequests: [{ Driver: "nvidia", DeviceIDs: ["1"], Capabilities: [["gpu"]] }] },
      });
      await c.start();
    },
    teardown: () => remove(FOREIGN),
    reason: new RegExp(`host\\.gpus: container ${FOREIGN} is not of this project and holds GPU 1 \\(NVIDIA_VISIBLE_DEVICES=1\\); this program never stops it`),
    tools: ["preview", "switch"],
  },
  { name: "dockerd down", config: { "host.docker": "unix:///tmp/myia-faults-no-docker.sock" }, reason: /host: Docker is not running on the host \(.*\); start it there/, tools: ["preview", "switch", "validate"] },
  { name: "ssh: nothing listens", config: { "host.docker": "ssh://myia-gpu@127.0.0.1:1" }, reason: /ssh to myia-gpu@127\.0\.0\.1 port 1: .*[Cc]onnection refused/, tools: ["preview", "switch", "validate"] },
  { name: "the Pulumi CLI missing", env: { PATH: bare(/myia-vllm\/(bin|plugins)/), MYIA_CACHE: join(scratch, "empty-cache") }, reason: /the Pulumi CLI is not on PATH, nor built in \$MYIA_CACHE\/bin: run `bash scripts\/toolchain\.sh`/, tools: ["preview", "switch"] },
  { name: "a plugin missing", env: { PATH: bare(/myia-vllm\/plugins/), MYIA_CACHE: join(scratch, "empty-cache") }, reason: /no docker plugin resolved: run `bash scripts\/toolchain\.sh`/, tools: ["preview", "switch"] },
];

function runTool(tool: "switch" | "validate", env: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const args =
    tool === "switch"
      ? ["tools/switch.ts", "--to", "medium", "--dir", project.workDir]
      : ["tools/validate.ts", "--stack", "medium", "--dir", project.workDir, "--url", "http://127.0.0.1:59999", "--requests", "1"];
  const r = spawnSync(process.execPath, ["--import", "tsx", ...args], { cwd: REPO, encoding: "utf8", env: { ...env, MYIA_API_KEY: API_KEY } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("every fault, whole, in every tool that meets it", { skip: needsPlugins }, () => {
  before(async () => {
    await removeLeftovers(["myia_vllm-medium-qwen3", "myia_vllm-medium-vl-qwen3", FOREIGN], ["medium", "medium-vl"]);
    await project.configure(API_KEY, "hf_faults", 2);
  });
  after(() => removeLeftovers([FOREIGN], []));

  for (const f of FAULTS) {
    it(f.name, async () => {
      await f.setup?.();
      if (f.config) await op("medium", { op: "configure", config: Object.fromEntries(Object.entries(f.config).map(([k, v]) => [k, { value: v }])) });
      Object.assign(project.extraEnv, f.env ?? {});
      try {
        for (const tool of f.tools) {
          const { ok, out } = tool === "preview" ? await op("medium", { op: "preview" }).then((r) => ({ ok: r.ok, out: r.output })) : ((r) => ({ ok: r.status === 0, out: r.out }))(runTool(tool, project.env()));
          assert.equal(ok, false, `${tool} passed despite "${f.name}":\n${out}`);
          assert.match(out, f.reason, `${tool} did not print the reason of "${f.name}":\n${out}`);
          assert.doesNotMatch(out, /^\s+at .+:\d+:\d+\)?$/m, `${tool} printed a stack trace for "${f.name}":\n${out}`);
          assert.doesNotMatch(out, /ENOENT|Error pinging Docker server/, `${tool}: a raw error for "${f.name}":\n${out}`);
          if (tool === "switch") assert.match(out, /preview medium: FAILED; nothing was changed|switch: /);
        }
      } finally {
        for (const k of Object.keys(f.env ?? {})) delete project.extraEnv[k];
        if (f.config) await op("medium", { op: "configure", remove: Object.keys(f.config) });
        await f.teardown?.();
      }
      // Nothing was deployed by any of them.
      assert.equal((await docker.listContainers({ all: true, filters: { label: ["org.myia.stack=medium"] } })).length, 0);
    });
  }
});

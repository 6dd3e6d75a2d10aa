import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { readStackFile, splitConfig } from "../../components/config/stackFile";
import { validateProfile } from "../../components/config/schema";
import { supportedVersions } from "../../components/vllm/catalog";
import { importService, type ImportResult } from "./mapService";
import type { ComposeProject, ComposeService } from "./service";
import { renderStackFile } from "./stackYaml";

const FIXTURES = join(__dirname, "..", "..", "test", "configs", "compose");
/** What `docker compose config --format json` printed for the medium profile (with medium.env). */
const MEDIUM = JSON.parse(readFileSync(join(FIXTURES, "medium.config.json"), "utf8")) as ComposeProject;
const mediumService = () => structuredClone(MEDIUM.services!["vllm-medium-qwen3"]);

/** The medium service with its command changed: `edit` gets the token list. */
function withCommand(edit: (cmd: string[]) => string[], more: Partial<ComposeService> = {}): ComposeProject {
  const s = mediumService();
  s.command = edit(s.command!);
  return { name: "compose", services: { svc: { ...s, ...more } } };
}
const replaceFlag = (cmd: string[], flag: string, ...tokens: string[]) => {
  const i = cmd.indexOf(flag);
  const n = cmd[i + 1]?.startsWith("--") ? 1 : 2;
  cmd.splice(i, n, ...tokens);
  return cmd;
};

function ok(r: ImportResult) {
  assert.ok(r.ok, r.ok ? "" : r.errors.join("\n"));
  return r;
}
const change = (r: ImportResult, path: string, re?: RegExp) => r.changes.filter((c) => c.path === path && (!re || re.test(`${c.old} → ${c.new}: ${c.reason}`)));

describe("importing a compose service", () => {
  it("the issue's medium example becomes a stack that passes check, naming each change", () => {
    const r = ok(importService(MEDIUM, { stack: "medium", tag: "v0.11.0" }));
    assert.equal(r.service, "vllm-medium-qwen3");
    const c = r.config as any;
    assert.deepEqual(c.image, { tag: "v0.11.0" });
    assert.deepEqual(c.model, { id: "Qwen/Qwen3-32B-AWQ" });
    assert.deepEqual(c.server, { containerName: "myia_vllm-medium-qwen3", port: 5002 });
    assert.deepEqual(c.host, { gpus: [0, 1] });
    assert.equal(c.vllm.gpuMemoryUtilization, 0.95);
    assert.equal(c.vllm.maxModelLen, 32768);
    assert.equal(c.vllm.quantization, "awq_marlin");
    assert.equal(c.vllm.distributedExecutorBackend, "mp"); // from the = syntax
    assert.deepEqual(c.vllm.extraArgs, ["--swap-space", "16", "--disable-log-requests"]); // both still in 0.11.0
    assert.deepEqual(c.container.healthcheck, { intervalSeconds: 30, timeoutSeconds: 10, startPeriodSeconds: 300, retries: 5 });
    assert.equal(c.container.shmSizeMiB, 16384);
    assert.equal(c.container.ipcHost, true);
    for (const path of ["image.tag", "model.id", "apiKey", "hfToken", "host.gpus", "container.healthcheck"]) assert.ok(change(r, path).length > 0, `a change for ${path}`);
    for (const x of r.changes) for (const k of ["old", "new", "reason", "source", "from"] as const) assert.ok(x[k] !== "", `${x.path} has a ${k}`);
    // The secrets are found, with their variables, and never land in the config.
    assert.deepEqual(r.secrets.map((s) => [s.key, s.blank]), [["apiKey", false], ["hfToken", false]]);
    assert.doesNotMatch(JSON.stringify(r.config), /fixture-not-a-real/);
    assert.equal(validateProfile(r.config, { apiKey: "secret", hfToken: "secret" }).ok, true);
  });

  it("the stack file it writes reads back as the same config, a comment per change, no secret", () => {
    const r = ok(importService(MEDIUM, { stack: "medium", tag: "v0.11.0", secretVariables: { apiKey: "VLLM_API_KEY_MEDIUM" } }));
    const text = renderStackFile({ stack: "medium", service: r.service, files: ["docker-compose.yml", "medium.yml"], envFile: ".env", config: r.config, changes: r.changes, secrets: r.secrets });
    const back = splitConfig("medium", (parse(text) as { config: Record<string, unknown> }).config, () => true);
    assert.deepEqual(back.raw, r.config);
    assert.match(text, /# image: vllm\/vllm-openai:latest → v0\.11\.0: "latest" is not a pinned release/);
    assert.match(text, /\(set -a; \. \.env; printf %s "\$VLLM_API_KEY_MEDIUM"\) \| pulumi config set --secret apiKey --stack medium/);
    assert.doesNotMatch(text, /fixture-not-a-real|apiKey:|hfToken:/);
    assert.equal(typeof readStackFile, "function");
  });

  it("pins latest to the newest catalogued release without --tag, and says so", () => {
    const newest = supportedVersions().at(-1)!;
    const r = ok(importService(MEDIUM, { stack: "medium" }));
    const c = change(r, "image.tag")[0];
    assert.equal(c.new, `v${newest}`);
    assert.match(c.reason, new RegExp(`^"latest" is not a pinned release.*pinned to v${newest.replace(/\./g, "\\.")}, the newest release the flag catalog holds \\(rerun with --tag for another: v0\\.11\\.0, `));
    assert.equal((r.config as any).image.tag, `v${newest}`);
  });

  it("refuses a release outside the catalog, naming the command that adds it", () => {
    const r = importService(MEDIUM, { stack: "medium", tag: "v0.12.0" });
    assert.equal(r.ok, false);
    assert.match((r as { errors: string[] }).errors[0], /^image\.tag: v0\.12\.0 is not a vLLM release the flag catalog knows \(v0\.11\.0, .*\); rerun with --tag set to one of those, or add it with `npm run catalog -- --vllm 0\.12\.0`$/);
  });

  it("on vLLM 0.21.0, drops the flags it removed, each with its reason and PR", () => {
    const r = ok(importService(MEDIUM, { stack: "medium", tag: "v0.21.0" }));
    assert.equal((r.config as any).vllm.extraArgs, undefined);
    assert.match(change(r, "vllm.extraArgs", /--swap-space 16 → \(dropped\)/)[0].source, /PR #36216/);
    assert.match(change(r, "vllm.extraArgs", /--disable-log-requests → \(dropped\)/)[0].reason, /off by default/);
  });

  it("fixes each old habit: a wrong choice, the = syntax, a length that does not fit, beyond the trained context, a secret in the env", () => {
    const r = ok(
      importService(
        withCommand((c) => replaceFlag(replaceFlag(c, "--kv-cache-dtype", "--kv-cache-dtype", "fp8_e4m3fn"), "--max-model-len", "--max_model_len=131072"), {
          environment: { NVIDIA_VISIBLE_DEVICES: "0,1", VLLM_API_KEY: "x", WANDB_API_KEY: "y", VLLM_LOGGING_LEVEL: "DEBUG", HF_HOME: "/data" },
        }),
        { stack: "s", tag: "v0.11.0" },
      ),
    );
    const c = r.config as any;
    assert.equal(c.vllm.kvCacheDtype, "fp8_e4m3");
    assert.ok(change(r, "vllm.kvCacheDtype", /fp8_e4m3fn → fp8_e4m3/).length === 1);
    // 131072 is beyond Qwen3-32B's 40960 positions: lowered to that, which fits.
    assert.equal(c.vllm.maxModelLen, 40960);
    assert.ok(change(r, "vllm.maxModelLen", /131072 → 40960: above .* trained context/).length === 1);
    assert.deepEqual(c.container.env, { VLLM_LOGGING_LEVEL: "DEBUG" });
    assert.ok(change(r, "container.env", /WANDB_API_KEY=\*+ → \(dropped\): it looks like a secret/).length === 1);
    assert.ok(change(r, "container.env", /HF_HOME=\/data → \(dropped\)/).length === 1);
  });

  it("lowers a max-model-len that does not fit to the largest that does, with the memory table", () => {
    const r = ok(importService(withCommand((c) => replaceFlag(c, "--gpu-memory-utilization", "--gpu-memory-utilization", "0.5")), { stack: "s", tag: "v0.11.0" }));
    const fix = change(r, "vllm.maxModelLen", /32768 → \d+: one 32768-token sequence needs/)[0];
    assert.ok(fix, JSON.stringify(r.changes));
    assert.equal((r.config as any).vllm.maxModelLen, Number(fix.new));
    assert.match(r.memoryTable!, /max-model-len that fits/);
  });

  it("GPUs from CUDA_VISIBLE_DEVICES, device reservations, and more GPUs than ranks", () => {
    const cuda = ok(importService(withCommand((c) => c, { environment: { NVIDIA_VISIBLE_DEVICES: "2,3,4", CUDA_VISIBLE_DEVICES: "1,2" } }), { stack: "s", tag: "v0.11.0" }));
    assert.deepEqual((cuda.config as any).host.gpus, [3, 4]);
    const devices = ok(importService(withCommand((c) => c, { environment: {}, runtime: undefined, deploy: { resources: { reservations: { devices: [{ driver: "nvidia", device_ids: ["1", "2", "3"], capabilities: ["gpu"] }] } } } }), { stack: "s", tag: "v0.11.0" }));
    assert.deepEqual((devices.config as any).host.gpus, [1, 2]);
    assert.ok(change(devices, "host.gpus", /\[1, 2, 3\] → \[1, 2\]/).length === 1);
  });

  it("publishes one port: a different host port becomes the server's port", () => {
    const r = ok(importService(withCommand((c) => c, { ports: [{ target: 5002, published: "8080", host_ip: "127.0.0.1" }] }), { stack: "s", tag: "v0.11.0" }));
    assert.equal((r.config as any).server.port, 8080);
    assert.ok(change(r, "server.port", /^8080:5002 → 8080:8080: the program publishes one port/).length === 1);
    assert.ok(change(r, "server.port", /^127\.0\.0\.1:8080:5002 → 8080:8080: the program publishes on every interface/).length === 1);
  });

  it("vision flags in each syntax vLLM has had come out as the same typed record", () => {
    const vl = (tokens: string[]) =>
      ok(
        importService(
          withCommand((c) => [...replaceFlag(c, "--model", "--model", "Qwen/Qwen3-VL-32B-Instruct-FP8").filter((t) => t !== "--quantization" && t !== "awq_marlin"), ...tokens]),
          { stack: "vl", tag: "v0.21.0" },
        ),
      );
    const want = { limitMmPerPrompt: { image: 3, video: 0 }, maxPixels: 599040, skipMmProfiling: true, mmEncoderTpMode: "data" };
    const variants: string[][] = [
      ["--limit-mm-per-prompt", '{"image": 3, "video": 0}', "--mm-processor-kwargs", '{"max_pixels": 599040}', "--skip-mm-profiling", "--mm-encoder-tp-mode", "data"],
      ["--limit-mm-per-prompt", "image=3,video=0", "--mm-processor-kwargs", "max_pixels=599040", "--skip-mm-profiling", "--enable-multimodal-encoder-data-parallel"],
      ["--limit-mm-per-prompt", "image:3,video:0", "--mm-processor-kwargs", '{"max_pixels":599040}', "--skip_mm_profiling", "--mm_encoder_tp_mode=data"],
      ["--limit-mm-per-prompt.image", "3", "--limit-mm-per-prompt.video", "0", "--mm-processor-kwargs={\"max_pixels\": 599040}", "--skip-mm-profiling", "--mm-encoder-tp-mode", "data"],
      ["--limit-mm-per-prompt={\"image\":3,\"video\":0}", "--mm-processor-kwargs", '{"max_pixels": 599040}', "--skip-mm-profiling", "--mm-encoder-tp-mode=data"],
    ];
    for (const tokens of variants) assert.deepEqual((vl(tokens).config as any).vision, want, tokens.join(" "));
  });

  it("reads --mm-encoder-tp-mode replicate as data, quoting vLLM's docstring, rather than stopping", () => {
    const r = ok(
      importService(
        withCommand((c) => [...replaceFlag(c, "--model", "--model", "Qwen/Qwen3-VL-32B-Instruct-FP8").filter((t) => t !== "--quantization" && t !== "awq_marlin"), "--mm-encoder-tp-mode", "replicate"]),
        { stack: "vl", tag: "v0.21.0" },
      ),
    );
    assert.equal((r.config as any).vision.mmEncoderTpMode, "data");
    const c = change(r, "vision.mmEncoderTpMode")[0];
    assert.deepEqual([c.old, c.new], ["replicate", "data"]);
    assert.match(c.reason, /hosting the full weights on each TP rank", i\.e\. a replicated encoder/);
    assert.match(c.source, /MultiModalConfig\.mm_encoder_tp_mode docstring/);
  });

  it("a model outside the catalog asks for model.footprint, and takes it", () => {
    const project = withCommand((c) => replaceFlag(c, "--model", "--model", "acme/unknown-70b").filter((t) => t !== "--quantization" && t !== "awq_marlin"));
    const r = importService(project, { stack: "s", tag: "v0.11.0" });
    assert.equal(r.ok, false);
    assert.match((r as { errors: string[] }).errors.join("\n"), /^model\.footprint: acme\/unknown-70b is not in the model catalog .*pass them with --footprint/m);
    const footprint = { layers: 64, kvHeads: 8, headDim: 128, checkpointGiB: 18, maxPositionEmbeddings: 40960 };
    assert.deepEqual((ok(importService(project, { stack: "s", tag: "v0.11.0", footprint })).config as any).model, { id: "acme/unknown-70b", footprint });
  });

  it("two services: asks which one, and imports the one named", () => {
    const two: ComposeProject = { services: { a: mediumService(), b: mediumService() } };
    const r = importService(two, { stack: "s", tag: "v0.11.0" });
    assert.equal(r.ok, false);
    assert.deepEqual((r as { errors: string[] }).errors, ["service: the compose files define 2 services (a, b); choose the one to import with --service <name>"]);
    assert.equal(ok(importService(two, { stack: "s", tag: "v0.11.0", service: "b" })).service, "b");
  });

  it("a missing env file leaves the secrets blank and the defaults of ${VAR:-default}: it says how to set them", () => {
    const s = mediumService();
    s.command = s.command!.filter((t) => t !== "sk-fixture-not-a-real-key");
    s.environment = { NVIDIA_VISIBLE_DEVICES: "0,1", HUGGING_FACE_HUB_TOKEN: "" };
    const r = ok(importService({ services: { s } }, { stack: "s", tag: "v0.11.0" }));
    assert.deepEqual(r.secrets.map((x) => [x.key, x.blank]), [["apiKey", true], ["hfToken", true]]);
  });

  it("a flag no catalogued vLLM knows, or a removed one without a sure replacement, stops the import with the choice", () => {
    const unknown = importService(withCommand((c) => [...c, "--max-batch-tokens", "8192"]), { stack: "s", tag: "v0.11.0" });
    assert.match((unknown as { errors: string[] }).errors.join("\n"), /^vllm\.extraArgs: --max-batch-tokens is not a flag of vLLM 0\.11\.0/m);
    const task = importService(withCommand((c) => [...c, "--task", "embed"]), { stack: "s", tag: "v0.21.0" });
    assert.match((task as { errors: string[] }).errors.join("\n"), /^vllm\.extraArgs: --task is removed in vLLM 0\.13\.0; its replacement is --runner/m);
  });
});

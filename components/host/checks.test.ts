import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { probeText } from "../../test/helpers/probeText";
import { checkHost, gpuHoldersKey, gpuLease, toolFailure } from "./checks";
import { parseProbe } from "./probe";

const fixture = (f: string) => readFileSync(join(__dirname, "../../test/fixtures/nvidia-smi", f), "utf8");
const h200 = fixture("h200x2-idle-query-gpu.csv");
const req = { stack: "medium", gpus: [0, 1], gpuMemoryUtilization: 0.9, plannedGpuMemoryMiB: 143771 };

describe("checkHost", () => {
  it("passes an idle host with the nvidia runtime", () => {
    assert.deepEqual(checkHost(parseProbe(probeText({ gpus: h200 })), req), { errors: [], notes: [] });
  });

  it("names a GPU index the host lacks and the ones it has", () => {
    const { errors } = checkHost(parseProbe(probeText({ gpus: h200 })), { ...req, gpus: [0, 2] });
    assert.deepEqual(errors, ["host.gpus: GPU 2 is not on the host (it has GPUs 0, 1); use indices that `nvidia-smi -L` lists"]);
  });

  it("reports memory held by another process, and fails when vLLM could not start", () => {
    // Real capture: pid 573 holds 19592 MiB on GPU 1. 0.9 × 143771 = 129394 MiB needed; 124179 free.
    const { errors, notes } = checkHost(parseProbe(probeText({ gpus: h200, apps: fixture("h200x2-busy-compute-apps.csv") })), req);
    assert.deepEqual(notes, ["GPU 1: 19592 MiB used by processes not of this project (pid 573: 19592 MiB)"]);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^host\.gpus: GPU 1 has 124179 MiB free of 143771 MiB .* needs 0\.9 × 143771 = 129394 MiB .* lower vllm\.gpuMemoryUtilization to at most 0\.86$/);
  });

  it("does not count memory held by this project's containers", () => {
    const probe = parseProbe(probeText({ gpus: h200, apps: fixture("h200x2-busy-compute-apps.csv"), containers: "container|/myia_vllm-medium-vl-qwen3|running|medium-vl|h:gpus=0,1\npid 573\n" }));
    const { errors, notes } = checkHost(probe, req);
    assert.deepEqual(errors, []);
    assert.deepEqual(notes, ["GPU 0, 1: held by container myia_vllm-medium-vl-qwen3 of stack medium-vl (running); up stops it and keeps it for rollback"]);
  });

  it("fails without the nvidia runtime, saying how to register it", () => {
    const { errors } = checkHost(parseProbe(probeText({ gpus: h200, runtimes: '{"runc":{}}' })), req);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^host: Docker on the host has no "nvidia" runtime \(it has runc\); install nvidia-container-toolkit/);
  });

  it("fails when the GPUs are smaller than the memory plan assumed", () => {
    const { errors } = checkHost(parseProbe(probeText({ gpus: h200 })), { ...req, plannedGpuMemoryMiB: 200000 });
    assert.equal(errors.length, 2);
    assert.match(errors[0], /^host\.gpuMemoryMiB: the plan assumes 200000 MiB per GPU but GPU 0 \(NVIDIA H200\) has 143771 MiB; set host\.gpuMemoryMiB to 143771/);
  });

  it("fails when nvidia-smi does not run", () => {
    const { errors } = checkHost(parseProbe(probeText({ gpus: "", fail: { gpus: "sh: 1: nvidia-smi: not found", apps: "sh: 1: nvidia-smi: not found" } })), req);
    assert.deepEqual(errors.length, 1, "one line for nvidia-smi, not one per section it failed");
    assert.match(errors[0], /^host: nvidia-smi is not on this user's PATH on the host \(sh: 1: nvidia-smi: not found\); install the NVIDIA driver/);
  });
});

describe("containers of anything else on our GPUs", () => {
  it("refuses at preview a foreign container given one of our GPUs, naming it", () => {
    const { errors } = checkHost(parseProbe(probeText({ gpus: h200, containers: "foreign|/comfyui|nvidia|0|1\n" })), req);
    assert.deepEqual(errors, ["host.gpus: container comfyui is not of this project and holds GPU 1 (NVIDIA_VISIBLE_DEVICES=1); this program never stops it: stop it yourself (docker stop comfyui) or pick other GPUs"]);
  });

  it("counts a foreign container given all GPUs against every GPU", () => {
    const { errors } = checkHost(parseProbe(probeText({ gpus: h200, containers: "foreign|/trainer||1|all\n" })), req);
    assert.match(errors[0], /container trainer .* holds GPU 0, 1 \(NVIDIA_VISIBLE_DEVICES=all\)/);
  });

  it("lets a foreign container on other GPUs be", () => {
    const { errors } = checkHost(parseProbe(probeText({ gpus: h200, containers: "foreign|/other|nvidia|0|3\n" })), req);
    assert.deepEqual(errors, []);
  });
});

describe("gpuHoldersKey", () => {
  it("lists the running containers of other stacks that share a GPU", () => {
    const probe = parseProbe(
      probeText({
        gpus: h200,
        containers: ["container|/vl|running|medium-vl|h:gpus=0,1|t1", "container|/mine|running|medium|h:gpus=0,1|t2", "container|/kept|exited|small|h:gpus=0|t3", "container|/elsewhere|running|tiny|h:gpus=3|t4"].join("\n"),
      }),
    );
    assert.equal(gpuHoldersKey(probe, "medium", [0, 1]), "vl@t1");
  });

  it("keys the holders on when they started, so a holder started again runs the takeover again", () => {
    const at = (t: string) => parseProbe(probeText({ gpus: h200, containers: `container|/vl|running|medium-vl|h:gpus=0,1|${t}` }));
    const first = gpuHoldersKey(at("2026-12-01T21:00:00.1Z"), "medium", [0, 1]);
    assert.equal(first, "vl@2026-12-01T21:00:00.1Z");
    assert.notEqual(gpuHoldersKey(at("2026-12-01T21:05:00.2Z"), "medium", [0, 1]), first);
    assert.equal(gpuHoldersKey(at("2026-12-01T21:00:00.1Z"), "medium-vl", [0, 1]), "none");
  });
});

describe("gpuLease", () => {
  it("is stable whatever the order of the GPUs", () => {
    assert.equal(gpuLease("box", [1, 0]), "box:gpus=0,1");
  });
});

describe("toolFailure, on what the box really printed (test/fixtures/ssh/tools-*.txt)", () => {
  const capture = (f: string) => readFileSync(join(__dirname, "../../test/fixtures/ssh", f), "utf8");
  // The part of a capture one tool printed: the lines before its rc= line.
  const part = (text: string, n: number) => text.split(/^rc=\d+\n/m)[n].trim();
  const cases: { what: string; tool: "docker" | "nvidia-smi"; output: string; want: RegExp }[] = [
    { what: "no docker command", tool: "docker", output: part(capture("tools-nodockercli.txt"), 0), want: /^host: docker is not on user u's PATH on the host \(sh: 1: docker: not found\); install Docker there/ },
    { what: "not in group docker", tool: "docker", output: part(capture("tools-nodocker.txt"), 0), want: /^host: user u may not use Docker on the host \(permission denied on its socket\); add it to group docker there \(usermod -aG docker u;/ },
    { what: "no nvidia-smi", tool: "nvidia-smi", output: part(capture("tools-nonvidia.txt"), 1), want: /^host: nvidia-smi is not on user u's PATH on the host \(sh: 1: nvidia-smi: not found\); install the NVIDIA driver there/ },
    { what: "daemon down", tool: "docker", output: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", want: /^host: Docker is not running on the host .*start it there/ },
    { what: "anything else", tool: "nvidia-smi", output: "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.", want: /^host: nvidia-smi failed on the host: NVIDIA-SMI has failed.*; install the NVIDIA driver/ },
  ];
  for (const c of cases) {
    it(`${c.what}: one line saying what to do`, () => {
      assert.match(toolFailure(c.tool, c.output, "u"), c.want);
    });
  }
});

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { probeText } from "../../test/helpers/probeText";
import { parseProbe, PROBE_SCRIPT } from "./probe";

const fixture = (f: string) => readFileSync(join(__dirname, "../../test/fixtures/nvidia-smi", f), "utf8");

describe("parseProbe", () => {
  it("reads GPUs, processes, runtimes and our containers", () => {
    const probe = parseProbe(
      probeText({
        gpus: fixture("h200x2-idle-query-gpu.csv"),
        apps: fixture("h200x2-busy-compute-apps.csv"),
        containers: "container|/myia_vllm-medium-qwen3|running|medium|local:gpus=0,1|2026-12-01T21:00:00.5Z\npid 4242\npid 4243\ncontainer|/old|exited||\n",
      }),
    );
    assert.equal(probe.gpus.length, 2);
    assert.equal(probe.apps[0].pid, 573);
    assert.deepEqual(probe.runtimes, ["io.containerd.runc.v2", "nvidia", "runc"]);
    assert.deepEqual(probe.containers, [
      { name: "myia_vllm-medium-qwen3", status: "running", stack: "medium", gpuLease: "local:gpus=0,1", startedAt: "2026-12-01T21:00:00.5Z", pids: [4242, 4243] },
      { name: "old", status: "exited", stack: "", gpuLease: "", startedAt: "", pids: [] },
    ]);
    assert.deepEqual(probe.failures, []);
  });

  it("records a failed section with what it printed", () => {
    const probe = parseProbe(probeText({ gpus: "", fail: { gpus: "sh: 1: nvidia-smi: not found" } }));
    assert.deepEqual(probe.failures, [{ section: "gpus", output: "sh: 1: nvidia-smi: not found" }]);
  });

  it("records a probe cut short", () => {
    const probe = parseProbe("### myia-probe gpus\n0, x");
    assert.equal(probe.failures.length, 5);
    assert.match(probe.failures[0].output, /did not run to the end/);
  });

  it("is a script sh can run: its sections come out even where the tools are missing", () => {
    // A PATH with only the text tools the script uses: no nvidia-smi, no docker.
    const bin = mkdtempSync(join(tmpdir(), "probe-path-"));
    for (const tool of ["sed", "tail"]) symlinkSync(execFileSync("/bin/sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim(), join(bin, tool));
    const out = execFileSync("/bin/sh", ["-c", PROBE_SCRIPT], { env: { PATH: bin }, encoding: "utf8" });
    const probe = parseProbe(out);
    assert.deepEqual(probe.failures.map((f) => f.section), ["gpus", "apps", "runtimes"]);
  });
});

describe("the probe's foreign-container filter, run by sh", () => {
  it("keeps a container of another project that was given GPUs, and only that", () => {
    // The two `case` lines of the loop, as the host's /bin/sh reads them.
    const filter = PROBE_SCRIPT.split("\n").filter((l) => l.includes('case "$info"')).join("\n");
    const infos = ["|/comfyui|runc|1", "|/ollama|nvidia|0", "myia-vllm|/ours|nvidia|1", "|/web|runc|0"];
    const kept = execFileSync("/bin/sh", ["-c", `for info in ${infos.map((i) => `'${i}'`).join(" ")}; do\n${filter}\necho "$info"; done`], { encoding: "utf8" });
    assert.deepEqual(kept.trim().split("\n"), ["|/comfyui|runc|1", "|/ollama|nvidia|0"]);
  });
});

describe("the probe's containers section, run by sh against a fake docker", () => {
  it("inspects our containers at once, and asks `docker top` only of those running", () => {
    const bin = mkdtempSync(join(tmpdir(), "probe-docker-"));
    // docker ps -aq (ours) / ps -q (running), one inspect for several ids, top per id.
    writeFileSync(
      join(bin, "docker"),
      `#!/bin/sh
echo "$*" >>"${bin}/calls"
case "$1" in
ps) case "$*" in *-aq*) printf 'a1\\nb2\\n' ;; esac ;;
inspect) [ "$#" -eq 5 ] || exit 7
  echo 'container|/myia_vllm-medium-qwen3|running|medium|local:gpus=0,1|2026-12-01T21:00:00Z|a1full'
  echo 'container|/myia_vllm-medium-vl-qwen3|exited|medium-vl|local:gpus=0,1|2026-12-01T20:00:00Z|b2full' ;;
top) [ "$2" = a1full ] && printf '  PID\\n 4242\\n 4243\\n' ;;
esac
`,
    );
    chmodSync(join(bin, "docker"), 0o755);
    const section = PROBE_SCRIPT.split("\n");
    const from = section.findIndex((l) => l.includes("myia-probe containers"));
    const to = section.findIndex((l, i) => i > from && l.startsWith("for id in $(docker ps -q"));
    const out = execFileSync("/bin/sh", ["-c", section.slice(from, to).join("\n")], { env: { PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8" });
    const probe = parseProbe(probeText({ gpus: "", containers: out.split("\n").slice(1).join("\n") }));
    assert.deepEqual(probe.containers, [
      { name: "myia_vllm-medium-qwen3", status: "running", stack: "medium", gpuLease: "local:gpus=0,1", startedAt: "2026-12-01T21:00:00Z", pids: [4242, 4243] },
      { name: "myia_vllm-medium-vl-qwen3", status: "exited", stack: "medium-vl", gpuLease: "local:gpus=0,1", startedAt: "2026-12-01T20:00:00Z", pids: [] },
    ]);
    const calls = readFileSync(join(bin, "calls"), "utf8");
    assert.equal(calls.match(/^inspect/gm)?.length, 1, calls);
    assert.deepEqual(calls.match(/^top \S+/gm), ["top a1full"]);
  });
});

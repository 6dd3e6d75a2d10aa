import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { forwardedPort, KDeployment, openForward, serviceProbe, servingFromDeployments } from "./cluster";

const dep = (stack: string, replicas: number, ready: number, labels: Record<string, string> = {}): KDeployment => ({
  metadata: { namespace: `myia-${stack}`, labels: { "org.myia.project": "myia-vllm", "org.myia.role": "server", "org.myia.stack": stack, ...labels } },
  spec: { replicas },
  status: ready ? { readyReplicas: ready } : {},
});

describe("servingFromDeployments", () => {
  const cases: { name: string; items: KDeployment[]; except?: string; want: string[] }[] = [
    { name: "the one with a Ready pod", items: [dep("medium", 1, 1), dep("medium-vl", 0, 0)], except: "medium-vl", want: ["medium"] },
    { name: "scaled to 0 by a takeover: not serving, even while its pod still terminates", items: [dep("medium", 0, 1)], want: [] },
    { name: "wanted but not Ready yet (Pending on GPUs): not serving", items: [dep("medium", 1, 0)], want: [] },
    { name: "the switch's target is left out", items: [dep("medium", 1, 1), dep("medium-vl", 2, 2)], except: "medium-vl", want: ["medium"] },
    { name: "both serving (free GPUs): in name order", items: [dep("medium-vl", 1, 1), dep("medium", 3, 2)], want: ["medium", "medium-vl"] },
    { name: "another project's Deployment is not ours", items: [dep("medium", 1, 1, { "org.myia.project": "other" })], want: [] },
    { name: "a weights or other role is not a server", items: [dep("medium", 1, 1, { "org.myia.role": "weights" })], want: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(servingFromDeployments(c.items, c.except), c.want));
});

describe("forwardedPort", () => {
  const cases: [string, number | undefined][] = [
    ["Forwarding from 127.0.0.1:40123 -> 5002\nForwarding from [::1]:40123 -> 5002\n", 40123],
    ["Forwarding from [::1]:40123 -> 5002\n", undefined],
    ["error: unable to forward port because pod is not running. Current status=Pending\n", undefined],
    ["", undefined],
  ];
  for (const [out, want] of cases) it(JSON.stringify(out.slice(0, 40)), () => assert.equal(forwardedPort(out), want));
});

describe("openForward (a kubectl that behaves as the real one's output says)", () => {
  // The real kubectl against the test cluster is in test/k8s/switch.test.ts; here, how its output and exit are read.
  const withKubectl = (script: string) => {
    const bin = mkdtempSync(join(tmpdir(), "kubectl-"));
    writeFileSync(join(bin, "kubectl"), `#!/bin/sh\n${script}\n`);
    chmodSync(join(bin, "kubectl"), 0o755);
    const old = process.env.PATH;
    process.env.PATH = `${bin}:${old}`;
    return () => (process.env.PATH = old);
  };

  it("resolves with the local port once kubectl says it forwards, and close() ends kubectl", async () => {
    const restore = withKubectl('echo "$@" >&2; echo "Forwarding from 127.0.0.1:40999 -> 5002"; exec sleep 30');
    try {
      const f = await openForward({ kubeconfig: "/k/config" }, "myia-medium", 5002, 5000);
      assert.equal(f.url, "http://127.0.0.1:40999");
      assert.equal(f.alive(), true);
      f.close();
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(f.alive(), false);
    } finally {
      restore();
    }
  });

  it("rejects with kubectl's own error line when it exits", async () => {
    const restore = withKubectl('echo \'error: services "vllm" not found\' >&2; exit 1');
    try {
      await assert.rejects(openForward({ context: "gpu" }, "myia-medium", 5002, 5000), /kubectl -n myia-medium port-forward svc\/vllm :5002: error: services "vllm" not found/);
    } finally {
      restore();
    }
  });

  it("gives up within its bound when kubectl says nothing", async () => {
    const restore = withKubectl("exec sleep 30");
    try {
      await assert.rejects(openForward({ context: "gpu" }, "myia-medium", 5002, 300), /no forward after 0.3 s/);
    } finally {
      restore();
    }
  });
});

describe("serviceProbe (the switch's outage watch on a cluster)", () => {
  it("while no pod runs, tries kubectl twice a second, not at every probe", async () => {
    const bin = mkdtempSync(join(tmpdir(), "kubectl-"));
    const calls = join(bin, "calls");
    writeFileSync(join(bin, "kubectl"), `#!/bin/sh\necho x >> ${calls}\necho 'error: unable to forward port because pod is not running. Current status=Pending' >&2\nexit 1\n`);
    chmodSync(join(bin, "kubectl"), 0o755);
    const old = process.env.PATH;
    process.env.PATH = `${bin}:${old}`;
    try {
      const probe = serviceProbe({ context: "c" }, "myia-medium", 5002);
      const t0 = Date.now();
      let answered = 0;
      while (Date.now() - t0 < 1200) {
        if (await probe.answers()) answered++;
        await new Promise((r) => setTimeout(r, 100));
      }
      probe.close();
      const n = readFileSync(calls, "utf8").split("\n").filter(Boolean).length;
      assert.equal(answered, 0);
      assert.ok(n >= 2 && n <= 4, `${n} kubectl runs in 1.2 s`);
    } finally {
      process.env.PATH = old;
    }
  });
});

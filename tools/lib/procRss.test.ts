import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { kindOf, parseName, parsePpid, parseRssKiB, RssPeaks, treeOf, watchRss } from "./procRss";

describe("/proc parsing", () => {
  it("reads the parent pid past a command name with spaces and parentheses", () => {
    assert.equal(parsePpid("123 (a (b) c) S 45 123 123 0 -1"), 45);
  });
  it("reads VmRSS, or 0", () => {
    assert.equal(parseRssKiB("Name:\tx\nVmRSS:\t   51234 kB\n"), 51234);
    assert.equal(parseRssKiB("Name:\tkthreadd\n"), 0);
  });
  it("names a process by argv[0]", () => {
    assert.equal(parseName("/root/.cache/myia-vllm/plugins/docker/pulumi-resource-docker\0--x\0"), "pulumi-resource-docker");
    assert.equal(kindOf("pulumi-resource-command"), "pulumi-resource-command");
    assert.equal(kindOf("node"), "node");
    assert.equal(kindOf("sh"), "other (sh, docker CLI, ...)");
  });
});

describe("peaks of a process tree", () => {
  const procs = [
    { pid: 1, ppid: 0, name: "init", rssKiB: 5 },
    { pid: 10, ppid: 1, name: "node", rssKiB: 100 },
    { pid: 11, ppid: 10, name: "pulumi", rssKiB: 50 },
    { pid: 12, ppid: 11, name: "pulumi-resource-docker", rssKiB: 30 },
    { pid: 13, ppid: 11, name: "pulumi-resource-command", rssKiB: 20 },
    { pid: 14, ppid: 13, name: "sh", rssKiB: 2 },
    { pid: 20, ppid: 1, name: "dockerd", rssKiB: 500 },
  ];
  it("takes the root and all its descendants, nothing else", () => {
    assert.deepEqual(treeOf(procs, 10).map((p) => p.pid).sort(), [10, 11, 12, 13, 14]);
  });
  it("keeps each kind's peak and the peak of the sum", () => {
    const peaks = new RssPeaks();
    peaks.add(treeOf(procs, 10));
    peaks.add([{ pid: 10, ppid: 1, name: "node", rssKiB: 300 }]);
    assert.deepEqual(peaks.byKind, { node: 300, pulumi: 50, "pulumi-resource-docker": 30, "pulumi-resource-command": 20, "other (sh, docker CLI, ...)": 2 });
    assert.equal(peaks.totalKiB, 300);
    assert.equal(peaks.samples, 2);
  });
  it("samples this process from /proc", async () => {
    const w = watchRss(process.pid, 20);
    await new Promise((r) => setTimeout(r, 60));
    const p = await w.stop();
    assert.ok(p.samples >= 1 && p.byKind.node > 1000, JSON.stringify(p));
  });
});

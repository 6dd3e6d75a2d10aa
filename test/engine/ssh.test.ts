/**
 * The GPU host over ssh, through the real engine: both stacks with
 * `host.docker: ssh://myia-gpu@127.0.0.1:2222`, served by a real OpenSSH
 * server (scripts/sshd.sh: Debian's sshd, key-only, its own config and
 * known_hosts) whose accounts reach the stand-in dockerd and the fake
 * nvidia-smi. The probe, the weights, takeover and gate steps, the docker
 * provider and `validate` all go through it; the local nvidia-smi here is
 * broken on purpose, so a probe that passes ran on the box.
 *
 * The lifecycle (preview, up, migration, rollback, repair, validate, switch,
 * destroy), each ssh fault as one line that changes nothing, a connection
 * dropped mid-up and the up that recovers, and no secret in any process's
 * argv (ps sampled during the ups; client and box are this machine) or in
 * the box's logs.
 */
import { clientFromOutputs } from "../../tools/lib/client";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, Socket } from "node:net";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { inspect, logs, removeLeftovers } from "../helpers/docker";
import { engineProject, needsPlugins } from "../helpers/engineProject";
import { stoppedByHandIsRepaired } from "../helpers/scenarios";
import { sshBox, SSH_PORT } from "../helpers/sshBox";

const REPO = join(__dirname, "..", "..");
const API_KEY = `sk-ssh-${randomBytes(10).toString("hex")}`;
const HF_TOKEN = `hf_ssh${randomBytes(10).toString("hex")}`;
const MEDIUM = { stack: "medium", port: 5002, container: "myia_vllm-medium-qwen3", model: "Qwen/Qwen3-32B-AWQ" };
const VL = { stack: "medium-vl", port: 5003, container: "myia_vllm-medium-vl-qwen3", model: "Qwen/Qwen3-VL-32B-Instruct-FP8" };
const STACKS = [MEDIUM, VL];

const box = sshBox();
// The local nvidia-smi fails: only the box's answers the probe.
const project = engineProject({ ...box.env(), MYIA_NVIDIA_SMI_SCENARIO: "no-such-scenario", PULUMI_RUN_PROGRAM: "true" });
const { op } = project;
// The box's accounts read the caches there (mkdtemp makes the folder 0700).
chmodSync(project.root, 0o755);

const state = async (name: string) => (await inspect(name))?.State.Status as string | undefined;

async function chat(port: number, key: string | null, model: string) {
  const r = await fetch(`https://127.0.0.1:${port}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }] }),
  });
  return r.status;
}

/** Every process's argv, as `ps` shows it, sampled until stopped. */
function samplePs() {
  const seen = new Set<string>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const out = await new Promise<string>((res) => execFile("ps", ["-eo", "user:16,args", "--no-headers"], { maxBuffer: 1 << 24 }, (_e, so) => res(so ?? "")));
      for (const l of out.split("\n")) if (l.trim()) seen.add(l.trim());
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return [...seen];
    },
  };
}

/** What the box runs, to show a fault changed nothing: every container, its state and start time. */
function hostSnapshot(): string {
  const ids = execFileSync("docker", ["ps", "-aq"], { encoding: "utf8" }).split("\n").filter(Boolean);
  const seen = ids.length ? execFileSync("docker", ["inspect", "-f", "{{.Name}} {{.Id}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}}", ...ids], { encoding: "utf8" }) : "";
  return seen.split("\n").sort().join("\n");
}

/** A preview expected to fail on the host: its one error line, and that nothing changed. */
async function failingPreview(what: string): Promise<string> {
  const before = hostSnapshot();
  const t0 = Date.now();
  const r = await op(MEDIUM.stack, { op: "preview" });
  const seconds = (Date.now() - t0) / 1000;
  assert.equal(r.ok, false, `${what}: preview passed:\n${r.output}`);
  assert.doesNotMatch(r.output, /^\s+at .+\(.+:\d+:\d+\)$/m, `${what}: a stack trace:\n${r.output}`);
  // The engine shows an error both as it happens and in its summary: count distinct lines.
  const lines = [...new Set(r.output.split("\n").map((l) => l.replace(/^.*?error: /, "").trim()).filter((l) => /^(host[ :]|ssh to )/.test(l) && !/check\(s\) failed:$/.test(l)))];
  assert.equal(lines.length, 1, `${what}: want one line for the fault, got ${JSON.stringify(lines)}:\n${r.output}`);
  assert.doesNotMatch(r.output, /refreshing error|Error pinging Docker server/, `${what}: provider errors beside the line`);
  assert.equal(hostSnapshot(), before, `${what}: the host changed`);
  console.log(`${what} (${seconds.toFixed(1)} s): ${lines[0].trim()}`);
  return lines[0];
}

describe("the GPU host over ssh, with the real engine and a real sshd", { skip: needsPlugins }, () => {
  const samples: string[] = [];
  const names = STACKS.map((s) => s.container);

  before(async () => {
    await removeLeftovers(names, STACKS.map((s) => s.stack));
    await project.configure(API_KEY, HF_TOKEN, 3);
    for (const s of STACKS) {
      const r = await op(s.stack, { op: "configure", config: { "host.docker": { value: box.url() }, "host.name": { value: "gpu-box" } } });
      assert.equal(r.ok, true, r.output);
    }
  });

  after(async () => {
    box.start();
    await removeLeftovers(names, STACKS.map((s) => s.stack));
  });

  it("1. preview: the host probe runs over ssh, on the box", async () => {
    const accepted = () => box.readLog().match(/Accepted publickey for myia-gpu/g)?.length ?? 0;
    const was = accepted();
    const r = await op(MEDIUM.stack, { op: "preview" });
    assert.equal(r.ok, true, r.output);
    assert.match(r.output, /\+\s+docker:index:Container\s+medium-container\s+create/);
    assert.ok(accepted() > was, "the box's sshd logged the probe's login");
  });

  it("2. up medium over ssh: healthy, gated, the weights in the box's HF cache", async () => {
    const ps = samplePs();
    const r = await op(MEDIUM.stack, { op: "up" });
    samples.push(...(await ps.stop()));
    assert.equal(r.ok, true, r.output);
    assert.equal(await state(MEDIUM.container), "running");
    // The CA was made on the box, in its volume; the client trusts it from the stack's output.
    clientFromOutputs(r.outputs as never);
    assert.equal(await chat(MEDIUM.port, API_KEY, MEDIUM.model), 200);
    assert.equal(await chat(MEDIUM.port, null, MEDIUM.model), 401);
    // The cache path is read on the box, by the box's account.
    assert.match(box.run(`ls ${join(project.cache, "hf", "hub")}`), /models--Qwen--Qwen3-32B-AWQ/);
    assert.ok(samples.some((l) => /docker system dial-stdio/.test(l)), "ps saw the box's end of the docker connection");
    assert.ok(samples.some((l) => /^myia-gpu\s/.test(l)), "ps saw processes of the box's account");
  });

  it("3. migration to medium-vl, and rollback to medium, over ssh", async () => {
    const ps = samplePs();
    const t0 = Date.now();
    const vl = await op(VL.stack, { op: "up" });
    console.log(`migration over ssh: up took ${((Date.now() - t0) / 1000).toFixed(1)} s (stand-in load 3 s)`);
    samples.push(...(await ps.stop()));
    assert.equal(vl.ok, true, vl.output);
    assert.equal(await state(MEDIUM.container), "exited", "medium is stopped and kept");
    assert.equal(await chat(VL.port, API_KEY, VL.model), 200);
    const t1 = Date.now();
    const back = await op(MEDIUM.stack, { op: "up" });
    console.log(`rollback over ssh: up took ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    assert.equal(back.ok, true, back.output);
    assert.equal(await state(VL.container), "exited");
    assert.equal(await chat(MEDIUM.port, API_KEY, MEDIUM.model), 200);
  });

  it("4. a container stopped by hand: refresh finds it, up starts it", async () => {
    await stoppedByHandIsRepaired(op, MEDIUM.stack, MEDIUM.container);
    assert.equal(await chat(MEDIUM.port, API_KEY, MEDIUM.model), 200);
  });

  it("5. npm run validate, with nvidia-smi and docker on the box", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", join(REPO, "tools/validate.ts"), "--stack", MEDIUM.stack, "--dir", project.workDir, "--requests", "6"], { cwd: REPO, env: project.env(), encoding: "utf8" });
    assert.match(out, /validate medium: PASSED/);
    assert.match(out, /GPU memory\s+ok\s+GPU 0 \d+\/\d+ MiB/);
    assert.match(out, /restarts\s+ok\s+myia_vllm-medium-qwen3 running, 0 restarts/);
  });

  it("6. npm run switch to medium-vl over ssh", async () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", join(REPO, "tools/switch.ts"), "--to", VL.stack, "--dir", project.workDir, "--requests", "6"], { cwd: REPO, env: project.env(), encoding: "utf8" });
    assert.match(out, /switch medium -> medium-vl/);
    assert.match(out, /switched to medium-vl; no model answered for [\d.]+ s/);
    assert.equal(await chat(VL.port, API_KEY, VL.model), 200);
    assert.equal(await state(MEDIUM.container), "exited");
  });

  it("7. the connection drops mid-up: the up fails in one line, and the next up recovers", async () => {
    // Long enough a load that the drop lands in the health gate.
    await op(MEDIUM.stack, { op: "configure", config: { "container.env.STANDIN_LOAD_SECONDS": { value: "8" } } });
    const run = op(MEDIUM.stack, { op: "up" });
    for (let i = 0; i < 600 && !((await state(MEDIUM.container)) === "running" && (await state(`${MEDIUM.container}-gateway`)) === "running"); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000));
    box.stop();
    const failed = await run;
    assert.equal(failed.ok, false, failed.output);
    assert.match(failed.output, /cannot reach Docker on the host to check myia_vllm-medium-qwen3 \(the container was not touched; run up again once the host answers\)/);
    assert.doesNotMatch(failed.output, /^\s+at .+:\d+:\d+\)?$/m, "no stack trace");
    // What is left: the takeover ran (medium-vl stopped, kept), medium's
    // container started but was never gated; the stack is not locked.
    assert.equal(await state(VL.container), "exited");
    assert.equal(await state(MEDIUM.container), "running");
    const down = await op(MEDIUM.stack, { op: "preview" });
    assert.equal(down.ok, false);
    assert.match(down.output, /host gpu-box: cannot probe the host: ssh to myia-gpu@127\.0\.0\.1 port \d+: connection refused: sshd is not running on the box/);

    box.start();
    await op(MEDIUM.stack, { op: "configure", config: { "container.env.STANDIN_LOAD_SECONDS": { value: "3" } } });
    const next = await op(MEDIUM.stack, { op: "up" });
    assert.equal(next.ok, true, next.output);
    assert.equal(await state(MEDIUM.container), "running");
    assert.equal(await chat(MEDIUM.port, API_KEY, MEDIUM.model), 200);
  });

  it("8. each fault is one line with the host, the cause and what to do; nothing on the host changes", async () => {
    const setDocker = async (url: string) => assert.equal((await op(MEDIUM.stack, { op: "configure", config: { "host.docker": { value: url } } })).ok, true);
    try {
      await setDocker(box.url("myia-gpu", SSH_PORT + 77));
      assert.match(await failingPreview("port closed"), /ssh to myia-gpu@127\.0\.0\.1 port \d+: connection refused: sshd is not running on the box, or listens on another port; start it, or fix the port in host\.docker/);

      // A port that accepts and never speaks: the connect timeout, not a hang.
      const sockets: Socket[] = [];
      const silent = createServer((s) => sockets.push(s));
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
      await setDocker(box.url("myia-gpu", (silent.address() as { port: number }).port));
      const t0 = Date.now();
      assert.match(await failingPreview("no answer"), /the port accepted the connection but no ssh server answered within 10 s: the box is down or a firewall drops the port/);
      assert.ok(Date.now() - t0 < 60_000, "the preview ended within the connect timeout");
      for (const s of sockets) s.destroy();
      silent.close();

      await setDocker(box.url("nosuch"));
      assert.match(await failingPreview("wrong user"), /the box refused user nosuch with this key: fix the user in host\.docker, or add your public key to ~nosuch\/\.ssh\/authorized_keys/);
      await setDocker(box.url("myia-nodocker"));
      assert.match(await failingPreview("docker not permitted"), /host: user myia-nodocker may not use Docker on the host \(permission denied on its socket\); add it to group docker there/);
      await setDocker(box.url("myia-nodockercli"));
      assert.match(await failingPreview("docker missing"), /host: docker is not on user myia-nodockercli's PATH on the host \(sh: \d+: docker: not found\); install Docker there/);
      await setDocker(box.url("myia-nonvidia"));
      assert.match(await failingPreview("nvidia-smi missing"), /host: nvidia-smi is not on user myia-nonvidia's PATH on the host \(sh: \d+: nvidia-smi: not found\); install the NVIDIA driver there/);
      await setDocker(box.url());

      project.extraEnv.MYIA_SSH_CONFIG = box.clientConfig({ identity: box.strangerKey() });
      assert.match(await failingPreview("wrong key"), /the box refused user myia-gpu with this key/);

      const empty = join(project.root, "known_hosts-empty");
      writeFileSync(empty, "");
      project.extraEnv.MYIA_SSH_CONFIG = box.clientConfig({ knownHosts: empty });
      assert.match(await failingPreview("unknown host key"), /the host key of \[127\.0\.0\.1\]:\d+ is not in your known_hosts, and an unknown key is never accepted: .* >> ~\/\.ssh\/known_hosts/);
      assert.equal(readFileSync(empty, "utf8"), "", "the unknown key was not added");

      const changed = join(project.root, "known_hosts-changed");
      const other = readFileSync(`${box.strangerKey()}.pub`, "utf8").split(" ").slice(0, 2).join(" ");
      writeFileSync(changed, `[127.0.0.1]:${SSH_PORT} ${other}\n`);
      project.extraEnv.MYIA_SSH_CONFIG = box.clientConfig({ knownHosts: changed });
      assert.match(await failingPreview("changed host key"), /the host key of \[127\.0\.0\.1\]:\d+ has CHANGED since it was added to \S+ \(it now sends SHA256:\S+\): someone may be intercepting/);

      box.stop();
      assert.match(await failingPreview("sshd down"), /connection refused: sshd is not running on the box/);
    } finally {
      delete project.extraEnv.MYIA_SSH_CONFIG;
      box.start();
      await setDocker(box.url());
    }
    // After every fault, the stack deploys as before.
    const up = await op(MEDIUM.stack, { op: "up" });
    assert.equal(up.ok, true, up.output);
  });

  it("9. secrets: in no process's argv on either end during the ups, nor in the box's logs", () => {
    assert.ok(samples.length > 100, `ps was sampled (${samples.length} distinct lines)`);
    const dockerdLog = join(process.env.MYIA_CACHE ?? join(homedir(), ".cache", "myia-vllm"), "docker", "dockerd.log");
    const texts: [string, string][] = [
      ...samples.map((l): [string, string] => ["ps", l]),
      ["the box's sshd log", box.readLog()],
      ["the box's dockerd log", readFileSync(dockerdLog, "utf8")],
      ...project.captured.map((t): [string, string] => ["engine output", t]),
    ];
    for (const [where, t] of texts) {
      assert.ok(!t.includes(API_KEY), `the API key in ${where}: ${t.slice(0, 300)}`);
      assert.ok(!t.includes(HF_TOKEN), `the HF token in ${where}: ${t.slice(0, 300)}`);
    }
  });

  it("10. container logs hold no secret; destroy over ssh removes both stacks' containers", async () => {
    for (const s of STACKS) {
      const text = await logs(s.container);
      assert.ok(!text.includes(API_KEY) && !text.includes(HF_TOKEN), `a secret in ${s.container}'s log`);
    }
    for (const s of STACKS) {
      const r = await op(s.stack, { op: "destroy" });
      assert.equal(r.ok, true, r.output);
      assert.equal(await inspect(s.container), undefined);
      assert.equal(await inspect(`${s.container}-gateway`), undefined);
    }
  });
});

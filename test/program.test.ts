/**
 * Both stacks' resource graphs under Pulumi's mocks. Each stack runs in its
 * own process (a Pulumi program registers its resources once per process).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";

const REPO = join(__dirname, "..");

function runInChild(stack: string, scenario: string): { resources: any[]; invokes: { token: string; command: string }[]; outputs: Record<string, unknown>; secretOutputs: string[]; secretProps: Record<string, boolean>; error?: string } {
  // The child exits as soon as it has reported; its exit code reflects Pulumi's
  // leak detector for the registrations a failed check cut short, not the test.
  const r = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "helpers/programChild.ts"), stack, scenario], { cwd: REPO, encoding: "utf8" });
  const line = r.stdout.split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) throw new Error(`the mocked program printed no report:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(line);
}

for (const [stack, port, container, version] of [
  ["medium", 5002, "myia_vllm-medium-qwen3", "0.11.0"],
  ["medium-vl", 5003, "myia_vllm-medium-vl-qwen3", "0.34.0"],
] as const) {
  describe(`stack ${stack} (mocks)`, () => {
    const run = runInChild(stack, "idle");
    const byType = (t: string) => run.resources.filter((r) => r.type === t);
    const c = () => byType("docker:index/container:Container").find((r) => r.name === `${stack}-container`);
    const gw = () => byType("docker:index/container:Container").find((r) => r.name === `${stack}-gateway-container`);

    it("builds the component tree with pkg:module:Type tokens and parent-prefixed child names", () => {
      const types = run.resources.map((r) => `${r.type} ${r.name}`);
      assert.ok(types.includes(`myia:host:GpuHost local`), types.join("\n"));
      assert.ok(types.includes(`myia:vllm:VllmService ${stack}`));
      assert.ok(types.includes(`pulumi:providers:docker local-docker`));
      assert.ok(types.includes(`docker:index/remoteImage:RemoteImage ${stack}-image`));
      assert.ok(types.includes(`docker:index/container:Container ${stack}-container`));
      assert.ok(types.includes(`command:local:Command ${stack}-ready`));
      for (const r of run.resources.filter((x) => x.type !== "pulumi:pulumi:Stack" && !x.type.startsWith("myia:"))) assert.equal(r.hasParent, true, `${r.name} has no parent`);
    });

    it("renders the container: argv, GPU pinning, ipc/shm, ports, caches, healthcheck", () => {
      const i = c().inputs;
      assert.equal(i.name, container);
      assert.equal(i.command[0], stack === "medium" ? "Qwen/Qwen3-32B-AWQ" : "Qwen/Qwen3-VL-32B-Instruct-FP8");
      assert.deepEqual(i.command.slice(i.command.indexOf("--port"), i.command.indexOf("--port") + 2), ["--port", String(port)]);
      // GPUs as a device request, as `docker run --gpus '"device=0,1"'`; no runtime, no env pinning.
      assert.deepEqual(i.deviceRequests, [{ driver: "nvidia", deviceIds: ["0", "1"], capabilities: ["gpu"] }]);
      assert.equal(i.gpus, undefined);
      assert.equal(i.runtime, undefined);
      assert.ok(!i.envs.some((e: string) => e.startsWith("NVIDIA_VISIBLE_DEVICES=")));
      assert.equal(i.ipcMode, "host");
      assert.equal(i.shmSize, 16384);
      // No published port: vLLM is on the stack's private network, behind the gateway.
      assert.deepEqual(i.ports, []);
      assert.equal(i.networkMode, `myia-vllm-${stack}`);
      assert.deepEqual(i.volumes.map((v: any) => [v.hostPath, v.containerPath]), [
        ["/srv/myia-vllm/hf-cache", "/root/.cache/huggingface"],
        ["/srv/myia-vllm/vllm-cache", "/root/.cache/vllm"],
      ]);
      assert.deepEqual(i.healthcheck.tests, ["CMD", "curl", "-fsS", `http://localhost:${port}/health`]);
      assert.equal(i.healthcheck.startPeriod, "20m0s"); // as the provider reads it back: no diff on refresh
      assert.equal(i.restart, "unless-stopped");
      assert.equal(i.mustRun, true);
    });

    it("puts the gateway on the public port, on the private network, started beside vLLM, gated after it", () => {
      const i = gw().inputs;
      assert.equal(i.name, `${container}-gateway`);
      assert.deepEqual(i.ports.map((p: any) => [p.internal, p.external]), [[port, port]]);
      assert.equal(i.networkMode, `myia-vllm-${stack}`);
      const net = byType("command:local:Command").find((r) => r.name === `${stack}-network`);
      assert.match(net.inputs.create, new RegExp(`docker network create --driver bridge .* 'myia-vllm-${stack}'`));
      assert.match(net.inputs.delete, new RegExp(`docker network rm 'myia-vllm-${stack}'`));
      assert.equal(byType("docker:index/remoteImage:RemoteImage").find((r) => r.name === `${stack}-gateway-image`).inputs.name, "caddy:2.11.9");
      assert.deepEqual(gw().opts.dependsOn, [`${stack}-container`]);
      const caddyfile = i.uploads[0].content as string;
      assert.equal(i.uploads[0].file, "/etc/caddy/Caddyfile");
      // HTTPS by default, with Caddy's CA kept in the host's volume.
      assert.match(caddyfile, new RegExp(`^https://localhost:${port}, https://127\\.0\\.0\\.1:${port} \\{$`, "m"));
      assert.deepEqual(i.volumes, [{ volumeName: "myia-vllm-ca", containerPath: "/data" }]);
      assert.deepEqual(i.command, ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile", "--resume"]);
      assert.match(caddyfile, new RegExp(`reverse_proxy ${container}:${port} \\{`));
      // vLLM's own key: a secret env var for the requests forwarded; no key in the container's file.
      assert.deepEqual(i.envs, ["MYIA_UPSTREAM_KEY=sk-test-key-0123456789"]);
      assert.equal(run.secretProps.gatewayEnvs, true, "the gateway's envs must be a secret Output");
      assert.ok(!caddyfile.includes("sk-test"));
      // The clients' keys reach the running gateway through caddy reload, in a secret env var.
      const clients = byType("command:local:Command").find((r) => r.name === `${stack}-gateway-clients`);
      assert.match(clients.inputs.create, new RegExp(`printf '%s' "\\$MYIA_GATEWAY_CONFIG" \\| docker exec -i "${container}-gateway" caddy reload --config /dev/stdin --adapter caddyfile --address unix//config/caddy-admin.sock`));
      assert.ok(!clients.inputs.create.includes("sk-test"));
      assert.match(clients.inputs.environment.MYIA_GATEWAY_CONFIG, /"Bearer sk-test-key-0123456789" default/);
      assert.equal(run.secretProps.clientsConfig, true, "the clients' config must be a secret");
      assert.deepEqual(clients.inputs.triggers, [`${stack}-gateway-container-id`]);
      const labels = Object.fromEntries(i.labels.map((l: any) => [l.label, l.value]));
      assert.equal(labels["org.myia.role"], "gateway");
      assert.equal(labels["org.myia.upstream"], container);
      assert.equal(labels["org.myia.gpu-lease"], undefined, "a gateway holds no GPU");
      const gate = byType("command:local:Command").find((r) => r.name === `${stack}-gateway-ready`);
      // Over TLS checked against the CA, to a name in the certificate, sent to the gateway's container.
      assert.match(gate.inputs.create, new RegExp(`docker cp "${container}-gateway:/data/caddy/pki/authorities/local/root.crt" - 2>/dev/null \\| tar -xO 2>/dev/null \\| docker exec -i "${container}" curl -fsS -o /dev/null --max-time 2 --cacert /dev/stdin --connect-to localhost:${port}:${container}-gateway:${port} https://localhost:${port}/health`));
      assert.deepEqual(gate.opts.dependsOn, [`${stack}-gateway-container`, `${stack}-gateway-clients`, `${stack}-ready`]);
    });

    it("labels the container with stack, profile, model and GPU lease", () => {
      const labels = Object.fromEntries(c().inputs.labels.map((l: any) => [l.label, l.value]));
      assert.equal(labels["org.myia.project"], "myia-vllm");
      assert.equal(labels["org.myia.stack"], stack);
      assert.equal(labels["org.myia.profile"], stack);
      assert.equal(labels["org.myia.gpu-lease"], "local:gpus=0,1");
      assert.match(labels["org.myia.config-hash"], /^[0-9a-f]{16}$/);
    });

    it("pins the image by release tag and keeps it when a stack is destroyed", () => {
      const img = byType("docker:index/remoteImage:RemoteImage").find((r) => r.name === `${stack}-image`).inputs;
      assert.equal(img.name, `vllm/vllm-openai:v${version}`);
      assert.equal(img.keepLocally, true);
    });

    it("replaces the container delete-first, and on healthcheck/env/label changes", () => {
      const o = c().opts;
      assert.equal(o.deleteBeforeReplace, true);
      for (const p of ["healthcheck", "envs", "labels", "command", "networkMode"]) assert.ok(o.replaceOnChanges.includes(p), p);
      assert.equal(gw().opts.deleteBeforeReplace, true);
      for (const p of ["envs", "uploads", "ports", "command", "volumes"]) assert.ok(gw().opts.replaceOnChanges.includes(p), p);
    });

    it("gates up on health, again for every new container", () => {
      const gate = byType("command:local:Command").find((r) => r.name === `${stack}-ready`);
      assert.match(gate.inputs.create, new RegExp(`docker inspect .*${container}`));
      assert.match(gate.inputs.create, /docker logs --tail 40/);
      assert.deepEqual(gate.inputs.triggers, [`${stack}-container-id`, "none"]);
    });

    it("fetches the weights into the shared cache before the takeover, the token from env only", () => {
      const w = byType("command:local:Command").find((r) => r.name === `${stack}-weights`);
      assert.match(w.inputs.create, /docker run --rm --entrypoint python3 -e HF_TOKEN -e HF_HOME=\/root\/\.cache\/huggingface -v '\/srv\/myia-vllm\/hf-cache:\/root\/\.cache\/huggingface'/);
      assert.match(w.inputs.create, /snapshot_download\(repo_id="Qwen\//);
      assert.ok(!w.inputs.create.includes("hf_testtoken"));
      assert.equal(w.inputs.environment.HF_TOKEN, "hf_testtoken0123456789");
      assert.equal(run.secretProps.weightsToken, true, "the prefetch's HF_TOKEN must be secret");
      assert.deepEqual(w.opts.dependsOn, [`${stack}-image`]);
    });

    it("takes the GPUs over after the images, weights and network, before the container", () => {
      const takeover = byType("command:local:Command").find((r) => r.name === `${stack}-takeover`);
      assert.match(takeover.inputs.create, /docker stop -t 30/);
      assert.match(takeover.inputs.create, new RegExp(`"\\$stack" = "${stack}" \\] && continue`));
      assert.match(takeover.inputs.create, /want=",0,1,"/);
      assert.deepEqual(takeover.inputs.triggers, ["none", ""]);
      // Another stack's container is stopped, never removed: the only removals are
      // this stack's own containers, when their network is made again.
      const removals = (takeover.inputs.create as string).split("\n").filter((l) => /docker rm/.test(l));
      assert.deepEqual(removals.map((l) => /docker rm -f '([^']+)'/.exec(l)?.[1]), [container, `${container}-gateway`]);
      // Everything the new containers need is in place before the old model stops.
      assert.deepEqual(takeover.opts.dependsOn, [`${stack}-image`, `${stack}-weights`, `${stack}-network`, `${stack}-gateway-image`]);
      assert.deepEqual(c().opts.dependsOn, [`${stack}-takeover`]);
    });

    it("keeps secrets secret: env only, never argv; the API key output is secret", () => {
      const i = c().inputs;
      assert.ok(i.envs.includes("VLLM_API_KEY=sk-test-key-0123456789"));
      assert.ok(i.envs.includes("HF_TOKEN=hf_testtoken0123456789"));
      assert.ok(!JSON.stringify(i.command).includes("sk-test"));
      assert.ok(!JSON.stringify(run.outputs.argv).includes("sk-test"));
      assert.equal(run.secretProps.envs, true, "container envs must be a secret Output");
      assert.ok(run.secretOutputs.includes("clientKeys"));
      assert.equal(run.outputs.apiKey, undefined, "vLLM's own key is not an output: only the gateway needs it");
    });

    it("exports endpoint, model, container, GPUs, image, version, argv and memory", () => {
      assert.equal(run.outputs.endpoint, `https://localhost:${port}/v1`);
      assert.match(String(run.outputs.caCertificate), /BEGIN CERTIFICATE/);
      assert.deepEqual(run.outputs.clientKeys, { default: "sk-test-key-0123456789" });
      assert.equal(run.outputs.containerName, container);
      assert.deepEqual(run.outputs.gpus, [0, 1]);
      assert.equal(run.outputs.vllmVersion, version);
      assert.match(String(run.outputs.argv), new RegExp(`--port ${port}`));
      assert.equal((run.outputs.memory as { fits: boolean }).fits, true);
    });

    it("probes the host with nvidia-smi through command:local:run, at preview", () => {
      const probe = run.invokes.filter((i) => i.token === "command:local:run");
      assert.equal(probe.length, 1);
      assert.match(probe[0].command, /nvidia-smi --query-gpu=index,uuid,name,memory\.total/);
      assert.match(probe[0].command, /docker info --format '\{\{json \.Runtimes\}\}'/);
    });
  });
}

describe("the GPU host over ssh (mocks)", () => {
  const run = runInChild("medium", "ssh");
  it("probes over ssh with the URL (port kept) and options that never prompt nor accept an unknown host key", () => {
    assert.equal(run.error, undefined);
    const probe = run.invokes.find((i) => i.token === "command:local:run");
    assert.match(probe?.command ?? "", /^ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 -o ServerAliveInterval=5 -o ServerAliveCountMax=3 ssh:\/\/gpu@gpu-box:2222 sh -s$/);
  });

  it("gives the docker provider the same ssh options, and the steps DOCKER_HOST", () => {
    const provider = run.resources.find((r) => r.type === "pulumi:providers:docker");
    assert.equal(provider.inputs.host, "ssh://gpu@gpu-box:2222");
    assert.deepEqual(JSON.parse(provider.inputs.sshOpts), ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]);
    for (const step of ["medium-weights", "medium-takeover", "medium-ready", "medium-gateway-ready", "medium-gateway-clients", "medium-gateway-ca"]) {
      assert.equal(run.resources.find((r) => r.name === step).inputs.environment.DOCKER_HOST, "ssh://gpu@gpu-box:2222", step);
    }
  });
});

describe("another stack on the GPUs (mocks)", () => {
  it("re-runs the takeover and the gate while medium-vl holds the GPUs", () => {
    const run = runInChild("medium", "held-by-vl");
    assert.equal(run.error, undefined);
    const cmds = run.resources.filter((r) => r.type === "command:local:Command");
    assert.deepEqual(cmds.find((r) => r.name === "medium-takeover").inputs.triggers, ["myia_vllm-medium-vl-qwen3@2026-12-01T21:00:00.5Z", ""]);
    assert.deepEqual(cmds.find((r) => r.name === "medium-ready").inputs.triggers, ["medium-container-id", "myia_vllm-medium-vl-qwen3@2026-12-01T21:00:00.5Z"]);
  });

  it("fails the preview when a container of another project holds the GPUs", () => {
    const run = runInChild("medium", "foreign");
    assert.match(run.error ?? "", /host\.gpus: container comfyui is not of this project and holds GPU 1 \(NVIDIA_VISIBLE_DEVICES=1\); this program never stops it: stop it yourself \(docker stop comfyui\)/);
  });
});

describe("drift the provider cannot see (mocks)", () => {
  it("sets a hand-made container under our name aside before creating the declared one", () => {
    const run = runInChild("medium", "drifted");
    assert.equal(run.error, undefined);
    const takeover = run.resources.find((r) => r.name === "medium-takeover");
    assert.match(takeover.inputs.create, /^set -u\naside="myia_vllm-medium-qwen3-replaced-"\$\(date \+%s\)\ndocker stop -t 30 "myia_vllm-medium-qwen3" .*\ndocker rename "myia_vllm-medium-qwen3" "\$aside" && echo "set myia_vllm-medium-qwen3 aside as \$aside: it differs from the declared container \(its config-hash label is 0000000000000000, not [0-9a-f]{16}; its environment differs\); the declared one takes its place"/);
    assert.match(takeover.inputs.triggers[1], /its config-hash label is "0000000000000000"/);
  });
});

describe("host checks at preview (mocks)", () => {
  it("fails the preview when a GPU index is not on the host", () => {
    const run = runInChild("medium", "one-gpu");
    assert.match(run.error ?? "", /host local: 1 check\(s\) failed:\n {2}host\.gpus: GPU 1 is not on the host \(it has GPUs 0\)/);
    assert.equal(run.resources.filter((r) => r.type === "docker:index/container:Container" && r.created).length, 0);
  });

  it("fails the preview when another process holds a GPU's memory", () => {
    const run = runInChild("medium", "busy");
    assert.match(run.error ?? "", /host\.gpus: GPU 1 has 18564 MiB free of 24564 MiB .* lower vllm\.gpuMemoryUtilization to at most 0\.75/);
  });
});

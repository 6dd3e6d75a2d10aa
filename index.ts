// myia-vllm: one GPU host running the vLLM OpenAI-compatible server; one stack per model profile.
import * as pulumi from "@pulumi/pulumi";
import { loadProfile } from "./components/config/fromPulumi";
import { imageRef } from "./components/docker/containerSpec";
import { GpuHost } from "./components/docker/gpuHost";
import { formatArgv } from "./components/vllm/argv";
import { VllmService } from "./components/docker/vllmService";

/**
 * The program. `projectDir` is the folder of Pulumi.yaml and the stack files
 * (the siblings preview compares this stack with): the CLI runs the program
 * there; an inline program (the Automation API: switch, demo, tests) runs in
 * its caller's folder, where `pulumi.getRootDirectory()` answers the
 * placeholder "rootDirectory" (CLI v3.274.1), so the tools pass their workDir.
 */
export = async (opts: { projectDir?: string } = {}) => {
  const stack = pulumi.getStack();
  // Every config error at once, as `path: message` lines, before anything is declared.
  const { profile, apiKey, hfToken, clients, providedTls } = loadProfile(stack, opts.projectDir ?? process.cwd());

  const host = new GpuHost(profile.host.name, {
    docker: profile.host.docker,
    gpus: profile.host.gpus,
    gpuMemoryUtilization: profile.vllm.gpuMemoryUtilization,
    plannedGpuMemoryMiB: profile.host.gpuMemoryMiB,
    stack,
    containerName: profile.server.containerName,
    standby: profile.standby,
  });
  // The host's checks (nvidia-smi, runtime, memory) pass before any container is declared.
  const grant = await host.checked;

  const service = new VllmService(profile.profile, { profile, stack, host, grant, apiKey, hfToken, clients, providedTls });

  return {
    endpoint: service.endpoint,
    servedModelName: profile.model.servedName ?? profile.model.id,
    containerName: service.container.name,
    containerId: service.container.id,
    /** Caddy on the public port, in front of vLLM (absent with gateway.enabled false). */
    gatewayContainer: service.gateway?.container.name,
    gpus: profile.host.gpus,
    image: imageRef(profile),
    imageDigest: service.image.repoDigest,
    vllmVersion: profile.vllmVersion,
    argv: formatArgv(profile.argv),
    memory: profile.memory,
    // Only with host.standby.enabled: the outputs of a stack without it are unchanged.
    ...(profile.standby ? { standby: { peers: profile.standby.peers, gpu: profile.standby.gpu, hostRamMiB: profile.standby.hostRamMiB } } : {}),
    /** The root certificate clients trust for the HTTPS endpoint (gateway.tls.mode internal); public. */
    caCertificate: service.gateway?.caCertificate,
    /** The keys clients send as a bearer token, by client; a secret output. */
    clientKeys: clients.apply((cs) => Object.fromEntries(cs.map((c) => [c.name, c.key]))),
  };
};

/** The Docker host backend: the host's checks, then the service and its gateway; the stack's outputs. */
import type { LoadedProfile } from "../config/fromPulumi";
import { formatArgv } from "../vllm/argv";
import { imageRef } from "../vllm/image";
import { GpuHost } from "./gpuHost";
import { VllmService } from "./vllmService";

export async function deployToHost(loaded: LoadedProfile, stack: string): Promise<Record<string, unknown>> {
  const { profile, apiKey, hfToken, clients, providedTls } = loaded;
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
}

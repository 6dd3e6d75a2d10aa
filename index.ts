// myia-vllm: one GPU host running the vLLM OpenAI-compatible server; one stack per model profile.
import * as pulumi from "@pulumi/pulumi";
import { loadProfile } from "./components/config/fromPulumi";
import { formatArgv } from "./components/vllm/argv";
import { GpuHost } from "./components/gpuHost";
import { imageRef } from "./components/containerSpec";
import { VllmService } from "./components/vllmService";

const stack = pulumi.getStack();
const loaded = loadProfile(stack);
const profile = loaded.profile;

const host = new GpuHost(profile.host.name, {
  docker: profile.host.docker,
  gpus: profile.host.gpus,
  gpuMemoryUtilization: profile.vllm.gpuMemoryUtilization,
  plannedGpuMemoryMiB: profile.host.gpuMemoryMiB,
  stack,
});

const service = new VllmService(profile.profile, { profile, stack, host, apiKey: loaded.apiKey, hfToken: loaded.hfToken });

export const endpoint = service.endpoint;
export const servedModelName = profile.model.servedName ?? profile.model.id;
export const containerName = service.container.name;
export const containerId = service.container.id;
export const gpus = profile.host.gpus;
export const image = imageRef(profile);
export const imageDigest = service.image.repoDigest;
export const vllmVersion = profile.vllmVersion;
export const argv = formatArgv(profile.argv);
export const memory = profile.memory;
/** The API key clients send as a bearer token; a secret output. */
export const apiKey = loaded.apiKey;

/** The Kubernetes backend: the cluster's checks, then the stack's objects; the stack's outputs. */
import { clusterNamespace } from "../config/cluster";
import type { LoadedProfile } from "../config/fromPulumi";
import { imageRef } from "../vllm/image";
import { formatArgv } from "../vllm/argv";
import { placementLine } from "./capacity";
import { GpuCluster } from "./gpuCluster";
import { VllmDeployment } from "./vllmDeployment";

export async function deployToCluster(loaded: LoadedProfile, stack: string): Promise<Record<string, unknown>> {
  const { profile, apiKey, hfToken, clients } = loaded;
  const c = profile.cluster!;
  const cluster = new GpuCluster(`${profile.profile}-cluster`, { cluster: c, stack, tensorParallelSize: profile.vllm.tensorParallelSize });
  // The nodes' checks (GPUs per node, their memory labels) pass before anything is declared.
  const grant = await cluster.checked;
  const d = new VllmDeployment(profile.profile, { profile, stack, provider: cluster.provider, grant, apiKey, hfToken, clients });
  return {
    endpoint: d.endpoint,
    servedModelName: profile.model.servedName ?? profile.model.id,
    namespace: clusterNamespace(c, stack),
    deployment: d.deployment.metadata.name,
    /** The gate's verdict, e.g. "deployment vllm (namespace myia-medium): 1/1 pods Ready". */
    ready: d.ready.stdout,
    replicas: c.replicas,
    gpusPerPod: profile.vllm.tensorParallelSize,
    placement: placementLine(grant.placement, c, profile.vllm.tensorParallelSize),
    image: imageRef(profile),
    vllmVersion: profile.vllmVersion,
    argv: formatArgv(profile.argv),
    memory: profile.memory,
    /** The keys clients send as a bearer token, by client; a secret output. */
    clientKeys: clients.apply((cs) => Object.fromEntries(cs.map((k) => [k.name, k.key]))),
  };
}

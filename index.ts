// myia-vllm: the vLLM OpenAI-compatible server, one stack per model profile, on a Docker GPU host or a Kubernetes cluster.
import * as pulumi from "@pulumi/pulumi";
import { loadProfile } from "./components/config/fromPulumi";
import { deployToHost } from "./components/docker/deploy";
import { deployToCluster } from "./components/kubernetes/deploy";

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
  const loaded = loadProfile(stack, opts.projectDir ?? process.cwd());
  // One backend per stack (the schema refuses both): a cluster, or the Docker host.
  return loaded.profile.cluster ? deployToCluster(loaded, stack) : deployToHost(loaded, stack);
};

import { execFileSync } from "node:child_process";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../config/cluster";
import { eligibleNodes, GpuNode, KNode, KPod, nodeProblems, Placement, placement, placementLine } from "./capacity";
import { kubectlFlags } from "./takeover";

export interface GpuClusterArgs {
  /** The stack's cluster: where (kubeconfig/context), which nodes, which GPU resource, how many replicas. */
  cluster: ClusterConfig;
  /** The deploying stack: its own pods count as free GPUs (Recreate replaces them). */
  stack: string;
  /** GPUs per pod (vllm.tensorParallelSize). */
  tensorParallelSize: number;
}

/** What the cluster granted after its checks: the nodes and where the pods will go. */
export interface ClusterGrant {
  nodes: GpuNode[];
  placement: Placement;
}

/**
 * The cluster a stack deploys to: the official kubernetes provider for its
 * kubeconfig/context, and the preview-time checks against its nodes (GPU
 * count and memory labels, free GPUs) that the Docker backend makes with
 * nvidia-smi on the host.
 */
export class GpuCluster extends pulumi.ComponentResource {
  public readonly provider: k8s.Provider;
  /** Resolves once the nodes pass the checks; rejects with a RunError naming what failed. */
  public readonly checked: Promise<ClusterGrant>;

  constructor(name: string, args: GpuClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("myia:k8s:GpuCluster", name, {}, opts);
    const c = args.cluster;
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        // A path, not the file's content: the content holds client keys, which would land in the state.
        kubeconfig: c.kubeconfig,
        context: c.context,
        enableServerSideApply: true,
      },
      { parent: this },
    );
    this.checked = Promise.resolve().then(() => {
      // kubectl, read through the pure parsers of capacity.ts: it runs at
      // preview as at up, so the checks see the cluster as it is now.
      const get = (what: string[]) => JSON.parse(kubectl(c, [...what, "-o", "json"])) as { items: unknown[] };
      const all = get(["get", "nodes"]).items as KNode[];
      const nodes = eligibleNodes(all, c);
      const problems = nodeProblems(nodes, c, args.tensorParallelSize, args.stack, all);
      if (problems.length > 0) throw new pulumi.RunError(clusterRefusal(args.stack, problems));
      const pods = get(["get", "pods", "--all-namespaces", "--field-selector", "status.phase!=Succeeded,status.phase!=Failed"]).items as KPod[];
      const where = placement(nodes.filter((n) => n.gpus >= args.tensorParallelSize), pods, c, args.stack, args.tensorParallelSize);
      const line = placementLine(where, c, args.tensorParallelSize);
      if (where.kind === "short") pulumi.log.warn(line, this);
      else pulumi.log.info(line, this);
      return { nodes, placement: where };
    });
    this.registerOutputs({});
  }
}

/** kubectl on the stack's cluster; a failure is one line with kubectl's own reason. */
function kubectl(c: ClusterConfig, args: string[]): string {
  try {
    return execFileSync("kubectl", [...kubectlFlags(c), ...args, "--request-timeout=15s"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (e) {
    const said = `${(e as { stderr?: string }).stderr ?? ""}`.trim() || (e as Error).message;
    throw new pulumi.RunError(`cluster: kubectl ${args.slice(0, 2).join(" ")} failed on ${c.context ?? c.kubeconfig}: ${said.split("\n")[0]}; check cluster.kubeconfig/cluster.context and that the API server answers (kubectl ${kubectlFlags(c).join(" ")} get nodes)`);
  }
}

/**
 * The nodes' verdict as one error. Destroy needs no GPU node, but a destroy
 * that runs the program (PULUMI_RUN_PROGRAM, as our tools set it) runs these
 * checks too: the last line says how to destroy from the state alone.
 */
export function clusterRefusal(stack: string, problems: readonly string[]): string {
  return [
    `stack ${stack}: the cluster cannot run this profile:`,
    ...problems.map((p) => `  ${p}`),
    `  (to remove the stack anyway, from its state alone: pulumi destroy --stack ${stack} --run-program=false)`,
  ].join("\n");
}

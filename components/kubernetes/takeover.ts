/**
 * The GPU takeover on a cluster: the other stacks' serving Deployments are
 * scaled to 0, never deleted, so a rollback (`up` of that stack, whose own
 * Deployment declares its replicas) scales it back. Pure: it builds the
 * kubectl lines `pulumi up` runs after the weights Job, and the trigger that
 * runs them again when the holders change.
 */
import type { ClusterConfig } from "../config/cluster";
import type { Holder } from "./capacity";
import { shellQuote as q } from "../host/shell";
import { ROLE_LABEL, STACK_LABEL } from "./pod";


/** kubectl's flags for the stack's cluster (a path and a context name: nothing secret). */
export function kubectlFlags(c: Pick<ClusterConfig, "kubeconfig" | "context">): string[] {
  return [...(c.kubeconfig ? ["--kubeconfig", c.kubeconfig] : []), ...(c.context ? ["--context", c.context] : [])];
}

/**
 * Scales each holder's serving Deployment to 0, then waits until its pods are
 * gone (each gets its grace period: requests in flight finish), so the
 * scheduler sees the GPUs free when this stack's Deployment is applied.
 */
export function takeoverScript(holders: readonly Holder[], c: Pick<ClusterConfig, "kubeconfig" | "context">, waitSeconds: number): string {
  const k = ["kubectl", ...kubectlFlags(c)].map(q).join(" ");
  const lines = ["set -eu"];
  for (const h of holders) {
    const sel = q(`${STACK_LABEL}=${h.stack},${ROLE_LABEL}=server`);
    lines.push(
      `${k} -n ${q(h.namespace)} scale deployment -l ${sel} --replicas=0 >/dev/null`,
      `pods=$(${k} -n ${q(h.namespace)} get pods -l ${sel} -o name)`,
      `[ -z "$pods" ] || ${k} -n ${q(h.namespace)} wait --for=delete --timeout=${waitSeconds}s $pods >/dev/null`,
      `echo ${q(`scaled stack ${h.stack}'s Deployment (namespace ${h.namespace}) to 0, ${h.gpus} GPU(s) freed; kept: \`pulumi up --stack ${h.stack}\` brings it back`)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * What the takeover depends on: other holders, or the same stack brought back
 * since (its pods are new), run it again: a migration, a rollback, and the
 * migration once more.
 */
export function holdersKey(holders: readonly Holder[]): string {
  return holders.map((h) => `${h.namespace}/${h.stack}:${[...h.pods].sort().join("+")}`).join(",");
}

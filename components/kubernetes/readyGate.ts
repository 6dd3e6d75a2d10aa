/**
 * The gate that holds `pulumi up` until the stack's pods are Ready, within
 * container.readyTimeoutSeconds, and otherwise fails naming why each pod is
 * not: the scheduler's reason (FailedScheduling: "Insufficient
 * nvidia.com/gpu"), or its containers' (ImagePullBackOff, CrashLoopBackOff).
 * The provider's own wait says only "Minimum number of live Pods was not
 * attained", so the Deployment skips it and this gate waits instead. Pure.
 */
import type { ClusterConfig } from "../config/cluster";
import { shellQuote as q } from "../host/shell";
import { DEPLOYMENT_NAME } from "./pod";
import { kubectlFlags } from "./takeover";

// One line per pod not Ready: its name, its node (or none), why it is not
// scheduled (the PodScheduled condition the scheduler writes), and its
// containers' waiting reasons (vLLM's first: it is the pod's sidecar, an init container).
const POD_LINES =
  '{range .items[*]}{.metadata.name}{range .status.conditions[?(@.type=="Ready")]}{" ready="}{.status}{end}{"  node="}{.spec.nodeName}{"  "}{range .status.conditions[?(@.type=="PodScheduled")]}{.reason}{" "}{.message}{end}{"  "}{range .status.initContainerStatuses[*]}{.name}{":"}{.state.waiting.reason}{" "}{end}{range .status.containerStatuses[*]}{.name}{":"}{.state.waiting.reason}{" "}{end}{"\\n"}{end}';

export function readyGateScript(c: Pick<ClusterConfig, "kubeconfig" | "context">, namespace: string, selector: Record<string, string>, timeoutSeconds: number): string {
  const k = `${["kubectl", ...kubectlFlags(c)].map(q).join(" ")} -n ${q(namespace)}`;
  const sel = q(Object.entries(selector).map(([a, b]) => `${a}=${b}`).join(","));
  return `set -u
if ${k} rollout status deployment/${DEPLOYMENT_NAME} --timeout=${timeoutSeconds}s >/dev/null 2>&1; then
  echo "deployment ${DEPLOYMENT_NAME} (namespace ${namespace}): $(${k} get deployment ${DEPLOYMENT_NAME} -o jsonpath='{.status.readyReplicas}/{.spec.replicas}') pods Ready"
  exit 0
fi
echo "deployment ${DEPLOYMENT_NAME} (namespace ${namespace}) not Ready within ${timeoutSeconds}s (container.readyTimeoutSeconds); its pods:"
${k} get pods -l ${sel} -o jsonpath=${q(POD_LINES)} | grep -v ' ready=True ' | sed 's/^/  /'
exit 1
`;
}

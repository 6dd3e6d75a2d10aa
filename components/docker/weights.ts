/**
 * Fetching a model's weights into the host's HF cache before the switch, so
 * the model that serves now keeps serving while tens of GB download. Pure:
 * it builds the shell script `pulumi up` runs. It uses the pinned image's own
 * huggingface_hub (a vLLM dependency), so nothing else is installed on the
 * host, and the token reaches the container from the environment only.
 */
import { shellQuote } from "../host/shell";
import { HF_HOME } from "../vllm/image";

export interface WeightsArgs {
  image: string;
  model: string;
  hfCachePath: string;
  /**
   * Names of the container's extra variables (container.env), handed to the
   * download too: a mirror (HF_ENDPOINT), a proxy or HF_HUB_ENABLE_HF_TRANSFER
   * must apply to it as to the server. Their values come from the step's
   * environment, never the command line.
   */
  envNames?: string[];
}

export function prefetchWeightsScript(a: WeightsArgs): string {
  const code = `from huggingface_hub import snapshot_download; print(snapshot_download(repo_id=${JSON.stringify(a.model)}))`;
  // `-e HF_TOKEN` with no value hands the container this process's HF_TOKEN,
  // so the token is in no process's argv.
  const extra = (a.envNames ?? []).map((n) => ` -e ${shellQuote(n)}`).join("");
  return `set -eu
docker run --rm --entrypoint python3 -e HF_TOKEN${extra} -e HF_HOME=${HF_HOME} -v ${shellQuote(`${a.hfCachePath}:${HF_HOME}`)} ${shellQuote(a.image)} -c ${shellQuote(code)}
`;
}

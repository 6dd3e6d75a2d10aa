/**
 * The pinned vLLM image and where its caches live inside it. Pure, and
 * backend-neutral: the Docker host runs this image with the caches mounted
 * from the host, the cluster runs it with the caches on volumes; both (and
 * the bench's compose file) take the reference and the paths from here, so
 * neither backend imports the other. It reads only the profile's image, so
 * it needs nothing from config.
 */

// Where the official image looks for its caches.
export const HF_HOME = "/root/.cache/huggingface";
export const VLLM_CACHE_ROOT = "/root/.cache/vllm";

/** An image as config pins it: repository and tag, and a digest on top where one is given. */
export interface ImagePin {
  repository: string;
  tag: string;
  digest?: string;
}

/** An image reference: a pinned tag, plus its digest when one is given. */
export function pinnedRef(i: ImagePin): string {
  return `${i.repository}:${i.tag}${i.digest ? `@${i.digest}` : ""}`;
}

/** vLLM's image reference: a pinned tag, plus its digest when one is given. Never `latest`. */
export function imageRef(p: { image: ImagePin }): string {
  return pinnedRef(p.image);
}

/**
 * Drift of this stack's container: what `pulumi refresh` cannot see. The
 * docker provider reads neither env nor labels back, so a container replaced
 * by hand with other env or labels looks in sync to it. The host probe hashes
 * the env the container was given (beyond its image's) on the host; this
 * compares that hash and the config-hash label with what the program
 * declares. Pure.
 */
import { createHash } from "node:crypto";
import type { OwnContainer } from "./probe";

/** The hash the probe computes, of the env lines we give beyond the image's. */
export function givenEnvHash(ourEnv: readonly string[], imageEnv: readonly string[]): string {
  const image = new Set(imageEnv);
  const given = [...new Set(ourEnv)].filter((l) => !image.has(l)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // What the probe's `grep | sha256sum` hashes: each line with its newline.
  return createHash("sha256").update(given.map((l) => `${l}\n`).join("")).digest("hex");
}

/**
 * How the container on the host differs from the one this program declares,
 * or undefined when it does not (or when there is none: the provider
 * recreates that). A difference is either a change of config not applied yet
 * or a change made by hand; either way the declared container replaces it.
 */
export function ownDrift(own: OwnContainer | undefined, expected: { stack: string; configHash: string; env: readonly string[] }): string | undefined {
  if (!own) return undefined;
  const why: string[] = [];
  if (own.stack !== expected.stack) why.push(`its stack label is "${own.stack}", not "${expected.stack}"`);
  if (own.configHash !== expected.configHash) why.push(`its config-hash label is "${own.configHash}", not "${expected.configHash}"`);
  if (own.envHash !== givenEnvHash(expected.env, own.imageEnv)) why.push("its environment differs");
  return why.length ? why.join("; ") : undefined;
}

/**
 * Validation shared by preview and `check`: one stack's config, checked on
 * its own and against its sibling stacks on the same host.
 */
import { checkProfilesTogether, ValidatedProfile, ValidateOptions, Validation, validateProfile } from "./schema";
import type { StackConfig } from "./stackFile";
import { checkStandby } from "./standby";

/**
 * Where a stack runs, for the clash check: a Docker host by name, or a
 * cluster (whose stacks each have a namespace, and never clash on a port).
 */
function placeOf(p: ValidatedProfile): string {
  return p.cluster ? `cluster ${p.cluster.kubeconfig ?? ""}#${p.cluster.context ?? ""}#${p.server.containerName}` : p.host.name;
}

export function validateStack(self: StackConfig, siblings: readonly StackConfig[], options: ValidateOptions = {}): Validation {
  const result = validateProfile(self.raw, self.secrets, self.stack, options);
  if (!result.ok) return result;
  const mine = result.profile;
  const valid = siblings.flatMap((s) => {
    // A sibling that is itself invalid is reported by its own check, not here.
    const v = validateProfile(s.raw, { apiKey: "secret", hfToken: "secret" }, s.stack);
    return v.ok ? [{ stack: s.stack, profile: v.profile }] : [];
  });
  const others = valid.map((s) => ({ stack: s.stack, host: placeOf(s.profile), port: s.profile.server.port, containerName: s.profile.server.containerName }));
  const errors = checkProfilesTogether({ stack: self.stack, host: placeOf(mine), port: mine.server.port, containerName: mine.server.containerName }, others);
  const standby = checkStandby(self.stack, mine, valid);
  errors.push(...standby.errors);
  if (errors.length > 0) return { ok: false, errors, warnings: result.warnings };
  return standby.facts ? { ...result, profile: { ...mine, standby: standby.facts } } : result;
}

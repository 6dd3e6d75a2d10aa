/**
 * Validation shared by preview and `check`: one stack's config, checked on
 * its own and against its sibling stacks on the same host.
 */
import { checkProfilesTogether, ValidateOptions, Validation, validateProfile } from "./schema";
import type { StackConfig } from "./stackFile";
import { checkStandby } from "./standby";

export function validateStack(self: StackConfig, siblings: readonly StackConfig[], options: ValidateOptions = {}): Validation {
  const result = validateProfile(self.raw, self.secrets, self.stack, options);
  if (!result.ok) return result;
  const mine = result.profile;
  const valid = siblings.flatMap((s) => {
    // A sibling that is itself invalid is reported by its own check, not here.
    const v = validateProfile(s.raw, { apiKey: "secret", hfToken: "secret" }, s.stack);
    return v.ok ? [{ stack: s.stack, profile: v.profile }] : [];
  });
  const others = valid.map((s) => ({ stack: s.stack, host: s.profile.host.name, port: s.profile.server.port, containerName: s.profile.server.containerName }));
  const errors = checkProfilesTogether({ stack: self.stack, host: mine.host.name, port: mine.server.port, containerName: mine.server.containerName }, others);
  const standby = checkStandby(self.stack, mine, valid);
  errors.push(...standby.errors);
  if (errors.length > 0) return { ok: false, errors, warnings: result.warnings };
  return standby.facts ? { ...result, profile: { ...mine, standby: standby.facts } } : result;
}

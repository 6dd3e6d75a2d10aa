/**
 * Validation shared by preview and `check`: one stack's config, checked on
 * its own and against its sibling stacks on the same host.
 */
import { checkProfilesTogether, ValidateOptions, Validation, validateProfile } from "./schema";
import type { StackConfig } from "./stackFile";

export function validateStack(self: StackConfig, siblings: readonly StackConfig[], options: ValidateOptions = {}): Validation {
  const result = validateProfile(self.raw, self.secrets, self.stack, options);
  if (!result.ok) return result;
  const mine = result.profile;
  const others = siblings.flatMap((s) => {
    // A sibling that is itself invalid is reported by its own check, not here.
    const v = validateProfile(s.raw, { apiKey: "secret", hfToken: "secret" }, s.stack);
    return v.ok ? [{ stack: s.stack, host: v.profile.host.name, port: v.profile.server.port, containerName: v.profile.server.containerName }] : [];
  });
  const errors = checkProfilesTogether({ stack: self.stack, host: mine.host.name, port: mine.server.port, containerName: mine.server.containerName }, others);
  return errors.length > 0 ? { ok: false, errors, warnings: result.warnings } : result;
}

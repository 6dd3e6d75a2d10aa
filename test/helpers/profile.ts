/** A committed stack's validated profile, with host paths moved to a temp dir for tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateStack } from "../../components/config/load";
import type { ValidatedProfile } from "../../components/config/schema";
import { readStackFile } from "../../components/config/stackFile";

export const REPO = join(__dirname, "..", "..");

export function testProfile(stack: string, opts: { cacheDir?: string; vllm?: Record<string, unknown> } = {}): ValidatedProfile {
  const cfg = readStackFile(REPO, stack);
  const cacheDir = opts.cacheDir ?? mkdtempSync(join(tmpdir(), "myia-cache-"));
  cfg.raw.host = { ...(cfg.raw.host as object), hfCachePath: join(cacheDir, "hf"), compileCachePath: join(cacheDir, "vllm") };
  if (opts.vllm) cfg.raw.vllm = { ...(cfg.raw.vllm as object), ...opts.vllm };
  const v = validateStack(cfg, [], { missingSecrets: "warn" });
  if (!v.ok) throw new Error(`stack ${stack} is invalid:\n${v.errors.join("\n")}`);
  return v.profile;
}

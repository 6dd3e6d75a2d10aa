/** The project's stacks, read from their committed files. */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { validateStack } from "../../components/config/load";
import type { ValidatedProfile } from "../../components/config/schema";
import { readStackFile, siblingStacks } from "../../components/config/stackFile";
import { PROJECT_LABEL, PROJECT_NAME } from "../../components/host/probe";

export const REPO = join(__dirname, "..", "..");

export function stackNames(dir = REPO): string[] {
  return readdirSync(dir)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** A stack's validated profile; secrets may be unset (they are supplied apart). */
export function loadStack(stack: string, dir: string = REPO): ValidatedProfile {
  const v = validateStack(readStackFile(dir, stack), siblingStacks(dir, stack), { missingSecrets: "warn" });
  if (!v.ok) throw new Error(`stack ${stack} is invalid:\n  ${v.errors.join("\n  ")}`);
  return v.profile;
}

/** The stacks whose containers of this project run on that Docker host. */
export function servingStacks(docker: string): string[] {
  const out = execFileSync("docker", ["ps", "--filter", `label=${PROJECT_LABEL}=${PROJECT_NAME}`, "--filter", "status=running", "--format", '{{.Label "org.myia.stack"}}'], {
    encoding: "utf8",
    env: { ...process.env, DOCKER_HOST: docker },
  });
  return out.split("\n").filter(Boolean);
}

/** The vLLM releases the committed stacks pin. */
export function pinnedVersions(): string[] {
  return [...new Set(stackNames().map((s) => loadStack(s).vllmVersion))];
}

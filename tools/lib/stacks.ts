/** The project's stacks, read from their committed files. */
import { execFileSync } from "node:child_process";
import { toolFailure } from "../../components/host/checks";
import { sshFailure, sshTarget } from "../../components/host/ssh";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { parseDocument } from "yaml";
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

/**
 * Sets one value of a stack file's `myia-vllm:` config as YAML, keeping the
 * rest of the file (comments, encrypted secrets) as it is. For numbers and
 * booleans: \`pulumi config set --path\` would store them as strings.
 */
export function setStackValue(dir: string, stack: string, path: string[], value: number | boolean | string): void {
  const file = join(dir, `Pulumi.${stack}.yaml`);
  const doc = parseDocument(readFileSync(file, "utf8"));
  doc.setIn(["config", `myia-vllm:${path[0]}`, ...path.slice(1)], value);
  writeFileSync(file, doc.toString());
}

/**
 * Standby on in a project's stack files, for the demo and the bench: every
 * stack on vLLM 0.34.0 (sleep mode with the fixes standby relies on), the
 * stand-in's wake time, medium at 0.9 so the sleeping peer's leftover fits
 * beside it. The host's RAM must hold both models' pinned weights: the
 * stand-in host is the 2x RTX 4090 box, so its RAM is that box's too (a
 * MemTotal of 128 GB, read by the host probe through MYIA_HOST_MEMINFO).
 */
export function standbyOn(dir: string, stacks: readonly string[], wakeSeconds: string): void {
  process.env.MYIA_HOST_MEMINFO = join(REPO, "standin", "host", "meminfo", "gpu-box-128g.txt");
  for (const s of stacks) {
    setStackValue(dir, s, ["host", "standby", "enabled"], true);
    setStackValue(dir, s, ["image", "tag"], "v0.34.0");
    setStackValue(dir, s, ["container", "env", "STANDIN_WAKE_SECONDS"], wakeSeconds);
  }
  setStackValue(dir, "medium", ["vllm", "gpuMemoryUtilization"], 0.9);
}

/** A stack's validated profile; secrets may be unset (they are supplied apart). */
export function loadStack(stack: string, dir: string = REPO): ValidatedProfile {
  const v = validateStack(readStackFile(dir, stack), siblingStacks(dir, stack), { missingSecrets: "warn" });
  if (!v.ok) throw new Error(`stack ${stack} is invalid:\n  ${v.errors.join("\n  ")}`);
  return v.profile;
}

/**
 * The stacks whose containers of this project run on that Docker host. A
 * host it cannot ask fails in the probe's one line (Docker down, ssh refused,
 * ...), not with the docker CLI's own error.
 */
export function servingStacks(docker: string): string[] {
  let out: string;
  try {
    out = execFileSync("docker", ["ps", "--filter", `label=${PROJECT_LABEL}=${PROJECT_NAME}`, "--filter", "status=running", "--format", '{{.Label "org.myia.stack"}}'], {
      encoding: "utf8",
      env: { ...process.env, DOCKER_HOST: docker },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (e) {
    const said = `${(e as { stderr?: string }).stderr ?? ""}`.trim() || (e as Error).message;
    const ssh = sshTarget(docker);
    // docker's own ssh says what ssh said after "stderr=".
    const sshSaid = /stderr=(.*)$/s.exec(said)?.[1];
    throw new Error(ssh && sshSaid ? sshFailure(ssh, sshSaid) : toolFailure("docker", said, ssh?.user));
  }
  return out.split("\n").filter(Boolean);
}

/** The vLLM releases the committed stacks pin. */
export function pinnedVersions(): string[] {
  return [...new Set(stackNames().map((s) => loadStack(s).vllmVersion))];
}

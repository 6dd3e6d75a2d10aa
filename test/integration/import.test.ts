/**
 * npm run import against the real Compose (the v2 CLI plugin that
 * scripts/compose.sh builds): it merges the -f files, interpolates the env
 * file and validates the Compose spec; the importer maps what it printed.
 * Skipped, saying why, where `docker compose version` fails.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkStack } from "../../tools/check";
import { composeCommand, runImport } from "../../tools/import";

const REPO = join(__dirname, "..", "..");
const C = join(REPO, "test/configs/compose");
const compose = composeCommand();
const skip = compose ? false : "docker compose v2 is not installed (source scripts/toolchain.sh && source scripts/compose.sh && toolchain_compose)";

const files = (...names: string[]) => names.flatMap((n) => ["-f", join(C, n)]);
const tmp = () => mkdtempSync(join(tmpdir(), "import-"));

describe("npm run import, with the real docker compose", { skip }, () => {
  it("the issue's medium example imports into a stack that passes check, with a report naming each change", () => {
    const dir = tmp();
    const r = runImport([...files("docker-compose.yml", "medium.yml"), "--env-file", join(C, "medium.env"), "--stack", "medium", "--dir", dir, "--tag", "v0.11.0"]);
    assert.equal(r.code, 0, r.out);
    for (const path of ["image.tag", "model.id", "apiKey", "hfToken", "host.gpus", "container.healthcheck"]) assert.match(r.out, new RegExp(`^  ${path.replace(".", "\\.")}$`, "m"));
    assert.match(r.out, /printf %s "\$VLLM_API_KEY_MEDIUM"\) \| pulumi config set --secret apiKey --stack medium/);
    assert.match(r.out, /npm run check -- --stack medium: OK/);
    const text = readFileSync(join(dir, "Pulumi.medium.yaml"), "utf8");
    assert.doesNotMatch(text + r.out, /fixture-not-a-real/, "no secret in the file or the report");
    assert.equal(checkStack(dir, "medium", false).ok, true);
  });

  it("the old medium-vl profile: vision flags in their old syntax, removed flags, a length that does not fit", () => {
    const dir = tmp();
    const r = runImport([...files("docker-compose.yml", "medium-vl-old.yml"), "--stack", "medium-vl", "--dir", dir, "--tag", "v0.21.0"]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /--limit-mm-per-prompt image=3,video=0/);
    assert.match(r.out, /new:\s+--hf-overrides \{"rope_scaling"/);
    assert.match(r.out, /new:\s+20480\n\s+reason: one 131072-token sequence/);
    assert.match(r.out, /^warning: vllm\.dtype: "half" casts .* bf16 weights/m);
    assert.match(r.out, /max-model-len that fits\s+20480/);
  });

  it("a missing env file: Compose's own message", () => {
    const r = runImport([...files("docker-compose.yml", "medium.yml"), "--env-file", join(C, "no-such.env"), "--stack", "m", "--dir", tmp(), "--tag", "v0.11.0"]);
    assert.equal(r.code, 1);
    assert.match(r.out, /docker compose refused the files:\ncouldn't find env file: .*no-such\.env/);
  });

  it("no env file: the defaults of ${VAR:-default} apply, and the blank secrets are said", () => {
    const r = runImport([...files("docker-compose.yml", "medium.yml"), "--stack", "m", "--dir", tmp(), "--tag", "v0.11.0"]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /# apiKey: command: --api-key came out blank \(VLLM_API_KEY_MEDIUM is not set/);
  });

  it("a model outside the catalog asks for model.footprint", () => {
    const r = runImport([...files("unknown-model.yml"), "--stack", "llama", "--dir", tmp()]);
    assert.equal(r.code, 1);
    assert.match(r.out, /^  model\.footprint: meta-llama\/Llama-3\.1-8B-Instruct is not in the model catalog .*--footprint/m);
  });

  it("two services: asks which one", () => {
    const r = runImport([...files("two-services.yml"), "--stack", "x", "--dir", tmp()]);
    assert.equal(r.code, 1);
    assert.match(r.out, /choose the one to import with --service <name>/);
    const dir = tmp();
    const named = runImport([...files("two-services.yml"), "--stack", "x", "--dir", dir, "--service", "vllm-large"]);
    assert.equal(named.code, 0, named.out);
  });

  it("a compose file Compose rejects: its message passed through", () => {
    const r = runImport([...files("rejected.yml"), "--stack", "x", "--dir", tmp()]);
    assert.equal(r.code, 1);
    assert.match(r.out, /docker compose refused the files:\nvalidating .*rejected\.yml: services\.vllm-broken\.ports must be a array/);
  });

  it("does not overwrite a stack file without --force, and answers --help", () => {
    const dir = tmp();
    copyFileSync(join(REPO, "Pulumi.medium.yaml"), join(dir, "Pulumi.medium.yaml"));
    const r = runImport([...files("medium.yml"), "--stack", "medium", "--dir", dir, "--tag", "v0.11.0"]);
    assert.equal(r.code, 1);
    assert.match(r.out, /exists; pass --force/);
    assert.equal(runImport(["--help"]).code, 0);
    assert.equal(runImport(["--bogus"]).code, 2);
  });
});

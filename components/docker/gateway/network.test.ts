import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { networkEnsureScript, networkRemoveScript, networkRepairScript } from "./network";

/** A network on the fake host: who made it, and whether a running container uses it. */
type Net = { name: string; owner?: "command" | ""; inUse?: boolean };

/** A fake `docker` on PATH that keeps its networks in a file and answers as Docker 20.10 does. */
function fakeDocker(initial: Net[], down = false) {
  const dir = mkdtempSync(join(tmpdir(), "net-"));
  writeFileSync(join(dir, "nets"), initial.map((n) => `${n.name}|${n.owner ?? "command"}|${n.inUse ? 1 : 0}\n`).join(""));
  writeFileSync(join(dir, "calls"), "");
  writeFileSync(
    join(dir, "docker"),
    `#!/bin/sh
d=${dir}
echo "$*" >>"$d/calls"
${down ? 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1' : ""}
name=$(eval "echo \\\${$#}")
line=$(grep "^$name|" "$d/nets")
case "$1 $2" in
"network inspect")
  [ -n "$line" ] || { echo "Error: No such network: $name" >&2; exit 1; }
  rest=\${line#*|}; case "$*" in *-f*) echo "\${rest%|*}|\${rest#*|}" ;; *) echo "[{}]" ;; esac ;;
"network create")
  [ -z "$line" ] || { echo "Error response from daemon: network with name $name already exists" >&2; exit 1; }
  case "$*" in *org.myia.network=command*) o=command ;; *) o= ;; esac
  echo "$name|$o|0" >>"$d/nets"; echo 0123abcd ;;
"rm -f") echo "$name" >>"$d/removed" ;;
"network rm")
  [ -n "$line" ] || { echo "Error response from daemon: network $name not found" >&2; exit 1; }
  case "$line" in *"|1") echo "Error response from daemon: error while removing network: network $name id 6f56 has active endpoints" >&2; exit 1 ;; esac
  grep -v "^$name|" "$d/nets" >"$d/n2"; mv "$d/n2" "$d/nets"; echo "$name" ;;
esac
`,
  );
  chmodSync(join(dir, "docker"), 0o755);
  return {
    run: (script: string) => spawnSync("sh", ["-c", script], { env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, encoding: "utf8" }),
    nets: () =>
      readFileSync(join(dir, "nets"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("|").slice(0, 2).join("|")),
    calls: () => readFileSync(join(dir, "calls"), "utf8"),
  };
}

const NAME = "myia-vllm-medium";

describe("the stack's network, made and removed by shell", () => {
  it("makes a missing network, labelled as ours, and prints only its name", () => {
    const d = fakeDocker([]);
    const r = d.run(networkEnsureScript(NAME, "medium"));
    assert.equal(r.stdout, `${NAME}\n`);
    assert.deepEqual(d.nets(), [`${NAME}|command`]);
    assert.match(d.calls(), /network create --driver bridge --label org\.myia\.project=myia-vllm --label org\.myia\.stack=medium --label org\.myia\.network=command myia-vllm-medium/);
  });

  it("fails, saying why, when Docker cannot make it", () => {
    const d = fakeDocker([], true);
    const r = d.run(networkEnsureScript(NAME, "medium"));
    assert.notEqual(r.status, 0);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /Cannot connect to the Docker daemon/);
  });

  it("create: leaves an existing network alone, ours or the provider's", () => {
    for (const owner of ["command", ""] as const) {
      const d = fakeDocker([{ name: NAME, owner }]);
      assert.equal(d.run(networkEnsureScript(NAME, "medium")).stdout, `${NAME}\n`);
      assert.deepEqual(d.nets(), [`${NAME}|${owner}`]);
      assert.doesNotMatch(d.calls(), /create|rm/);
    }
  });

  // The takeover's repair: what exists on the host -> what is there after, and whether the stack's containers go.
  const repairs: { name: string; host: Net[]; after: string[]; remade: boolean; said?: RegExp }[] = [
    { name: "a network removed by hand is made again, and the containers that ran on it go", host: [], after: [`${NAME}|command`], remade: true, said: /removed myia_vllm-medium-qwen3: its network myia-vllm-medium is made again \(it was gone\); up creates it anew/ },
    { name: "one the provider made, unused, is made again as ours", host: [{ name: NAME, owner: "" }], after: [`${NAME}|command`], remade: true, said: /made again \(it was made by an older release\)/ },
    { name: "one the provider made, in use, is never touched", host: [{ name: NAME, owner: "", inUse: true }], after: [`${NAME}|`], remade: false },
    { name: "ours is left alone", host: [{ name: NAME }], after: [`${NAME}|command`], remade: false },
  ];
  for (const c of repairs) {
    it(`takeover: ${c.name}`, () => {
      const d = fakeDocker(c.host);
      const r = d.run(networkRepairScript(NAME, "medium", ["myia_vllm-medium-qwen3", "myia_vllm-medium-qwen3-gateway"]));
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(d.nets(), c.after);
      assert.equal(/rm -f myia_vllm-medium-qwen3 /.test(d.calls()) || /rm -f myia_vllm-medium-qwen3\n/.test(d.calls()), c.remade, d.calls());
      assert.equal(/rm -f myia_vllm-medium-qwen3-gateway/.test(d.calls()), c.remade);
      if (c.said) assert.match(r.stdout, c.said);
      else assert.equal(r.stdout, "");
    });
  }

  const removals: { name: string; host: Net[]; ok: boolean; left: string[] }[] = [
    { name: "removes it", host: [{ name: NAME }], ok: true, left: [] },
    { name: "one already gone is not an error", host: [], ok: true, left: [] },
    { name: "one still in use is an error, and is kept", host: [{ name: NAME, inUse: true }], ok: false, left: [`${NAME}|command`] },
  ];
  for (const c of removals) {
    it(`remove: ${c.name}`, () => {
      const d = fakeDocker(c.host);
      const r = d.run(networkRemoveScript(NAME));
      assert.equal(r.status === 0, c.ok, r.stderr);
      if (!c.ok) assert.match(r.stderr, /active endpoints/);
      assert.deepEqual(d.nets(), c.left);
    });
  }
});

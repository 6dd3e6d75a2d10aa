import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { sshFailure, sshFault, sshOptions, sshShellArgv, sshTarget } from "./ssh";

const FIXTURES = join(__dirname, "..", "..", "test", "fixtures", "ssh");
const capture = (f: string) => readFileSync(join(FIXTURES, f), "utf8");

describe("sshTarget", () => {
  it("reads user, host and port, 22 by default; nothing for a local socket", () => {
    assert.deepEqual(sshTarget("ssh://gpu@box:2222"), { url: "ssh://gpu@box:2222", user: "gpu", host: "box", port: 2222 });
    assert.deepEqual(sshTarget("ssh://gpu@box.lan"), { url: "ssh://gpu@box.lan", user: "gpu", host: "box.lan", port: 22 });
    assert.equal(sshTarget("unix:///var/run/docker.sock"), undefined);
  });

  it("hands ssh the URL itself, so the port is not lost (ssh user@host:2222 would be a host named host:2222)", () => {
    const argv = sshShellArgv(sshTarget("ssh://gpu@box:2222")!);
    assert.deepEqual(argv.slice(-3), ["ssh://gpu@box:2222", "sh", "-s"]);
    assert.ok(sshOptions().includes("StrictHostKeyChecking=yes"));
    assert.ok(sshOptions().includes("BatchMode=yes"));
  });
});

describe("sshFault, on what OpenSSH 9.2 really printed (test/fixtures/ssh)", () => {
  const t = sshTarget("ssh://myia-gpu@127.0.0.1:2222")!;
  const cases: { file: string; want: RegExp }[] = [
    { file: "refused.txt", want: /: connection refused: sshd is not running on the box, or listens on another port/ },
    { file: "banner-timeout.txt", want: /: the port accepted the connection but no ssh server answered within 10 s/ },
    { file: "unknown-key.txt", want: /the host key of \[127\.0\.0\.1\]:2222 is not in your known_hosts, and an unknown key is never accepted: .*ssh-keyscan -p 2222 127\.0\.0\.1 >> ~\/\.ssh\/known_hosts$/ },
    { file: "changed-key.txt", want: /has CHANGED since it was added to \/tmp\/cap\/changed_kh \(it now sends SHA256:\S+\): someone may be intercepting.*ssh-keygen -f "\/tmp\/cap\/changed_kh" -R "\[127\.0\.0\.1\]:2222"/ },
    { file: "wrong-user.txt", want: /: the box refused user myia-gpu with this key: fix the user in host\.docker/ },
    { file: "wrong-key.txt", want: /add your public key to ~myia-gpu\/\.ssh\/authorized_keys/ },
    { file: "no-such-host.txt", want: /: cannot resolve the host name 127\.0\.0\.1; fix the host/ },
    { file: "dropped.txt", want: /: the connection dropped before the command finished; .*run the same command again/ },
  ];
  for (const c of cases) {
    it(`${c.file}: one line with the host, the cause and what to do`, () => {
      const line = sshFault(t, `exit status 255: running "ssh ...":\n${capture(c.file)}`);
      assert.ok(line, `no fault found in ${c.file}`);
      assert.match(line, /^ssh to myia-gpu@127\.0\.0\.1 port 2222: /);
      assert.match(line, c.want);
      assert.doesNotMatch(line, /\n/);
    });
  }

  it("is not ssh's failure when the remote command failed", () => {
    assert.equal(sshFault(t, "sh: 1: docker: not found"), undefined);
  });

  it("sshFailure: an output it does not know is still one line, with the host and ssh's last line", () => {
    const unknown = "Unable to negotiate with 127.0.0.1 port 2222: no matching host key type found. Their offer: ssh-rsa";
    assert.equal(sshFault(t, unknown), undefined);
    assert.equal(sshFailure(t, `exit status 255: running "ssh ...":\n${unknown}\n`), `ssh to myia-gpu@127.0.0.1 port 2222 failed: ${unknown}`);
    assert.match(sshFailure(t, capture("refused.txt")), /: connection refused: /);
  });
});

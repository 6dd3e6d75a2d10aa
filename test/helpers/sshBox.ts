/**
 * The test GPU host over ssh: the sshd of scripts/sshd.sh (Debian's OpenSSH
 * on 127.0.0.1, key-only, its own config), whose accounts reach the local
 * dockerd and the fake nvidia-smi. Starts it when it is not running.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

const REPO = join(__dirname, "..", "..");
const STATE = join(process.env.MYIA_CACHE ?? join(homedir(), ".cache", "myia-vllm"), "sshd");
const CLIENT = join(STATE, "client");
export const SSH_PORT = Number(process.env.MYIA_SSHD_PORT ?? 2222);

const sshd = (cmd: "start" | "stop" | "status") => execFileSync("bash", [join(REPO, "scripts/sshd.sh"), cmd], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

export function sshBox() {
  sshd("start");
  /** host.docker for one of the box's accounts. */
  const url = (user = "myia-gpu", port = SSH_PORT) => `ssh://${user}@127.0.0.1:${port}`;
  /** What the program's processes need: the ssh wrapper (our client config) first on PATH. */
  const env = (): Record<string, string> => ({ PATH: `${join(CLIENT, "bin")}:${process.env.PATH}` });
  /**
   * Another client config, as an operator with a different ~/.ssh would
   * have: a known_hosts of its own, or another key. Set it as MYIA_SSH_CONFIG.
   */
  const clientConfig = (o: { knownHosts?: string; identity?: string }): string => {
    const dir = mkdtempSync(join(tmpdir(), "myia-ssh-client-"));
    const file = join(dir, "config");
    writeFileSync(
      file,
      ["Host *", `  IdentityFile ${o.identity ?? join(CLIENT, "id_ed25519")}`, "  IdentitiesOnly yes", `  UserKnownHostsFile ${o.knownHosts ?? join(CLIENT, "known_hosts")}`, "  GlobalKnownHostsFile /dev/null", "  LogLevel ERROR", ""].join("\n"),
    );
    return file;
  };
  /** A fresh key pair the box has never seen; returns the private key's path. */
  const strangerKey = (): string => {
    const dir = mkdtempSync(join(tmpdir(), "myia-ssh-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "stranger", "-f", join(dir, "id")]);
    return join(dir, "id");
  };
  /** Runs a command on the box as an account, through the wrapper. */
  const run = (command: string, user = "myia-gpu") => execFileSync(join(CLIENT, "bin", "ssh"), ["-o", "BatchMode=yes", url(user), command], { encoding: "utf8" });
  return {
    url,
    env,
    clientConfig,
    strangerKey,
    run,
    log: join(STATE, "sshd.log"),
    readLog: () => readFileSync(join(STATE, "sshd.log"), "utf8"),
    stop: () => sshd("stop"),
    start: () => sshd("start"),
  };
}

/**
 * Reaching a GPU host over ssh: the options every ssh this program starts
 * gets, and one line, with the host, the cause and what to do, for each way
 * OpenSSH fails. Pure. The patterns are OpenSSH's own messages (9.2p1, as
 * Debian 12 ships it), captured in test/fixtures/ssh/.
 */

/** Seconds ssh waits for the TCP connection and then for the ssh handshake. */
export const SSH_CONNECT_TIMEOUT_SECONDS = 10;
/** Keepalives: a connection that goes silent is given up after 5 s × 3. */
export const SSH_ALIVE_INTERVAL_SECONDS = 5;
export const SSH_ALIVE_COUNT = 3;

/** The parts of an ssh:// Docker endpoint. */
export interface SshTarget {
  /** As given: ssh://user@host[:port], which ssh itself accepts as its destination. */
  url: string;
  user: string;
  host: string;
  port: number;
}

/** The ssh:// endpoint's parts, or undefined for a local socket. */
export function sshTarget(docker: string): SshTarget | undefined {
  const m = /^ssh:\/\/([^@\s]+)@([^\s/:]+)(?::(\d+))?$/.exec(docker);
  if (!m) return undefined;
  return { url: docker, user: m[1], host: m[2], port: m[3] ? Number(m[3]) : 22 };
}

/**
 * `-o` options for ssh. BatchMode: never a password or passphrase prompt (an
 * up would hang on it). StrictHostKeyChecking=yes: an unknown host key is
 * refused, never added silently, whatever the user's ssh config says.
 */
export function sshOptions(): string[] {
  return [
    "BatchMode=yes",
    "StrictHostKeyChecking=yes",
    `ConnectTimeout=${SSH_CONNECT_TIMEOUT_SECONDS}`,
    `ServerAliveInterval=${SSH_ALIVE_INTERVAL_SECONDS}`,
    `ServerAliveCountMax=${SSH_ALIVE_COUNT}`,
  ].flatMap((o) => ["-o", o]);
}

/** ssh's argv to run `sh -s` on the host (the script comes on stdin). */
export function sshShellArgv(t: SshTarget): string[] {
  return [...sshOptions(), t.url, "sh", "-s"];
}

/** known_hosts names a host on a port other than 22 as [host]:port. */
function knownHostsName(t: SshTarget): string {
  return t.port === 22 ? t.host : `[${t.host}]:${t.port}`;
}

function keyscan(t: SshTarget): string {
  return `ssh-keyscan ${t.port === 22 ? "" : `-p ${t.port} `}${t.host}`;
}

/**
 * One line for what ssh printed when it failed (exit 255), or undefined
 * when the output is not one of ssh's own failures (the remote command's).
 */
export function sshFault(t: SshTarget, output: string): string | undefined {
  const at = sshWhere(t);
  const name = knownHostsName(t);
  if (/Could not resolve hostname/.test(output)) {
    return `${at}: cannot resolve the host name ${t.host}; fix the host in host.docker, or your DNS or /etc/hosts`;
  }
  if (/port \d+: Connection refused/.test(output)) {
    return `${at}: connection refused: sshd is not running on the box, or listens on another port; start it, or fix the port in host.docker (ssh://user@host:port)`;
  }
  if (/port \d+: (Connection timed out|No route to host|Network is unreachable)|Connection timed out during banner exchange/.test(output)) {
    const why = /banner exchange/.test(output) ? "the port accepted the connection but no ssh server answered" : "no answer";
    return `${at}: ${why} within ${SSH_CONNECT_TIMEOUT_SECONDS} s: the box is down or a firewall drops the port; check that it is up and that \`ssh -p ${t.port} ${t.user}@${t.host}\` works from here`;
  }
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED/.test(output)) {
    const fp = /(SHA256:[A-Za-z0-9+/=]+)/.exec(output)?.[1];
    const file = /Offending \S+ key in (.+):\d+/.exec(output)?.[1] ?? "~/.ssh/known_hosts";
    return `${at}: the host key of ${name} has CHANGED since it was added to ${file}${fp ? ` (it now sends ${fp})` : ""}: someone may be intercepting the connection, or the box was reinstalled; only once you know which, remove the old key (ssh-keygen -f "${file}" -R "${name}") and add the new one`;
  }
  if (/No \S+ host key is known for|Host key verification failed/.test(output)) {
    return `${at}: the host key of ${name} is not in your known_hosts, and an unknown key is never accepted: compare \`${keyscan(t)} | ssh-keygen -lf -\` with the fingerprint on the box (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub), then add it: ${keyscan(t)} >> ~/.ssh/known_hosts`;
  }
  if (/Permission denied \(/.test(output)) {
    return `${at}: the box refused user ${t.user} with this key: fix the user in host.docker, or add your public key to ~${t.user}/.ssh/authorized_keys on the box (ssh-copy-id -p ${t.port} ${t.user}@${t.host})`;
  }
  if (/closed by remote host|Connection reset|Broken pipe|Timeout, server .* not responding|Connection closed by/.test(output)) {
    return `${at}: the connection dropped before the command finished; check that the box is up, then run the same command again (what finished before the drop is kept)`;
  }
  return undefined;
}

/**
 * One line for a command that only ssh can have failed (the probe script
 * itself never does): ssh's fault, or else its last line as it printed it.
 */
export function sshFailure(t: SshTarget, output: string): string {
  return sshFault(t, output) ?? `${sshWhere(t)} failed: ${output.trim().split("\n").pop()}`;
}

function sshWhere(t: SshTarget): string {
  return `ssh to ${t.user}@${t.host} port ${t.port}`;
}

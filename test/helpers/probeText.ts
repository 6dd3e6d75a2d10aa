/** Builds what the host probe prints, from nvidia-smi captures, for tests. */
export interface ProbeParts {
  gpus: string;
  apps?: string;
  runtimes?: string;
  containers?: string;
  /** This project's networks, a name a line. */
  networks?: string;
  /** The "own" section: this stack's container, for drift detection. */
  own?: string;
  /** Sections whose command fails, with the output it printed. */
  fail?: Record<string, string>;
}

export function probeText(p: ProbeParts): string {
  const section = (name: string, body: string) => {
    const failed = p.fail?.[name];
    return `### myia-probe ${name}\n${failed ?? body}\n### myia-probe status ${failed !== undefined ? 9 : 0}\n`;
  };
  return (
    section("gpus", p.gpus) +
    section("apps", p.apps ?? "") +
    section("runtimes", p.runtimes ?? '{"io.containerd.runc.v2":{"path":"runc"},"nvidia":{"path":"runc"},"runc":{"path":"runc"}}') +
    section("containers", p.containers ?? "") +
    section("networks", p.networks ?? "") +
    (p.own !== undefined ? section("own", p.own) : "")
  );
}

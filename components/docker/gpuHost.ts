import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { hostRamProblem, type StandbyFacts } from "../config/standby";
import { checkHost, gpuHoldersKey, gpuLease, standbyState } from "../host/checks";
import { HostProbe, OwnContainer, parseProbe, probeScript, type ProjectNetwork } from "../host/probe";
import { sshFailure, sshOptions, sshShellArgv, sshTarget } from "../host/ssh";

/** What the host grants a stack that passed its checks. */
export interface HostGrant {
  /** The lease label value, "<host>:gpus=0,1". */
  lease: string;
  /**
   * The running containers of other stacks on these GPUs, which the takeover
   * stops, with when each started: the takeover's trigger (gpuHoldersKey).
   */
  holdersKey: string;
  /** The container named as this stack's, as the host has it (drift detection). */
  own?: OwnContainer;
  /** This project's networks on the host, and who made them (drift detection). */
  networks: ProjectNetwork[];
}

export interface GpuHostArgs {
  /** Docker endpoint: unix:///var/run/docker.sock, or ssh://user@host for a remote GPU box. */
  docker: string;
  /** GPU indices the service will run on. */
  gpus: number[];
  /** The vLLM memory fraction the service asks for; the host must have that much free. */
  gpuMemoryUtilization: number;
  /** Per-GPU memory the memory plan assumed, MiB. */
  plannedGpuMemoryMiB: number;
  /** The stack deploying, so its own containers aren't counted against it. */
  stack: string;
  /** The name of the stack's container, to look for drift in it. */
  containerName?: string;
  /** Standby's plan (host.standby.enabled): the host's RAM is checked against it, and which model sleeps is read. */
  standby?: StandbyFacts;
}

/**
 * One GPU host: its Docker endpoint as an explicit provider, and its GPU
 * inventory read with nvidia-smi at preview and at up. A failed check fails
 * the preview with what is wrong and what to do.
 */
export class GpuHost extends pulumi.ComponentResource {
  /** The Docker provider every container on this host uses. */
  public readonly provider: docker.Provider;
  /** The host's GPUs, processes, Docker runtimes and this project's containers. */
  public readonly probe: pulumi.Output<HostProbe | undefined>;
  /**
   * Resolves once every check passed; rejects with a RunError listing what
   * failed. The program awaits it before it declares any container, so a host
   * that fails its checks fails the preview with that list and nothing else.
   */
  public readonly checked: Promise<HostGrant>;

  constructor(name: string, args: GpuHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("myia:host:GpuHost", name, {}, opts);
    const ssh = sshTarget(args.docker);
    // Over ssh the provider gets the probe's options: no prompt, no unknown
    // host key accepted, a connect timeout, keepalives.
    this.provider = new docker.Provider(`${name}-docker`, { host: args.docker, sshOpts: ssh ? sshOptions() : undefined }, { parent: this });

    // local.run is an invoke, so it runs at preview as well as at up: the
    // checks see the host as it is now, not as it was at the last up. Over
    // ssh the script runs on the box, so nvidia-smi and docker are the box's.
    const probe = command.local
      .run(
        ssh
          ? { command: ["ssh", ...sshShellArgv(ssh)].join(" "), stdin: probeScript(args.containerName, { standby: args.standby !== undefined }), logging: "none" }
          : { command: probeScript(args.containerName, { standby: args.standby !== undefined }), environment: { DOCKER_HOST: args.docker }, logging: "none" },
        { parent: this },
      )
      .then(
        (r) => parseProbe(r.stdout),
        (e: Error) => {
          // The probe script itself never fails: a failure is ssh's, said in one line.
          const why = ssh ? sshFailure(ssh, e.message) : lastLine(e.message);
          throw new pulumi.RunError(`host ${name}: cannot probe the host: ${why}`);
        },
      );
    // Settled either way: a probe that failed fails `checked` (one error),
    // not also this output when the component's outputs are serialized.
    this.probe = pulumi.output(probe.catch(() => undefined));
    this.checked = probe.then((probe) => {
      const { errors, notes } = checkHost(probe, {
        stack: args.stack,
        gpus: args.gpus,
        gpuMemoryUtilization: args.gpuMemoryUtilization,
        plannedGpuMemoryMiB: args.plannedGpuMemoryMiB,
        sshUser: ssh?.user,
      });
      if (args.standby) {
        const ram = hostRamProblem(args.standby, probe.memTotalMiB);
        if (ram) errors.push(ram);
        const st = standbyState(probe, args.stack, args.gpus, args.containerName ?? "");
        notes.push(...st.notes);
        for (const w of st.warnings) pulumi.log.warn(w, this);
      }
      for (const n of notes) pulumi.log.info(n, this);
      if (errors.length > 0) {
        throw new pulumi.RunError([`host ${name}: ${errors.length} check(s) failed:`, ...errors.map((e) => `  ${e}`)].join("\n"));
      }
      return { lease: gpuLease(name, args.gpus), holdersKey: gpuHoldersKey(probe, args.stack, args.gpus, args.standby ? args.containerName : undefined), own: probe.own, networks: probe.networks };
    });
    this.registerOutputs({ probe: this.probe });
  }
}

function lastLine(text: string): string {
  return text.trim().split("\n").pop() ?? "no output";
}

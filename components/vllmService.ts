import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { ValidatedProfile } from "./config/schema";
import type { GpuHost } from "./gpuHost";
import { PROJECT_LABEL, PROJECT_NAME } from "./host/probe";
import { readyGateScript } from "./readyGate";

export interface VllmServiceArgs {
  /** The validated profile: model, flags, ports, mounts, healthcheck. */
  profile: ValidatedProfile;
  /** The stack deploying it, recorded on the container's labels. */
  stack: string;
  /** The host whose Docker runs the container. */
  host: GpuHost;
  /** vLLM's API key, passed only as VLLM_API_KEY. */
  apiKey: pulumi.Input<string>;
  /** The Hugging Face token, passed only as HF_TOKEN. */
  hfToken: pulumi.Input<string>;
}

// Where the official image looks for its caches.
const HF_HOME = "/root/.cache/huggingface";
const VLLM_CACHE_ROOT = "/root/.cache/vllm";

/** The image reference: a pinned tag, plus its digest when one is given. Never `latest`. */
export function imageRef(p: ValidatedProfile): string {
  return `${p.image.repository}:${p.image.tag}${p.image.digest ? `@${p.image.digest}` : ""}`;
}

/**
 * A hash of everything that defines the running container but that
 * `pulumi refresh` cannot read back (env and labels): kept as a label so a
 * drift check can compare it with what the container really carries.
 */
export function configHash(p: ValidatedProfile, stack: string): string {
  const defining = { stack, image: imageRef(p), argv: p.argv, gpus: p.host.gpus, container: p.container, mounts: [p.host.hfCachePath, p.host.compileCachePath] };
  return createHash("sha256").update(JSON.stringify(defining)).digest("hex").slice(0, 16);
}

/**
 * The vLLM OpenAI-compatible server for one profile: the pinned image, the
 * container with its rendered argv, GPU pinning, caches, secrets and
 * healthcheck, and a gate that holds `pulumi up` until the model answers.
 */
export class VllmService extends pulumi.ComponentResource {
  public readonly image: docker.RemoteImage;
  public readonly container: docker.Container;
  public readonly ready: command.local.Command;
  /** OpenAI-compatible base URL. */
  public readonly endpoint: string;

  constructor(name: string, args: VllmServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("myia:vllm:VllmService", name, {}, opts);
    const p = args.profile;
    const provider = args.host.provider;
    const port = p.server.port;

    // keepLocally: the other profile and a rollback need the image on the
    // host; destroying one stack must not delete what another uses.
    this.image = new docker.RemoteImage(`${name}-image`, { name: imageRef(p), keepLocally: true }, { parent: this, provider });

    const env = pulumi.secret(
      pulumi.all([args.apiKey, args.hfToken]).apply(([apiKey, hfToken]) => [
        `VLLM_API_KEY=${apiKey}`,
        `HF_TOKEN=${hfToken}`,
        // With the 4.x provider only gpus="all" is reliable, so the GPU set
        // is pinned by the nvidia runtime reading this variable.
        `NVIDIA_VISIBLE_DEVICES=${p.host.gpus.join(",")}`,
        `HF_HOME=${HF_HOME}`,
        `VLLM_CACHE_ROOT=${VLLM_CACHE_ROOT}`,
      ]),
    );
    const labels = pulumi.output(args.host.lease).apply((lease) =>
      Object.entries({
        [PROJECT_LABEL]: PROJECT_NAME,
        "org.myia.stack": args.stack,
        "org.myia.profile": p.profile,
        "org.myia.model": p.model.id,
        "org.myia.vllm-version": p.vllmVersion,
        "org.myia.gpu-lease": lease,
        "org.myia.config-hash": configHash(p, args.stack),
      }).map(([label, value]) => ({ label, value })),
    );
    const hc = p.container.healthcheck;
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: p.server.containerName,
        image: this.image.imageId,
        command: p.argv,
        envs: env,
        runtime: "nvidia",
        ipcMode: p.container.ipcHost ? "host" : undefined,
        shmSize: p.container.shmSizeMiB,
        ports: [{ internal: port, external: port }],
        restart: p.container.restart,
        mustRun: true,
        labels,
        volumes: [
          { hostPath: p.host.hfCachePath, containerPath: HF_HOME },
          { hostPath: p.host.compileCachePath, containerPath: VLLM_CACHE_ROOT },
        ],
        healthcheck: {
          tests: ["CMD", "curl", "-fsS", `http://localhost:${port}/health`],
          interval: `${hc.intervalSeconds}s`,
          timeout: `${hc.timeoutSeconds}s`,
          retries: hc.retries,
          startPeriod: `${hc.startPeriodSeconds}s`,
        },
        logDriver: "json-file",
        logOpts: { "max-size": "50m", "max-file": "3" },
      },
      {
        parent: this,
        provider,
        // A fixed name, port and GPU set cannot be held by two containers at
        // once: the old one must go before the new one is created.
        deleteBeforeReplace: true,
        // The provider updates these in place without applying them to the
        // running container (a healthcheck change is silently lost), or
        // cannot read them back on refresh: only a new container is certain.
        replaceOnChanges: ["healthcheck", "envs", "labels", "command", "runtime", "volumes", "ports"],
      },
    );

    this.ready = new command.local.Command(
      `${name}-ready`,
      {
        create: readyGateScript({ containerName: p.server.containerName, port, timeoutSeconds: p.container.readyTimeoutSeconds }),
        environment: { DOCKER_HOST: p.host.docker },
        // A new container (new id) must pass the gate again.
        triggers: [this.container.id],
      },
      { parent: this, dependsOn: [this.container] },
    );

    this.endpoint = `http://${p.host.address}:${port}/v1`;
    this.registerOutputs({ endpoint: this.endpoint, containerId: this.container.id, ready: this.ready.stdout });
  }
}

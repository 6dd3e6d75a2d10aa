import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ValidatedProfile } from "./config/schema";
import type { GpuHost } from "./gpuHost";
import { healthcheck, imageRef, labels, plainEnv, secretEnv, volumes } from "./containerSpec";
import { readyGateScript } from "./readyGate";

export interface VllmServiceArgs {
  /** The validated profile: model, flags, ports, mounts, healthcheck. */
  profile: ValidatedProfile;
  /** The stack deploying it, recorded on the container's labels. */
  stack: string;
  /** The host whose Docker runs the container. */
  host: GpuHost;
  /** The GPU lease the host granted after its checks (GpuHost.checked). */
  lease: string;
  /** vLLM's API key, passed only as VLLM_API_KEY. */
  apiKey: pulumi.Input<string>;
  /** The Hugging Face token, passed only as HF_TOKEN. */
  hfToken: pulumi.Input<string>;
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

    const envs = pulumi.secret(pulumi.all([args.apiKey, args.hfToken]).apply(([apiKey, hfToken]) => [...secretEnv(apiKey, hfToken), ...plainEnv(p)]));
    const containerLabels = Object.entries(labels(p, args.stack, args.lease)).map(([label, value]) => ({ label, value }));
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: p.server.containerName,
        image: this.image.imageId,
        command: p.argv,
        envs,
        runtime: "nvidia",
        ipcMode: p.container.ipcHost ? "host" : undefined,
        shmSize: p.container.shmSizeMiB,
        ports: [{ internal: port, external: port }],
        restart: p.container.restart,
        mustRun: true,
        labels: containerLabels,
        volumes: volumes(p),
        healthcheck: healthcheck(p),
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

import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ValidatedProfile } from "../config/schema";
import type { GpuHost, HostGrant } from "./gpuHost";
import { configHash, gpuRequest, healthcheck, labelList, labels, plainEnv, secretEnv, volumes } from "./containerSpec";
import { imageRef } from "../vllm/image";
import { Gateway } from "./gateway";
import type { ClientKey } from "../gateway/caddyfile";
import { networkEnsureScript, networkGoneWarning, networkLabels, networkRemoveScript } from "./gateway/network";
import { gatewayContainerName, networkName } from "./gateway/spec";
import { gatewayImageRef, gatewayScheme } from "../gateway/render";
import { ownDrift } from "../host/drift";
import { readyGateScript } from "./readyGate";
import { takeoverScript } from "./takeover";
import { prefetchWeightsScript } from "./weights";

export interface VllmServiceArgs {
  /** The validated profile: model, flags, ports, mounts, healthcheck. */
  profile: ValidatedProfile;
  /** The stack deploying it, recorded on the container's labels. */
  stack: string;
  /** The host whose Docker runs the container. */
  host: GpuHost;
  /** What the host granted after its checks (GpuHost.checked): the lease and the GPUs' holders. */
  grant: HostGrant;
  /** vLLM's API key, passed only as VLLM_API_KEY. */
  apiKey: pulumi.Input<string>;
  /** The Hugging Face token, passed only as HF_TOKEN. */
  hfToken: pulumi.Input<string>;
  /** The keys the gateway accepts, by client (the gateway alone holds them). */
  clients: pulumi.Input<ClientKey[]>;
  /** gateway.tls.mode provided: the certificate and key the gateway serves. */
  providedTls?: { certificate: pulumi.Input<string>; privateKey: pulumi.Input<string> };
}

/**
 * The vLLM OpenAI-compatible server for one profile: the pinned image, the
 * container with its rendered argv, GPU pinning, caches, secrets and
 * healthcheck, and a gate that holds `pulumi up` until the model answers.
 */
export class VllmService extends pulumi.ComponentResource {
  public readonly image: docker.RemoteImage;
  public readonly weights: command.local.Command;
  public readonly takeover: command.local.Command;
  public readonly container: docker.Container;
  public readonly ready: command.local.Command;
  /** Makes the stack's private network (vLLM and its gateway); absent with gateway.enabled false. */
  public readonly network?: command.local.Command;
  /** The network as the docker provider made it, on stacks deployed before the command (see below). */
  public readonly legacyNetwork?: docker.Network;
  /** The gateway's image, pulled before the takeover as vLLM's is; absent with gateway.enabled false. */
  public readonly gatewayImage?: docker.RemoteImage;
  /** Caddy on the public port, in front of vLLM; absent with gateway.enabled false. */
  public readonly gateway?: Gateway;
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
    const containerLabels = labelList(labels(p, args.stack, args.grant.lease));
    const dockerEnv = { DOCKER_HOST: p.host.docker };
    // Which other stack holds the GPUs at this up, and since when. The
    // takeover and the gate run again whenever that changes: on every
    // migration or rollback, even to and from the same stack.
    const holders = args.grant.holdersKey;

    // The weights, into the shared HF cache while the other model still
    // serves; again only when the model or the image changes.
    this.weights = new command.local.Command(
      `${name}-weights`,
      {
        create: prefetchWeightsScript({ image: imageRef(p), model: p.model.id, hfCachePath: p.host.hfCachePath, envNames: Object.keys(p.container.env) }),
        // Only the token is secret (a secret leaf in state); the rest stays readable.
        environment: { ...p.container.env, ...dockerEnv, HF_TOKEN: pulumi.secret(args.hfToken) },
        triggers: [p.model.id, imageRef(p)],
      },
      { parent: this, dependsOn: [this.image] },
    );

    // Drift the provider cannot see: this stack's container replaced by hand
    // with other env or labels (refresh then loses the old container, and the
    // new one's name blocks the create). Only a verdict leaves the apply.
    const drift = pulumi.unsecret(
      pulumi.all([args.apiKey, args.hfToken]).apply(([apiKey, hfToken]) => {
        const why = ownDrift(args.grant.own, { stack: args.stack, configHash: configHash(p, args.stack), env: [...secretEnv(apiKey, hfToken), ...plainEnv(p)] });
        if (why) pulumi.log.warn(`container ${p.server.containerName} differs from the one declared (${why}): changed by hand, or config not applied yet; up replaces it`, this);
        return why ?? "";
      }),
    );

    // With the gateway, vLLM publishes no port: it is on a network of its own
    // with the gateway only (and, on a user-defined network, not on Docker's
    // default bridge where any container could reach it by address). A
    // command makes it, not the provider's Network: see gateway/network.ts.
    const net = networkName(args.stack);
    const onHost = args.grant.networks.find((n) => n.name === net);
    // This stack's container, on the network (not one deployed without the gateway).
    const onNetwork = args.grant.own?.networkMode === net;
    // A deployed stack whose network is gone: the takeover makes it again.
    const networkGone = p.gateway.enabled && onNetwork && !onHost;
    if (networkGone) pulumi.log.warn(networkGoneWarning(net), this);
    // The name as a plain value (known at preview, so no container shows a
    // diff): the containers wait for the network through the takeover, which
    // depends on it, and the gateway's container on vLLM's.
    const networkMode = p.gateway.enabled ? net : undefined;
    if (p.gateway.enabled) {
      this.network = new command.local.Command(
        `${name}-network`,
        { create: networkEnsureScript(net, args.stack), delete: networkRemoveScript(net), environment: dockerEnv, triggers: [net] },
        { parent: this },
      );
      if (onHost && onHost.owner !== "command" && onNetwork) {
        // Made by the docker provider (releases before the command): still in
        // this stack's state, where deleting it would fail while the model
        // serves on it. Declared as it was, but retained on delete; the next
        // takeover of this stack makes the network again as ours, and the
        // stack then drops this from its state without touching Docker.
        this.legacyNetwork = new docker.Network(
          `${name}-network`,
          { name: net, driver: "bridge", labels: networkLabels(args.stack) },
          { parent: this, provider, retainOnDelete: true },
        );
      }
      this.gatewayImage = new docker.RemoteImage(`${name}-gateway-image`, { name: gatewayImageRef(p), keepLocally: true }, { parent: this, provider });
    }

    // With the image and weights in place (and the gateway's image and the
    // network), and before the container starts:
    // remove this stack's container if it drifted, and stop (and keep) the
    // other stack's container on these GPUs.
    this.takeover = new command.local.Command(
      `${name}-takeover`,
      {
        create: drift.apply((why) =>
          takeoverScript({
            stack: args.stack,
            gpus: p.host.gpus,
            drainSeconds: p.gateway.enabled ? p.gateway.drainSeconds : 0,
            drifted: why ? { name: p.server.containerName, why } : undefined,
            network: p.gateway.enabled ? { name: net, containers: [p.server.containerName, gatewayContainerName(p)] } : undefined,
            standby: p.standby ? { ownContainer: p.server.containerName, sleepTimeoutSeconds: p.standby.sleepTimeoutSeconds, wakeTimeoutSeconds: p.standby.wakeTimeoutSeconds } : undefined,
          }),
        ),
        environment: dockerEnv,
        triggers: networkGone ? [holders, drift, "network-gone"] : [holders, drift],
      },
      { parent: this, dependsOn: [this.image, this.weights, ...(this.network ? [this.network] : []), ...(this.legacyNetwork ? [this.legacyNetwork] : []), ...(this.gatewayImage ? [this.gatewayImage] : [])] },
    );
    this.container = new docker.Container(
      `${name}-container`,
      {
        name: p.server.containerName,
        image: this.image.imageId,
        command: p.argv,
        envs,
        deviceRequests: [gpuRequest(p)],
        ipcMode: p.container.ipcHost ? "host" : undefined,
        shmSize: p.container.shmSizeMiB,
        networkMode,
        ports: networkMode ? [] : [{ internal: port, external: port }],
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
        dependsOn: [this.takeover],
        // A fixed name, port and GPU set cannot be held by two containers at
        // once: the old one must go before the new one is created.
        deleteBeforeReplace: true,
        // The provider updates these in place without applying them to the
        // running container (a healthcheck change is silently lost), or
        // cannot read them back on refresh: only a new container is certain.
        replaceOnChanges: ["healthcheck", "envs", "labels", "command", "deviceRequests", "volumes", "ports", "networkMode"],
      },
    );

    this.ready = new command.local.Command(
      `${name}-ready`,
      {
        create: readyGateScript({
          containerName: p.server.containerName,
          port,
          timeoutSeconds: p.container.readyTimeoutSeconds,
          // Standby: a woken model is gated on a real completion, not only /health.
          canary: p.standby ? { model: p.model.servedName ?? p.model.id, image: p.vision !== undefined, timeoutSeconds: 120 } : undefined,
        }),
        environment: dockerEnv,
        // A new container (new id), or one started again after a takeover, must pass the gate again.
        triggers: [this.container.id, holders],
      },
      { parent: this, dependsOn: [this.container] },
    );

    if (this.network && this.gatewayImage) {
      this.gateway = new Gateway(
        `${name}-gateway`,
        { profile: p, stack: args.stack, provider, image: this.gatewayImage, network: networkMode!, apiKey: args.apiKey, clients: args.clients, providedTls: args.providedTls, upstream: this.container, upstreamReady: this.ready, holdersKey: holders },
        { parent: this },
      );
    }

    this.endpoint = `${gatewayScheme(p)}://${p.host.address}:${port}/v1`;
    this.registerOutputs({ endpoint: this.endpoint, containerId: this.container.id, ready: this.ready.stdout, gateway: this.gateway?.container.name });
  }
}

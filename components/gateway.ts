import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ValidatedProfile } from "./config/schema";
import { labelList } from "./containerSpec";
import { gatewayGateScript } from "./gateway/gate";
import { gatewayContainerName, gatewayLabels, gatewayRender, GATEWAY_KEY_ENV } from "./gateway/spec";
import { gatewayCaddyfile } from "./gateway/caddyfile";
import { UNGUARDED_ROUTES } from "./vllm/routes";

export interface GatewayArgs {
  /** The validated profile: port, container names, gateway settings. */
  profile: ValidatedProfile;
  /** The stack deploying it, recorded on the container's labels. */
  stack: string;
  /** The Docker provider of the GPU host. */
  provider: docker.Provider;
  /** The pinned Caddy image (VllmService pulls it before the takeover, with vLLM's). */
  image: docker.RemoteImage;
  /** The stack's private network, where vLLM is reachable by its container name. */
  network: pulumi.Input<string>;
  /** vLLM's API key, which the gateway requires as a Bearer token; passed only as an environment variable. */
  apiKey: pulumi.Input<string>;
  /** The vLLM container; the gateway starts beside it, and its gate runs curl there. */
  upstream: docker.Container;
  /** vLLM's ready gate: the gateway's gate runs after it. */
  upstreamReady: command.local.Command;
  /** Re-runs the gate when it changes (another stack's holders, as for vLLM's gate). */
  holdersKey: string;
}

/**
 * Caddy in front of vLLM, on the stack's public port: /health for everyone,
 * /v1/* with the key, nothing else (vLLM checks its key only under /v1).
 * Its Caddyfile holds no secret; the key reaches it as a secret
 * environment variable, read at each request.
 */
export class Gateway extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  public readonly ready: command.local.Command;

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("myia:vllm:Gateway", name, {}, opts);
    const p = args.profile;
    const provider = args.provider;
    const containerName = gatewayContainerName(p);
    const caddyfile = gatewayCaddyfile(gatewayRender(p));

    this.container = new docker.Container(
      `${name}-container`,
      {
        name: containerName,
        image: args.image.imageId,
        envs: pulumi.secret(pulumi.output(args.apiKey).apply((key) => [`${GATEWAY_KEY_ENV}=${key}`])),
        uploads: [{ file: "/etc/caddy/Caddyfile", content: caddyfile }],
        networkMode: args.network,
        ports: [{ internal: p.server.port, external: p.server.port }],
        restart: "unless-stopped",
        mustRun: true,
        labels: labelList(gatewayLabels(p, args.stack, caddyfile)),
        logDriver: "json-file",
        logOpts: { "max-size": "10m", "max-file": "3" },
      },
      {
        parent: this,
        provider,
        // Started while vLLM loads (it answers /health with 502 until then),
        // so the port serves the moment the model does.
        dependsOn: [args.upstream],
        // The public port cannot be held by two containers at once.
        deleteBeforeReplace: true,
        // As for vLLM's container: what the provider would update in place
        // without applying it, or cannot read back, forces a new container.
        replaceOnChanges: ["envs", "labels", "uploads", "ports", "networkMode"],
      },
    );
    this.ready = new command.local.Command(
      `${name}-ready`,
      {
        create: gatewayGateScript({ fromContainer: p.server.containerName, gatewayName: containerName, port: p.server.port, timeoutSeconds: 60, refusedPath: UNGUARDED_ROUTES[0].path }),
        environment: { DOCKER_HOST: p.host.docker },
        triggers: [this.container.id, args.upstream.id, args.holdersKey],
      },
      // After vLLM's own gate: if the model never comes up, that gate fails
      // the up with its logs, and this one never waits in vain.
      { parent: this, dependsOn: [this.container, args.upstreamReady] },
    );
    this.registerOutputs({ containerName, ready: this.ready.stdout });
  }
}

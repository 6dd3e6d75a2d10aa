import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ValidatedProfile } from "../config/schema";
import { labelList } from "./containerSpec";
import { caRootScript, clientsScript, gatewayGateScript } from "./gateway/gate";
import { CA_ROOT_PATH, CA_VOLUME, gatewayContainerName, gatewayLabels } from "./gateway/spec";
import { ADMIN_SOCKET, DRAIN_FILE, gatewayRender, tlsNames, UPSTREAM_KEY_ENV } from "../gateway/render";
import { ClientKey, gatewayCaddyfile, PROVIDED_CERT, PROVIDED_KEY } from "../gateway/caddyfile";
import { UNGUARDED_ROUTES } from "../vllm/routes";

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
  /** vLLM's own API key, which the gateway sends upstream; passed only as an environment variable. */
  apiKey: pulumi.Input<string>;
  /** The clients' keys the gateway accepts, by client name; loaded into the running gateway, never into its container's definition. */
  clients: pulumi.Input<ClientKey[]>;
  /** The certificate and key the gateway serves with gateway.tls.mode provided (PEM, secrets). */
  providedTls?: { certificate: pulumi.Input<string>; privateKey: pulumi.Input<string> };
  /** The vLLM container; the gateway starts beside it, and its gate runs curl there. */
  upstream: docker.Container;
  /** vLLM's ready gate: the gateway's gate runs after it. */
  upstreamReady: command.local.Command;
  /** Re-runs the gate when it changes (another stack's holders, as for vLLM's gate). */
  holdersKey: string;
}

/** The environment variable the clients' Caddyfile travels in, from the engine to `caddy reload`. */
const CLIENTS_CONFIG_ENV = "MYIA_GATEWAY_CONFIG";

/**
 * Caddy in front of vLLM, on the stack's public port, over HTTPS by default:
 * /health for everyone, /v1/* with a client's key, nothing else (vLLM checks
 * its key only under /v1). The container holds no client key: they are
 * loaded into the running gateway (a graceful reload), so adding or revoking
 * one replaces neither the gateway nor vLLM. vLLM gets its own key, which
 * only the gateway holds.
 */
export class Gateway extends pulumi.ComponentResource {
  public readonly container: docker.Container;
  /** Loads the clients' keys into the running gateway. */
  public readonly clients: command.local.Command;
  public readonly ready: command.local.Command;
  /** The root certificate of the host's CA (gateway.tls.mode internal), for clients to trust; public. */
  public readonly caCertificate?: pulumi.Output<string>;

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("myia:vllm:Gateway", name, {}, opts);
    const p = args.profile;
    const provider = args.provider;
    const containerName = gatewayContainerName(p);
    const render = gatewayRender(p);
    // The container's own Caddyfile refuses every key; the clients' one is loaded below.
    const caddyfile = gatewayCaddyfile(render);
    const tls = p.gateway.tls.mode;
    const dockerEnv = { DOCKER_HOST: p.host.docker };
    const tlsUploads = args.providedTls
      ? [
          { file: PROVIDED_CERT, content: pulumi.secret(args.providedTls.certificate) },
          { file: PROVIDED_KEY, content: pulumi.secret(args.providedTls.privateKey) },
        ]
      : [];

    this.container = new docker.Container(
      `${name}-container`,
      {
        name: containerName,
        image: args.image.imageId,
        envs: pulumi.secret(pulumi.output(args.apiKey).apply((key) => [`${UPSTREAM_KEY_ENV}=${key}`])),
        // --resume: a restarted gateway starts from the config last loaded
        // (its clients), kept in the container; a new one from the Caddyfile.
        command: ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile", "--resume"],
        uploads: [{ file: "/etc/caddy/Caddyfile", content: caddyfile }, ...tlsUploads],
        // Caddy's CA and what it issued, kept on the host for every gateway.
        volumes: tls === "internal" ? [{ volumeName: CA_VOLUME, containerPath: "/data" }] : [],
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
        replaceOnChanges: ["envs", "labels", "uploads", "ports", "networkMode", "command", "volumes"],
      },
    );
    const clients = pulumi.output(args.clients);
    this.clients = new command.local.Command(
      `${name}-clients`,
      {
        // The names only (the script prints them): a key added or revoked is
        // an update of this command alone, the environment's secret below.
        create: clients.apply((cs) => clientsScript({ gatewayName: containerName, adminSocket: ADMIN_SOCKET, configEnv: CLIENTS_CONFIG_ENV, clients: cs.map((c) => c.name), timeoutSeconds: 30 })),
        environment: { ...dockerEnv, [CLIENTS_CONFIG_ENV]: pulumi.secret(clients.apply((cs) => gatewayCaddyfile(render, cs))) },
        // A new gateway starts from its keyless Caddyfile: load the clients again.
        triggers: [this.container.id],
      },
      { parent: this, dependsOn: [this.container] },
    );
    if (tls === "internal") {
      this.caCertificate = new command.local.Command(
        `${name}-ca`,
        { create: caRootScript(containerName, CA_ROOT_PATH, 30), environment: dockerEnv, logging: "stderr", triggers: [this.container.id] },
        { parent: this, dependsOn: [this.container] },
      ).stdout;
    }
    this.ready = new command.local.Command(
      `${name}-ready`,
      {
        create: gatewayGateScript({
          fromContainer: p.server.containerName,
          gatewayName: containerName,
          port: p.server.port,
          timeoutSeconds: 60,
          refusedPath: UNGUARDED_ROUTES[0].path,
          drainFile: DRAIN_FILE,
          tls: { mode: tls, name: tlsNames(p)[0], caRoot: CA_ROOT_PATH },
        }),
        environment: dockerEnv,
        triggers: [this.container.id, args.upstream.id, args.holdersKey],
      },
      // After vLLM's own gate: if the model never comes up, that gate fails
      // the up with its logs, and this one never waits in vain. After the
      // clients' config, so the port is ready for them when up returns.
      { parent: this, dependsOn: [this.container, this.clients, args.upstreamReady] },
    );
    this.registerOutputs({ containerName, ready: this.ready.stdout, caCertificate: this.caCertificate });
  }
}

/**
 * `npm run ca`: the root certificate of the CA the gateways serve HTTPS with
 * (gateway.tls.mode internal: Caddy's own CA, made once per host and kept in
 * the Docker volume myia-vllm-ca), for clients to trust. Public: its key
 * never leaves that volume.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { CA_ROOT_PATH, gatewayContainerName } from "../components/docker/gateway/spec";
import { parseCli } from "./lib/cli";
import { loadStack } from "./lib/stacks";

const USAGE = `usage: npm run ca -- --stack <name> [--out ca.pem] [--dir <project>]

Prints (or writes to --out) the root certificate of the CA that the stack's gateway serves HTTPS
with (gateway.tls.mode internal). Clients trust it, e.g.:
  npm run ca -- --stack medium-vl --out myia-ca.pem
  curl --cacert myia-ca.pem https://gpu-box:5003/health
  NODE_EXTRA_CA_CERTS=myia-ca.pem node app.js        # Node, the OpenAI SDK
  SSL_CERT_FILE=myia-ca.pem python app.py            # Python's openai (httpx)
It reads the stack's caCertificate output when the engine can (PULUMI_BACKEND_URL or a login),
else the gateway's container on the host (host.docker), once the stack is deployed.
  --stack, -s <name>   the stack
  --out, -o <file>     write the PEM there instead of printing it
  --dir <project>      the project folder (default: .)
Exit: 0 printed, 1 no CA (not deployed, or TLS not internal), 2 usage.`;

async function fromOutputs(stack: string, dir: string): Promise<string | undefined> {
  try {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const s = await LocalWorkspace.selectStack({ stackName: stack, workDir: dir });
    const ca = (await s.outputs()).caCertificate?.value;
    return ca ? String(ca) : undefined;
  } catch {
    return undefined;
  }
}

function fromHost(docker: string, container: string): string | undefined {
  try {
    const tar = execFileSync("docker", ["cp", `${container}:${CA_ROOT_PATH}`, "-"], { env: { ...process.env, DOCKER_HOST: docker }, stdio: ["ignore", "pipe", "ignore"] });
    const pem = execFileSync("tar", ["-xO"], { input: tar }).toString();
    return pem.includes("BEGIN CERTIFICATE") ? pem : undefined;
  } catch {
    return undefined;
  }
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const values = parseCli(argv, { stack: { type: "string", short: "s" }, out: { type: "string", short: "o" }, dir: { type: "string", default: "." } }, USAGE);
  if (typeof values === "number") return values;
  if (!values.stack) {
    console.error(`--stack is required\n${USAGE.split("\n")[0]}`);
    return 2;
  }
  const dir = resolve(values.dir);
  let profile;
  try {
    profile = loadStack(values.stack, dir);
  } catch (e) {
    console.error((e as Error).message.split("\n").slice(0, 12).join("\n"));
    return 1;
  }
  if (!profile.gateway.enabled || profile.gateway.tls.mode !== "internal") {
    console.error(`stack ${values.stack}: gateway.tls.mode is ${profile.gateway.enabled ? profile.gateway.tls.mode : "unused (gateway.enabled false)"}, so there is no CA of ours to trust${profile.gateway.tls.mode === "provided" ? ": clients trust the CA that issued your certificate" : ""}`);
    return 1;
  }
  const pem = (await fromOutputs(values.stack, dir)) ?? fromHost(profile.host.docker, gatewayContainerName(profile));
  if (!pem) {
    console.error(`stack ${values.stack}: no CA yet; the gateway makes it on its first start: run \`pulumi up --stack ${values.stack}\``);
    return 1;
  }
  const text = pem.trim() + "\n";
  if (values.out) {
    writeFileSync(values.out, text);
    console.error(`wrote ${values.out}: the root certificate of the gateways' CA on host ${profile.host.name}`);
  } else process.stdout.write(text);
  return 0;
}

if (require.main === module) void main().then((code) => (process.exitCode = code));

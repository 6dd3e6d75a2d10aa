import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UNGUARDED_ROUTES } from "../vllm/routes";
import { defaultSni, gatewayCaddyfile, GatewayRender, PROVIDED_CERT, PROVIDED_KEY } from "./caddyfile";

const base: GatewayRender = {
  port: 5003,
  upstream: "vllm-vl:5003",
  upstreamKeyEnv: "MYIA_UPSTREAM_KEY",
  adminSocket: "/config/caddy-admin.sock",
  drainFile: "/config/myia-drain",
  tls: { mode: "internal", names: ["gpu-box", "localhost", "127.0.0.1", "fd00::1"] },
  maxBodyBytes: 16 * 2 ** 20,
  expose: [],
};
const clients = [
  { name: "app-a", key: "sk-aaaaaaaaaaaaaaaaaaaa" },
  { name: "app-b", key: "sk-bbbbbbbbbbbbbbbbbbbb" },
];

describe("gatewayCaddyfile", () => {
  const text = gatewayCaddyfile(base);

  it("serves HTTPS on the public port for every name, with Caddy's CA, and proxies to vLLM by its name on the private network", () => {
    assert.match(text, /^https:\/\/gpu-box:5003, https:\/\/localhost:5003, https:\/\/127\.0\.0\.1:5003, https:\/\/\[fd00::1\]:5003 \{$/m);
    assert.match(text, /^\ttls internal$/m);
    assert.match(text, /^\tskip_install_trust$/m);
    assert.match(text, /^\tdefault_sni fd00::1$/m, "a client by IP sends no SNI: it gets the first non-loopback address's certificate");
    assert.equal(defaultSni(["localhost", "127.0.0.1"]), "127.0.0.1");
    assert.equal(defaultSni(["gpu-box", "192.168.1.20", "127.0.0.1"]), "192.168.1.20");
    assert.equal(defaultSni(["gpu-box"]), undefined);
    assert.equal(text.match(/reverse_proxy vllm-vl:5003 \{/g)?.length, 2, "only /health and /v1 are proxied");
  });

  it("serves a provided certificate from its files, or plain HTTP when TLS is off", () => {
    const provided = gatewayCaddyfile({ ...base, tls: { mode: "provided", names: ["gpu.example.org"] } });
    assert.match(provided, new RegExp(`^\\ttls ${PROVIDED_CERT} ${PROVIDED_KEY}$`, "m"));
    assert.doesNotMatch(provided, /skip_install_trust|tls internal/);
    const plain = gatewayCaddyfile({ ...base, tls: { mode: "off", names: [] } });
    assert.match(plain, /^:5003 \{$/m);
    assert.match(plain, /^\tauto_https off$/m);
    assert.doesNotMatch(plain, /^\ttls /m);
  });

  it("without clients refuses every key: the map has no entry, and the file holds no secret", () => {
    assert.match(text, /map \{header\.Authorization\} \{myia_client\} \{\n\t\tdefault ""\n\t\}/);
    assert.match(text, /@key not vars \{myia_client\} ""/);
  });

  it("with clients maps each key to its client's name, and the access log names the client", () => {
    const withClients = gatewayCaddyfile(base, clients);
    assert.match(withClients, /\t\t"Bearer sk-aaaaaaaaaaaaaaaaaaaa" app-a\n\t\t"Bearer sk-bbbbbbbbbbbbbbbbbbbb" app-b\n\t\tdefault ""/);
    assert.match(withClients, /log_append <client \{myia_client\}/);
    assert.equal(withClients.replace(/\t\t"Bearer [^\n]*\n/g, "").replace(/^# .*\n/gm, ""), text.replace(/^# .*\n/gm, ""), "the keys are the only difference");
  });

  it("drains on its switch: 503 with Retry-After for everything, /health included, checked before any other route", () => {
    const drain = text.indexOf("\t@draining vars {file./config/myia-drain} 1\n\thandle @draining {");
    assert.ok(drain > 0, text);
    assert.match(text, /handle @draining \{\n\t\theader Retry-After 10\n[^}]*respond `[^`]*being switched off[^`]*` 503/);
    // Named matchers keep their order in the Caddyfile: the drain comes before /health and /v1.
    assert.ok(drain < text.indexOf("\t@health path /health") && drain < text.indexOf("@key"));
    assert.doesNotMatch(text, /handle \/health/, "an inline path matcher would be sorted before the drain");
  });

  it("sends vLLM its own key from the environment, never the client's, and only on /v1", () => {
    assert.equal(text.match(/header_up Authorization "Bearer \{env\.MYIA_UPSTREAM_KEY\}"/g)?.length, 1);
    assert.doesNotMatch(text, /\{\$MYIA_UPSTREAM_KEY\}/, "a {$VAR} would be substituted into the loaded config");
  });

  it("keeps the admin API on a socket inside the container, and no ACME or :80 listener", () => {
    for (const d of ["admin unix//config/caddy-admin.sock", "auto_https disable_redirects"]) assert.match(text, new RegExp(`^\\t${d}$`, "m"));
    assert.doesNotMatch(text, /admin off|admin localhost|:2019/);
  });

  it("forwards only /v1 and /v1/* with the key; /health without; everything else is answered by the gateway", () => {
    assert.match(text, /@api path \/v1 \/v1\/\*/);
    assert.match(text, /@health path \/health\n\thandle @health \{/);
    assert.match(text, /respond `[^`]*` 404/);
    assert.match(text, /respond `[^`]*` 401/);
    for (const r of UNGUARDED_ROUTES) assert.ok(!text.includes(r.path), `${r.path} must not be named, let alone proxied`);
  });

  it("streams without buffering and sets no reply timeout", () => {
    assert.equal(text.match(/flush_interval -1/g)?.length, 2);
    assert.doesNotMatch(text, /response_header_timeout|read_timeout|write_timeout|\n\t\t\twrite /);
  });

  it("caps the body and names the setting in the 413", () => {
    assert.match(text, /max_size 16777216/);
    assert.match(text, /over 16 MiB \(gateway\.maxBodyMiB\)[^\n]*413/);
  });

  it("exposes /metrics and /version only when asked, and only to the listed addresses", () => {
    assert.doesNotMatch(text, /\/metrics|\/version/);
    const open = gatewayCaddyfile({ ...base, expose: [{ path: "/metrics", from: ["10.0.0.0/8", "127.0.0.1"] }] });
    assert.match(open, /@open0 \{\n\t\tpath \/metrics\n\t\tremote_ip 10\.0\.0\.0\/8 127\.0\.0\.1\n\t\}\n\thandle @open0 \{\n\t\treverse_proxy vllm-vl:5003/);
    assert.doesNotMatch(open, /\/version/);
  });
});

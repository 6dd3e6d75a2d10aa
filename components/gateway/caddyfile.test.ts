import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UNGUARDED_ROUTES } from "../vllm/routes";
import { gatewayCaddyfile, GatewayRender } from "./caddyfile";

const base: GatewayRender = { port: 5003, upstream: "vllm-vl:5003", keyEnv: "MYIA_GATEWAY_KEY", maxBodyBytes: 16 * 2 ** 20, expose: [] };

describe("gatewayCaddyfile", () => {
  const text = gatewayCaddyfile(base);

  it("listens on the public port and proxies to vLLM by its name on the private network", () => {
    assert.match(text, /^:5003 \{$/m);
    assert.equal(text.match(/reverse_proxy vllm-vl:5003 \{/g)?.length, 2, "only /health and /v1 are proxied");
  });

  it("reads the key from the environment at each request; no secret in the file", () => {
    assert.match(text, /@key header Authorization "Bearer \{env\.MYIA_GATEWAY_KEY\}"/);
    assert.doesNotMatch(text, /\{\$MYIA_GATEWAY_KEY\}/, "a {$VAR} would be substituted into the loaded config");
  });

  it("turns the admin API, ACME and config autosave off", () => {
    for (const d of ["admin off", "auto_https off", "persist_config off"]) assert.match(text, new RegExp(`^\\t${d}$`, "m"));
  });

  it("forwards only /v1 and /v1/* with the key; /health without; everything else is answered by the gateway", () => {
    assert.match(text, /@api path \/v1 \/v1\/\*/);
    assert.match(text, /handle \/health \{/);
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

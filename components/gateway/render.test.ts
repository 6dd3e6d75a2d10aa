import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gatewayCaddyfile } from "./caddyfile";
import { ADMIN_SOCKET, DRAIN_FILE, GatewayProfile, gatewayImageRef, gatewayRender, gatewayScheme, tlsNames, UPSTREAM_KEY_ENV } from "./render";

const profile = (gateway: Partial<GatewayProfile["gateway"]> = {}, address = "gpu-box"): GatewayProfile => ({
  host: { address },
  server: { port: 5003, containerName: "myia_vllm-vl" },
  gateway: { enabled: true, image: { repository: "caddy", tag: "2.10.2-alpine" }, tls: { mode: "internal", names: [] }, maxBodyMiB: 16, expose: [], ...gateway },
});

describe("what the gateway serves, from a profile", () => {
  it("renders the Caddyfile's values: vLLM by its container name, vLLM's key from the environment, the admin socket and drain switch in Caddy's config folder", () => {
    const r = gatewayRender(profile({ maxBodyMiB: 4, expose: [{ path: "/metrics", from: ["10.0.0.0/8"] }] }));
    assert.deepEqual(r, {
      port: 5003,
      upstream: "myia_vllm-vl:5003",
      upstreamKeyEnv: UPSTREAM_KEY_ENV,
      adminSocket: ADMIN_SOCKET,
      drainFile: DRAIN_FILE,
      tls: { mode: "internal", names: ["gpu-box", "localhost", "127.0.0.1"] },
      maxBodyBytes: 4 * 2 ** 20,
      expose: [{ path: "/metrics", from: ["10.0.0.0/8"] }],
    });
    assert.equal(UPSTREAM_KEY_ENV, "MYIA_UPSTREAM_KEY");
    assert.match(ADMIN_SOCKET, /^\/config\//);
    assert.match(DRAIN_FILE, /^\/config\//);
    assert.match(gatewayCaddyfile(r), /reverse_proxy myia_vllm-vl:5003 \{/);
  });

  it("serves TLS for the host's address, the configured names and loopback, each once", () => {
    assert.deepEqual(tlsNames(profile({ tls: { mode: "internal", names: ["gpu-box.lan", "gpu-box", "localhost"] } })), ["gpu-box", "gpu-box.lan", "localhost", "127.0.0.1"]);
    assert.deepEqual(tlsNames(profile({}, "localhost")), ["localhost", "127.0.0.1"]);
  });

  it("clients use https unless TLS is off or there is no gateway", () => {
    assert.equal(gatewayScheme(profile()), "https");
    assert.equal(gatewayScheme(profile({ tls: { mode: "provided", names: [] } })), "https");
    assert.equal(gatewayScheme(profile({ tls: { mode: "off", names: [] } })), "http");
    assert.equal(gatewayScheme(profile({ enabled: false })), "http");
  });

  it("its image is the pinned Caddy tag, plus the digest when one is given", () => {
    const digest = `sha256:${"b".repeat(64)}`;
    assert.equal(gatewayImageRef(profile()), "caddy:2.10.2-alpine");
    assert.equal(gatewayImageRef(profile({ image: { repository: "caddy", tag: "2.10.2-alpine", digest } })), `caddy:2.10.2-alpine@${digest}`);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiKeyProblem, clientKeysProblems, validateProfile } from "./schema";

describe("apiKeyProblem", () => {
  for (const [key, want] of [
    ["sk-0123456789abcdef", undefined],
    ["sk-short", /^apiKey: is 8 characters; use at least 16 random ones/],
    ["sk-0123456789abcdef*", /^apiKey: may hold only letters, digits and \. _ ~ \+ \/ = -/],
    ["*sk-0123456789abcdef", /may hold only letters, digits/],
    ["sk-0123456789 abcdef", /may hold only letters, digits/],
    ['sk-0123456789"abcdef', /may hold only letters, digits/],
    ["sk-{env.HOME}abcdef01", /may hold only letters, digits/],
    ["c2stMDEyMzQ1Njc4OWFiY2RlZg==", undefined],
  ] as const) {
    it(`${JSON.stringify(key)}: ${want ?? "fine"}`, () => {
      const got = apiKeyProblem(key);
      if (want === undefined) assert.equal(got, undefined);
      else {
        assert.match(got ?? "", want);
        assert.ok(!got!.includes(key), "the message must not show the key");
      }
    });
  }
});

describe("clientKeysProblems", () => {
  const a = "sk-aaaaaaaaaaaaaaaaaaaa";
  const b = "sk-bbbbbbbbbbbbbbbbbbbb";
  for (const [name, clients, want] of [
    ["two clients, each with a key of its own", { "app-a": a, app_b: b }, []],
    ["a name that cannot label the log", { "App A": a }, [/^apiKeys\.App A: the client's name must be lowercase letters, digits, - and _/]],
    ["a short key", { "app-a": "sk-short" }, [/^apiKeys\.app-a: is 8 characters; use at least 16 random ones, e\.g\. `pulumi config set --secret --path apiKeys\.app-a/]],
    ["one key for two clients", { "app-a": a, "app-b": a }, [/^apiKeys\.app-b: is the same key as apiKeys\.app-a; give each client its own/]],
    ["vLLM's own key given to a client", { "app-a": "sk-vllm-0123456789abcdef" }, [/^apiKeys\.app-a: is apiKey, the key only the gateway and vLLM share/]],
    ["not a string", { "app-a": { nested: a } }, [/^apiKeys\.app-a: must be a key \(a string\)/]],
  ] as const) {
    it(name, () => {
      const got = clientKeysProblems(clients as Record<string, unknown>, "sk-vllm-0123456789abcdef");
      assert.equal(got.length, want.length, got.join("\n"));
      want.forEach((w, i) => assert.match(got[i], w));
      for (const line of got) for (const k of [a, b, "sk-short", "sk-vllm-0123456789abcdef"]) assert.ok(!line.includes(k), "a message must not show a key");
    });
  }
});

describe("gateway.tls", () => {
  const raw = (tls: unknown, gateway: Record<string, unknown> = {}) => ({
    profile: "medium",
    image: { tag: "v0.11.0" },
    model: { id: "Qwen/Qwen3-32B-AWQ" },
    server: { port: 5002, containerName: "myia_vllm-medium-qwen3" },
    vllm: { quantization: "awq_marlin", gpuMemoryUtilization: 0.9, maxModelLen: 16384, tensorParallelSize: 2 },
    gateway: { ...gateway, ...(tls === undefined ? {} : { tls }) },
  });
  const secrets = { apiKey: "secret", hfToken: "secret" } as const;

  it("is HTTPS with Caddy's CA by default, and needs no certificate", () => {
    const v = validateProfile(raw(undefined), secrets);
    assert.equal(v.ok, true, v.ok ? "" : v.errors.join("\n"));
    if (v.ok) assert.deepEqual(v.profile.gateway.tls, { mode: "internal", names: [] });
    assert.ok(!v.warnings.some((w) => w.startsWith("gateway.tls")));
  });

  it("warns that keys travel in clear when TLS is off", () => {
    const v = validateProfile(raw({ mode: "off" }), secrets);
    assert.equal(v.ok, true);
    assert.ok(v.warnings.some((w) => /^gateway\.tls\.mode: is off, so port 5002 serves plain HTTP and every API key travels in clear/.test(w)), v.warnings.join("\n"));
  });

  it("needs both secrets for a provided certificate, each named with the command that sets it", () => {
    const v = validateProfile(raw({ mode: "provided", names: ["gpu.example.org"] }), secrets);
    assert.equal(v.ok, false);
    if (!v.ok) {
      assert.ok(v.errors.some((e) => /^tlsCertificate: is not set, and gateway\.tls\.mode is provided; run `pulumi config set --secret tlsCertificate < fullchain\.pem/.test(e)), v.errors.join("\n"));
      assert.ok(v.errors.some((e) => /^tlsPrivateKey: is not set/.test(e)));
    }
    assert.equal(validateProfile(raw({ mode: "provided" }), { ...secrets, tlsCertificate: "secret", tlsPrivateKey: "secret" }).ok, true);
  });

  it("refuses a private key in plaintext, and a certificate the mode does not use", () => {
    const v = validateProfile(raw({ mode: "provided" }), { ...secrets, tlsCertificate: "secret", tlsPrivateKey: "plaintext" });
    assert.ok(!v.ok && v.errors.some((e) => /^tlsPrivateKey: is stored in plaintext; run `pulumi config set --secret tlsPrivateKey/.test(e)));
    const unused = validateProfile(raw(undefined), { ...secrets, tlsCertificate: "secret" });
    assert.ok(!unused.ok && unused.errors.some((e) => /^tlsCertificate: is set, but gateway\.tls\.mode is internal/.test(e)));
  });

  it("refuses a name that is not a host name or address", () => {
    const v = validateProfile(raw({ names: ["https://gpu-box"] }), secrets);
    assert.ok(!v.ok && v.errors.some((e) => /^gateway\.tls\.names\.0: must be a host name or IP address clients use/.test(e)), v.ok ? "" : v.errors.join("\n"));
  });

  it("refuses client keys stored in plaintext", () => {
    const v = validateProfile(raw(undefined), { ...secrets, apiKeys: "plaintext" });
    assert.ok(!v.ok && v.errors.some((e) => /^apiKeys: is stored in plaintext; run `pulumi config set --secret --path apiKeys\.<client> <key>/.test(e)));
  });
});

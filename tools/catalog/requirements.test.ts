import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applicable, constraints, normaliseDist, requirementForModule, requirementName, torchPin, withoutExtras } from "./requirements";

// Lines as vllm==0.34.0's METADATA has them.
const REQS = [
  "regex",
  "transformers<5.23.0,>=5.16.1",
  "fastapi[standard]<0.137.0,>=0.133.0",
  'llguidance<1.8.0,>=1.7.0; platform_machine == "x86_64" or platform_machine == "arm64"',
  'protobuf==7.36.1; platform_machine == "s390x"',
  "pyyaml",
  "opencv-python-headless>=4.13.0",
  "torch==2.14.0",
  "torchaudio==2.11.0",
  'pytest; extra == "test"',
];

describe("the wheel's requirements", () => {
  it("names distributions as PEP 503 does", () => {
    assert.equal(normaliseDist("Foo_Bar.baz"), "foo-bar-baz");
    assert.equal(requirementName("fastapi[standard]<0.137.0"), "fastapi");
    assert.equal(requirementName("openai_harmony>=0.0.3"), "openai-harmony");
  });

  it("finds the torch pin", () => {
    assert.equal(torchPin(REQS), "2.14.0");
    assert.throws(() => torchPin(["torch>=2"]), /pins no torch/);
  });

  it("keeps what applies to x86_64 Linux, without extras-only lines", () => {
    const kept = applicable(REQS);
    assert.ok(kept.some((r) => r.startsWith("llguidance")));
    assert.ok(!kept.some((r) => r.startsWith("protobuf")), "s390x only");
    assert.ok(!kept.some((r) => r.startsWith("pytest")));
  });

  it("installs the wheel's own range for a missing module, under its distribution's name", () => {
    assert.equal(requirementForModule("transformers", REQS), "transformers<5.23.0,>=5.16.1");
    assert.equal(requirementForModule("yaml", REQS), "pyyaml");
    assert.equal(requirementForModule("cv2", REQS), "opencv-python-headless>=4.13.0");
    assert.equal(requirementForModule("fastapi.routing", REQS), "fastapi<0.137.0,>=0.133.0", "extras dropped");
    assert.equal(requirementForModule("httpx", REQS), "httpx", "a dependency of a dependency: its bare name");
  });

  it("constrains every requirement, without extras (pip refuses extras in constraints)", () => {
    const c = constraints(REQS);
    assert.match(c, /^torch==2\.14\.0$/m);
    assert.match(c, /^fastapi<0\.137\.0,>=0\.133\.0$/m);
    assert.equal(withoutExtras("a[b,c]>=1; x"), "a>=1; x");
  });
});

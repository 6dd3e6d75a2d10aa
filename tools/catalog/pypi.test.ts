import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { uploadTimeFromJsonApi, uploadTimeFromSimpleApi } from "./pypi";

describe("PyPI upload times", () => {
  it("takes the earliest file of the version from the simple API", () => {
    const body = {
      files: [
        { filename: "vllm-0.21.0.1-cp38-abi3-manylinux_2_24_x86_64.whl", "upload-time": "2026-05-01T00:00:00Z" },
        { filename: "vllm-0.21.0-1-cp38-abi3-manylinux_2_24_x86_64.whl", "upload-time": "2026-05-15T00:08:22.496902Z" },
        { filename: "vllm-0.21.0.tar.gz", "upload-time": "2026-05-15T00:10:00Z" },
        { filename: "vllm-0.20.0-cp38-abi3-manylinux_2_24_x86_64.whl", "upload-time": "2026-04-27T11:07:00Z" },
      ],
    };
    assert.equal(uploadTimeFromSimpleApi(body, "0.21.0"), "2026-05-15T00:08:22.496902Z");
    assert.equal(uploadTimeFromSimpleApi(body, "0.22.0"), undefined);
  });

  it("reads the JSON API's upload_time_iso_8601", () => {
    assert.equal(uploadTimeFromJsonApi({ urls: [{ upload_time_iso_8601: "2026-05-16T00:00:00Z" }, { upload_time_iso_8601: "2026-05-15T00:08:22Z" }] }), "2026-05-15T00:08:22Z");
    assert.equal(uploadTimeFromJsonApi({}), undefined);
  });
});

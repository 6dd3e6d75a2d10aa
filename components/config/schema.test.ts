import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiKeyProblem } from "./schema";

describe("apiKeyProblem", () => {
  for (const [key, want] of [
    ["sk-0123456789abcdef", undefined],
    ["sk-short", /^apiKey: is 8 characters; use at least 16 random ones/],
    ["sk-0123456789abcdef*", /^apiKey: may hold only printable ASCII without spaces or `\*`/],
    ["*sk-0123456789abcdef", /may hold only printable ASCII/],
    ["sk-0123456789 abcdef", /may hold only printable ASCII/],
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

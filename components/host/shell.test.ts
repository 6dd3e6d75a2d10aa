import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { shellQuote } from "./shell";

describe("shellQuote", () => {
  for (const word of ["plain", "two words", "it's", "'", "$HOME `id` \"x\" \\n", "a'b'c", ""]) {
    it(`sh reads ${JSON.stringify(word)} back as one word`, () => {
      assert.equal(execFileSync("/bin/sh", ["-c", `printf '%s' ${shellQuote(word)}`], { encoding: "utf8" }), word);
    });
  }
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goDuration } from "./containerSpec";

describe("goDuration", () => {
  // What Go's time.Duration.String() prints for these, which the docker provider reads back.
  const cases: [number, string][] = [
    [0, "0s"],
    [7, "7s"],
    [30, "30s"],
    [60, "1m0s"],
    [300, "5m0s"],
    [1200, "20m0s"],
    [3600, "1h0m0s"],
    [3725, "1h2m5s"],
  ];
  for (const [s, want] of cases) it(`${s} s is ${want}`, () => assert.equal(goDuration(s), want));
});

/**
 * Engine scenarios more than one suite runs (locally, and over ssh): each
 * drives the stack through the engine and asserts what the operator would see.
 */
import assert from "node:assert/strict";
import { inspect, stop } from "./docker";
import type { engineProject } from "./engineProject";

type Op = ReturnType<typeof engineProject>["op"];

/** A container stopped by hand: refresh sees it (the stack's container resource), up starts it again. */
export async function stoppedByHandIsRepaired(op: Op, stack: string, container: string): Promise<void> {
  await stop(container);
  const refresh = await op(stack, { op: "refresh" });
  assert.equal(refresh.ok, true, refresh.output);
  assert.match(refresh.output, new RegExp(`${stack}-container`));
  const up = await op(stack, { op: "up" });
  assert.equal(up.ok, true, up.output);
  assert.equal((await inspect(container))?.State.Status, "running");
}

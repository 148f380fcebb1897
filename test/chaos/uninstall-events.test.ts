/** The "every uninstall event exactly once" checker of the replicated chaos run, on made-up streams. */
import { describe, expect, it } from "vitest";
import { UninstallEventKind } from "../../src/client/index.js";
import { uninstallEventProblems } from "./uninstall-events.js";
import type { SeenEvent } from "./uninstall-events.js";

const { STARTED, PROGRESS, COMPLETED } = UninstallEventKind;
const e = (sequence: number, name: string, kind: UninstallEventKind, removalId: number): SeenEvent => ({ sequence: BigInt(sequence), name, kind, removalId: BigInt(removalId) });

describe("uninstall events seen by a resuming watcher", () => {
  const good = [e(1, "a", STARTED, 1), e(2, "b", STARTED, 2), e(3, "a", PROGRESS, 1), e(4, "a", COMPLETED, 1), e(5, "b", COMPLETED, 2)];

  it("accepts every event once, in order, each removal ending in its terminal event", () => {
    expect(uninstallEventProblems(good, ["a", "b"])).toEqual([]);
  });

  it("finds a repeated event, a gap, a removal seen ending twice, and a removal whose end was missed", () => {
    const repeated = [...good.slice(0, 3), e(3, "a", PROGRESS, 1), ...good.slice(3)];
    expect(uninstallEventProblems(repeated, ["a"])).toEqual([expect.stringMatching(/event 3 .* seen twice or out of order/)]);
    expect(uninstallEventProblems([good[0]!, ...good.slice(2)], ["a"])).toEqual([expect.stringMatching(/events 2–2 never seen/)]);
    const twice = [...good, e(6, "a", COMPLETED, 1)];
    expect(uninstallEventProblems(twice, [])).toEqual(["removal a#1: 2 terminal events", "removal a#1: events after its terminal event"]);
    expect(uninstallEventProblems(good.slice(0, 3), ["a"])).toEqual([expect.stringMatching(/last event of it is PROGRESS/)]);
  });
});

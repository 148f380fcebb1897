/** The "no two leaders at once" checker of the replicated chaos run, on made-up histories. */
import { describe, expect, it } from "vitest";
import { leaderIntervals, leaderOverlaps } from "./leader-intervals.js";
import type { ReplicaHistory } from "./leader-intervals.js";

const h = (name: string, roles: [string, number][], diedAt?: number): ReplicaHistory => ({
  name,
  roles: roles.map(([msg, time]) => ({ msg: msg as "leading", time, detail: "" })),
  diedAt,
});

describe("leader intervals", () => {
  it("ends a term at the step-down or the death, and passes terms one after the other", () => {
    const history = [h("a", [["leading", 100], ["stepped down", 200]]), h("b", [["standing by", 50], ["leading", 250]], 400), h("c", [["leading", 400]])];
    expect(leaderIntervals(history, 1000)).toEqual([
      { replica: "a", from: 100, to: 200 },
      { replica: "b", from: 250, to: 400 },
      { replica: "c", from: 400, to: 1000 },
    ]);
    expect(leaderOverlaps(leaderIntervals(history, 1000))).toEqual([]);
  });

  it("finds a replica that leads while another still does (dead only later, or never stepped down)", () => {
    const history = [h("a", [["leading", 100]], 300), h("b", [["leading", 250], ["stepped down", 500]]), h("c", [["leading", 450]])];
    const problems = leaderOverlaps(leaderIntervals(history, 1000));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/replica a .* replica b .*\(50 ms together\)/);
    expect(problems[1]).toMatch(/replica b .* replica c .*\(50 ms together\)/);
  });
});

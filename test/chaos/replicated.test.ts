/**
 * CI's short replicated chaos run (replicated.ts): three replicas on a real ZooKeeper, six
 * iterations with the kill kinds in turn (leader, leader twice, standby, local agent, ZooKeeper
 * frozen, ZooKeeper kill -9 and restart), so each runs once. Fails on invariant violations only;
 * failover and convergence times are printed, never asserted. Seed: CORRAL_CHAOS_SEED, else a fixed one.
 */
import { describe, expect, it } from "vitest";
import { REPLICA_KILLS, replicatedSummaryLines, runReplicated } from "./replicated.js";

const seed = Number(process.env["CORRAL_CHAOS_SEED"] ?? "17");

describe("replicated chaos: kills of the leader, a standby, the local agent and ZooKeeper", () => {
  it(`keeps every invariant over ${REPLICA_KILLS.length} iterations, one per kill kind (seed ${seed})`, async () => {
    const lines: string[] = [];
    const report = await runReplicated({ iterations: REPLICA_KILLS.length, seed, replicas: 3, sessionTimeoutS: 4, everyKind: true, log: (l) => lines.push(l) });
    console.log([...lines, ...replicatedSummaryLines(report)].join("\n"));
    expect(report.violations).toEqual([]);
    expect(report.iterations).toBe(REPLICA_KILLS.length);
  }, 900_000);
});

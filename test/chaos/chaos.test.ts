/**
 * CI's short kill -9 run (chaos.ts): about 10 iterations on the local agent with the scheduler
 * as its own process (the agent daemon among what is killed). Fails on invariant violations only; its times are printed, never
 * asserted (a loaded CI box is slow, not wrong). Seed: CORRAL_CHAOS_SEED, else a fixed one.
 */
import { describe, expect, it } from "vitest";
import { runChaos, summaryLines } from "./chaos.js";

const seed = Number(process.env["CORRAL_CHAOS_SEED"] ?? "10");

describe("kill -9 of the scheduler process and the local agent", () => {
  it(`keeps every invariant over 10 iterations (seed ${seed})`, async () => {
    const lines: string[] = [];
    const report = await runChaos({ iterations: 10, seed, log: (l) => lines.push(l) });
    console.log([...lines, ...summaryLines(report)].join("\n"));
    expect(report.violations).toEqual([]);
    expect(report.iterations).toBe(10);
  }, 180_000);
});

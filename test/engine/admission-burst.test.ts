/**
 * A burst of puts shares one offer cycle (runner.ts scheduleSettled): the cycle runs once no put
 * came for minCycleGapMs (10), at most admitMaxWaitMs (100) after the first, so a steady
 * stream of puts still gets cycles. Fake clock: times are the clock's, not measured.
 */
import { describe, expect, it } from "vitest";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

async function harness() {
  const cycles: number[] = [];
  const h = await createHarness({ agents: 4, deps: { onCycle: () => cycles.push(h.clock.now()) } });
  // Past start-up: its cycles and the periodic one are not the burst's.
  await h.advance(1000);
  cycles.length = 0;
  return { h, cycles };
}

/** Puts `n` services named `prefix0…`, one every 5 ms; their names. */
async function putEvery5ms(h: Harness, prefix: string, n: number): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  for (const name of names) {
    await h.put(name, "simple.yml");
    await h.advance(5);
  }
  return names;
}

describe("a burst of puts", () => {
  it("shares one cycle, which runs once the burst settled and deploys every service of it", async () => {
    const { h, cycles } = await harness();
    const start = h.clock.now();
    const names = await putEvery5ms(h, "s", 8);
    // 8 puts 5 ms apart: no cycle while they kept coming.
    expect(cycles).toEqual([]);
    await h.advance(10);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toBe(start + 7 * 5 + 10);
    await h.deployAll(names);
  });

  it("that never pauses still gets a cycle at least every admitMaxWaitMs", async () => {
    const { h, cycles } = await harness();
    const start = h.clock.now();
    await putEvery5ms(h, "t", 60);
    // 300 ms of puts: the first cycle 100 ms after the first put, and more before the stream ends.
    const during = cycles.filter((t) => t < start + 300);
    expect(during[0]).toBe(start + 100);
    expect(during.length).toBeGreaterThanOrEqual(2);
  });
});

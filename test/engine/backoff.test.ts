/** Crash-loop back-off on the simulated cluster with a fake clock. */
import { describe, expect, it } from "vitest";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

function live(h: Harness): string {
  const [t] = h.cluster.tasks();
  if (!t) throw new Error("no live task");
  return t.taskId;
}

function lastRecoveryStep(h: Harness): { status: string; message: string } {
  const phases = h.scheduler.getPlan("simple", "recovery").phases;
  return phases.at(-1)!.steps[0]!;
}

describe("crash-loop back-off", () => {
  it("relaunches at once after the first failure, then waits 1 s, 2 s, … before each relaunch", async () => {
    const h = await createHarness();
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);

    h.cluster.failTask(live(h));
    await h.advance(100);
    const second = live(h); // relaunched without waiting
    h.cluster.failTask(second);
    await h.advance(100);
    expect(h.cluster.tasks()).toEqual([]);
    expect(lastRecoveryStep(h)).toMatchObject({ status: "DELAYED", message: expect.stringMatching(/^attempt 2 \(transient\): task hello-0-server failed: simulated failure; relaunching in 1 s$/) });
    const launches = h.cluster.counts.launches;
    await h.advance(800);
    expect(h.cluster.counts.launches).toBe(launches);
    await h.advance(5000); // past the 1 s wait; the cycle that runs at least every 5 s relaunches
    expect(h.cluster.counts.launches).toBe(launches + 1);
    h.cluster.failTask(live(h));
    await h.advance(100);
    expect(lastRecoveryStep(h).message).toMatch(/^attempt 3 \(transient\): .*; relaunching in 2 s$/);
  });

  it("starts counting again after the task ran for a minute", async () => {
    const h = await createHarness();
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    h.cluster.failTask(live(h));
    await h.advance(100);
    await h.advance(61_000); // the relaunched task runs for a minute
    h.cluster.failTask(live(h));
    await h.advance(100);
    expect(h.cluster.tasks()).toHaveLength(1); // a first failure again: relaunched at once
  });
});

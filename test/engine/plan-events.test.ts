/**
 * WatchPlans on the engine (src/engine/plan-events.ts): the simulated cluster, the memory store
 * and a fake clock. Plan, phase and step changes come out once each, in order, with task ids;
 * a watcher that resumes with `after` across a scheduler restart sees every change exactly once.
 */
import { describe, expect, it } from "vitest";
import type { PlanEventView } from "../../src/engine/admin-api.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

/** A watch consumed in the background: `events` grows as they come. */
function follow(h: Harness, names: string[], after = 0n) {
  const controller = new AbortController();
  const events: PlanEventView[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const e of h.scheduler.watchPlans(names, after, controller.signal)) events.push(e);
    } catch (err) {
      error = err;
    }
  })();
  return {
    events,
    failure: () => error,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

/** Lets background watchers take what was published. */
async function drained(h: Harness): Promise<void> {
  await h.settle();
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

const key = (e: PlanEventView): string => `${e.name} ${e.plan}/${e.phase}/${e.step}`;
const shown = (e: PlanEventView): string => `${e.status} ${e.message} [${e.taskIds.join(",")}]`;

describe("plan events", () => {
  it("a deploy is told step by step, with task ids, and ends with the plan COMPLETE", async () => {
    const h = await createHarness();
    await h.scheduler.putService({ name: "hello", spec: example("hello-world.yml"), parameters: {} });
    const w = follow(h, ["hello"]);
    await h.deployAll(["hello"]);
    await drained(h);
    await w.stop();
    expect(w.failure()).toBeUndefined();
    const steps = w.events.filter((e) => e.step !== "");
    // Every step: PENDING, then launched with its task id, then COMPLETE with the same one.
    for (const name of ["hello-0:[server]", "world-0:[server]", "world-1:[server]"]) {
      const mine = steps.filter((e) => e.step === name);
      expect(mine[0]).toMatchObject({ status: "PENDING", taskIds: [] });
      expect(mine.at(-1)).toMatchObject({ status: "COMPLETE", taskIds: [expect.stringMatching(/^hello__/)] });
      expect(mine.some((e) => e.status === "STARTING" && e.taskIds[0] === mine.at(-1)!.taskIds[0])).toBe(true);
    }
    // Sequence numbers count up without a gap; nothing is told twice in a row.
    expect(w.events.map((e) => e.sequence)).toEqual(w.events.map((_, i) => BigInt(i + 1)));
    const last = new Map<string, string>();
    for (const e of w.events) {
      expect(last.get(key(e))).not.toBe(shown(e));
      last.set(key(e), shown(e));
    }
    // The plan's own events: the last one says COMPLETE at generation 1, after its steps'.
    const plan = w.events.filter((e) => e.plan === "deploy" && e.phase === "");
    expect(plan.at(-1)).toMatchObject({ status: "COMPLETE", planStatus: "COMPLETE", generation: 1 });
    expect(w.events.at(-1)).toBe(plan.at(-1));
    expect(steps.every((e) => e.stepId !== "" && e.generation === 1)).toBe(true);
  });
});

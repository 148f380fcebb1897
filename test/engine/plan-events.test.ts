/**
 * WatchPlans on the engine (src/engine/plan-events.ts): the simulated cluster, the memory store
 * and a fake clock. Plan, phase and step changes come out once each, in order, with task ids;
 * a watcher that resumes with `after` across a scheduler restart sees every change exactly once.
 */
import { describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { SchedulerError } from "../../src/domain/errors.js";
import type { PlanEventView } from "../../src/engine/admin-api.js";
import type { Persister, PersisterOp } from "../../src/engine/ports.js";
import { PLAN_EVENTS } from "../../src/engine/store/layout.js";
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

  it("a watcher that resumes with after across a scheduler restart sees every step change exactly once", async () => {
    const persister = new MemoryPersister();
    const first = await createHarness({ persister });
    await first.scheduler.putService({ name: "hello", spec: example("hello-world.yml"), parameters: {} });
    const before = follow(first, ["hello"]);
    await untilStep(first, "hello-0:[server]", "COMPLETE");
    expect(first.deployStatus("hello")).not.toBe("COMPLETE");
    await drained(first);
    await before.stop();
    await first.scheduler.stop();
    const seen = before.events.at(-1)!.sequence;

    const { second, events: resumedEvents } = await resumed(first, persister, seen);
    const all = [...before.events, ...resumedEvents];
    expectOnceEach(all);
    // hello-0 was COMPLETE before the restart: rebuilt from its task record, it is not told again.
    expect(resumedEvents.filter((e) => e.step === "hello-0:[server]")).toEqual([]);
    expectFinal(second, all);
    // The log holds the same, in the same order: a watch from the start replays it.
    const replay = follow(second, ["hello"]);
    await drained(second);
    await replay.stop();
    expect(replay.events).toEqual(all);
  });

  it("changes a scheduler stored but could not announce before it died are announced once by the next one", async () => {
    const persister = new MemoryPersister();
    const flaky = new EventsFail(persister);
    const first = await createHarness({ persister: flaky });
    await first.scheduler.putService({ name: "hello", spec: example("hello-world.yml"), parameters: {} });
    const before = follow(first, ["hello"]);
    await drained(first);
    flaky.failing = true;
    await untilStep(first, "hello-0:[server]", "COMPLETE");
    expect(flaky.refused).toBeGreaterThan(0);
    await drained(first);
    await before.stop();
    await first.scheduler.abandon();
    const seen = before.events.at(-1)!.sequence;
    expect(before.events.filter((e) => e.step === "hello-0:[server]").map((e) => e.status)).toEqual(["PENDING"]);

    const { second, events: resumedEvents } = await resumed(first, persister, seen);
    const all = [...before.events, ...resumedEvents];
    expectOnceEach(all);
    // What the first scheduler stored (hello-0 running) but never told comes first, once.
    expect(resumedEvents.filter((e) => e.step === "hello-0:[server]").map((e) => e.status)).toEqual(["COMPLETE"]);
    expectFinal(second, all);
  });

  it("names are checked, an unknown service is not_found, and after beyond the last event is out_of_range", async () => {
    const h = await createHarness();
    await h.put("hello", "simple.yml");
    await h.deployAll(["hello"]);
    expect(() => h.scheduler.watchPlans(["bad__name"], 0n, new AbortController().signal)).toThrow(SchedulerError);
    const unknown = follow(h, ["nobody"]);
    await drained(h);
    await unknown.stop();
    expect(unknown.failure()).toMatchObject({ code: "not_found" });
    const last = await lastSequence(h);
    const beyond = follow(h, [], last + 1n);
    await drained(h);
    await beyond.stop();
    expect(beyond.failure()).toMatchObject({ code: "out_of_range" });
  });
});

/** A scheduler restarted on the same store and cluster, and a watch of hello resumed after `seen` until its deploy is COMPLETE. */
async function resumed(first: Harness, persister: Persister, seen: bigint): Promise<{ second: Harness; events: PlanEventView[] }> {
  const second = await createHarness({ persister, cluster: first.cluster, clock: first.clock });
  const after = follow(second, ["hello"], seen);
  await second.deployAll(["hello"]);
  await drained(second);
  await after.stop();
  return { second, events: after.events };
}

/** Advances the clock until the deploy step `step` of hello shows `status`. */
async function untilStep(h: Harness, step: string, status: string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    const steps = h.scheduler.getPlan("hello", "deploy").phases.flatMap((p) => p.steps);
    if (steps.find((s) => s.name === step)?.status === status) return;
    await h.advance(1);
  }
  throw new Error(`${step} never ${status}`);
}

/** Sequence numbers count up from 1 without a gap, and no element is told the same twice in a row. */
function expectOnceEach(events: readonly PlanEventView[]): void {
  expect(events.map((e) => e.sequence)).toEqual(events.map((_, i) => BigInt(i + 1)));
  const last = new Map<string, string>();
  for (const e of events) {
    expect(last.get(key(e)), `${key(e)} told twice: ${shown(e)}`).not.toBe(shown(e));
    last.set(key(e), shown(e));
  }
}

/** The last event of every deploy step is what the plan shows now. */
function expectFinal(h: Harness, events: readonly PlanEventView[]): void {
  for (const step of h.scheduler.getPlan("hello", "deploy").phases.flatMap((p) => p.steps)) {
    const told = events.filter((e) => e.plan === "deploy" && e.step === step.name).at(-1);
    expect(told).toMatchObject({ status: step.status, message: step.message, taskIds: step.taskIds });
  }
}

async function lastSequence(h: Harness): Promise<bigint> {
  const all = follow(h, []);
  await drained(h);
  await all.stop();
  return all.events.at(-1)!.sequence;
}

/** A store whose writes of plan events fail while `failing`: the engine's own writes go through. */
class EventsFail implements Persister {
  failing = false;
  refused = 0;
  constructor(private readonly inner: Persister) {}
  get(path: string) {
    return this.inner.get(path);
  }
  children(path: string) {
    return this.inner.children(path);
  }
  multi(ops: readonly PersisterOp[]): Promise<void> {
    if (this.failing && ops.some((op) => op.path.startsWith(PLAN_EVENTS))) {
      this.refused++;
      return Promise.reject(new SchedulerError("unavailable", "the store is away"));
    }
    return this.inner.multi(ops);
  }
  close() {
    return this.inner.close();
  }
}

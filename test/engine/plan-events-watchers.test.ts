/**
 * WatchPlans' bounds on the engine (src/engine/plan-events.ts over event-log.ts): a watcher that
 * does not read fails RESOURCE_EXHAUSTED instead of buffering, and resumes with `after`;
 * retention drops old events (OUT_OF_RANGE below it, also after a restart); a new generation is
 * told once per plan even when no step changes; a removed service's baseline goes with it.
 */
import { describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { PlanEventView } from "../../src/engine/admin-api.js";
import { BASELINES } from "../../src/engine/plan-event-writer.js";
import { decodeJson } from "../../src/engine/store/codec.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

async function all(h: Harness, names: string[], after = 0n): Promise<PlanEventView[]> {
  const controller = new AbortController();
  const it = h.scheduler.watchPlans(names, after, controller.signal)[Symbol.asyncIterator]();
  const out: PlanEventView[] = [];
  // Everything retained is there at once; the first live one never comes: stop at a turn without one.
  for (;;) {
    const next = await Promise.race([it.next(), new Promise<"idle">((r) => setImmediate(() => r("idle")))]);
    if (next === "idle" || next.done) break;
    out.push(next.value);
  }
  controller.abort();
  await it.return?.();
  return out;
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe("plan event watchers", () => {
  it("a watcher that does not read fails RESOURCE_EXHAUSTED past its buffer and resumes with after", async () => {
    const h = await createHarness({ scheduler: { events: { watcherBuffer: 4 } } });
    await h.scheduler.putService({ name: "hello", spec: example("hello-world.yml"), parameters: {} });
    const it = h.scheduler.watchPlans(["hello"], 0n, new AbortController().signal)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value).toMatchObject({ sequence: 1n });
    await h.deployAll(["hello"]);
    expect(await code(it.next())).toBe("resource_exhausted");
    const rest = await all(h, ["hello"], 1n);
    expect(rest[0]?.sequence).toBe(2n);
    expect(rest.at(-1)).toMatchObject({ plan: "deploy", phase: "", status: "COMPLETE" });
    expect(h.scheduler.getScheduler().state).toBe("RUNNING");
  });

  it("retention keeps the newest maxEvents, in memory and in the store; older resume points are out_of_range", async () => {
    const persister = new MemoryPersister();
    const h = await createHarness({ persister, scheduler: { events: { maxEvents: 5 } } });
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const kept = await all(h, []);
    expect(kept).toHaveLength(5);
    const last = kept.at(-1)!.sequence;
    expect(await code(all(h, [], last - 6n))).toBe("out_of_range");
    await h.scheduler.stop();
    const again = await createHarness({ persister, cluster: h.cluster, clock: h.clock, scheduler: { events: { maxEvents: 5 } } });
    expect((await all(again, [])).map((e) => e.sequence)).toEqual(kept.map((e) => e.sequence));
    expect(await code(all(again, [], last - 6n))).toBe("out_of_range");
    // The store follows: a batch whose events all fell out of retention was deleted by the writes after it.
    const nodes = (await persister.children("PlanEvents")).filter((c) => c !== "Seen");
    // A node holds consecutive events from the sequence number it is named by.
    const stored = await Promise.all(
      nodes.map(async (n) => decodeJson<{ events: unknown[] }>((await persister.get(`PlanEvents/${n}`))!.data).events.map((_, i) => BigInt(n) + BigInt(i))),
    );
    const keptSeqs = new Set(kept.map((e) => e.sequence));
    expect(stored.every((batch) => batch.some((s) => keptSeqs.has(s)))).toBe(true);
    expect(stored.flat().filter((s) => keptSeqs.has(s))).toHaveLength(5);
  });

  it("a put of a new generation tells each plan once with it, then the relaunch step by step", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const last = (await all(h, ["hello"])).at(-1)!.sequence;
    await h.scheduler.putService({ name: "hello", spec: example("hello-world.yml").replace("cpus: 0.2", "cpus: 0.3"), parameters: {} });
    await h.deployAll(["hello"]);
    const events = await all(h, ["hello"], last);
    const planEvents = events.filter((e) => e.phase === "");
    expect(planEvents.filter((e) => e.plan === "recovery")).toEqual([expect.objectContaining({ generation: 2, status: "COMPLETE" })]);
    expect(planEvents.filter((e) => e.plan === "deploy").at(-1)).toMatchObject({ generation: 2, status: "COMPLETE" });
    expect(events.every((e) => e.generation === 2)).toBe(true);
    const world0 = events.filter((e) => e.step === "world-0:[server]");
    expect(world0.at(-1)).toMatchObject({ status: "COMPLETE" });
    expect(new Set(world0.flatMap((e) => e.taskIds)).size).toBeGreaterThan(0);
  });

  it("a removed service's baseline is deleted, and the name put again is told from the start", async () => {
    const h = await createHarness();
    await h.put("hello", "simple.yml");
    await h.deployAll(["hello"]);
    expect(await h.persister.children(BASELINES)).toEqual(["hello"]);
    await h.scheduler.uninstallService("hello");
    for (let i = 0; i < 60 && h.scheduler.listServices().length > 0; i++) await h.advance(1000);
    expect(h.scheduler.listServices()).toEqual([]);
    expect(await h.persister.children(BASELINES)).toEqual([]);
    const last = (await all(h, [])).at(-1)!.sequence;
    await h.put("hello", "simple.yml");
    const fresh = await all(h, ["hello"], last);
    expect(fresh.filter((e) => e.step !== "").map((e) => e.status)).toContain("PENDING");
  });
});

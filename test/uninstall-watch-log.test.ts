/**
 * UninstallEventLog (src/engine/uninstall-events.ts) over the real memory and SQLite persisters
 * and a FakeClock: sequence, storage, watch semantics, retention. Lives in test/ because the
 * engine may not import adapters.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FakeClock } from "../src/adapters/fake-clock.js";
import { tempDir } from "./use-temp-dir.js";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import { SqlitePersister } from "../src/adapters/persister/sqlite-persister.js";
import { SchedulerError } from "../src/domain/errors.js";
import type { UninstallEventKind, UninstallEventView } from "../src/engine/admin-api.js";
import type { Persister } from "../src/engine/ports.js";
import { decodeJson } from "../src/engine/store/codec.js";
import { UNINSTALL_EVENTS, uninstallEventPath } from "../src/engine/store/layout.js";
import { MAX_PURGE_OPS, UninstallEventLog } from "../src/engine/uninstall-events.js";
import type { UninstallEventLogOptions } from "../src/engine/uninstall-events.js";

const DAY = 24 * 60 * 60 * 1000;
const nobody = (): boolean => false;
const everybody = (): boolean => true;

function fields(name: string, kind: UninstallEventKind, stepsComplete = 0): Omit<UninstallEventView, "sequence" | "timeMs"> {
  return { name, kind, stepsComplete, stepsTotal: 3, leftovers: kind === "FORCED" ? ["task-1"] : [], message: kind };
}

/** prepare → the persister's multi → publish, as the scheduler does. */
async function emit(log: UninstallEventLog, store: Persister, name: string, kind: UninstallEventKind = "PROGRESS"): Promise<UninstallEventView> {
  const { event, ops } = log.prepare(fields(name, kind));
  await store.multi(ops);
  log.publish(event);
  return event;
}

async function emitMany(log: UninstallEventLog, store: Persister, n: number, name = "svc"): Promise<void> {
  for (let i = 0; i < n; i++) await emit(log, store, name);
}

/** Takes `n` events from an iterator. */
async function take(it: AsyncIterator<UninstallEventView>, n: number): Promise<bigint[]> {
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const r = await it.next();
    if (r.done) throw new Error(`stream ended after ${out.length} of ${n}`);
    out.push(r.value.sequence);
  }
  return out;
}

/** Everything until the stream ends. */
async function drain(iterable: AsyncIterable<UninstallEventView>): Promise<UninstallEventView[]> {
  const out: UninstallEventView[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

async function failure(p: Promise<unknown>): Promise<SchedulerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SchedulerError) return err;
    throw err;
  }
  throw new Error("expected a SchedulerError");
}

function watcher(log: UninstallEventLog, names: string[], after: bigint, isKnown = everybody) {
  const controller = new AbortController();
  const it = log.watch(names, after, controller.signal, isKnown)[Symbol.asyncIterator]();
  return { it, controller };
}

const seqs = (from: number, to: number): bigint[] => Array.from({ length: to - from + 1 }, (_, i) => BigInt(from + i));

let store: MemoryPersister;
let clock: FakeClock;
const load = (options?: UninstallEventLogOptions, persister: Persister = store) => UninstallEventLog.load(persister, clock, options);

describe("UninstallEventLog: sequence and storage", () => {
  it("starts at 1, stores each event under its 20-digit sequence and the last sequence on the parent", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    expect(log.lastSequence()).toBe(0n);
    const e1 = await emit(log, store, "a", "STARTED");
    const e2 = await emit(log, store, "a", "COMPLETED");
    expect([e1.sequence, e2.sequence]).toEqual([1n, 2n]);
    expect(e1.timeMs).toBe(clock.now());
    expect(await store.children(UNINSTALL_EVENTS)).toEqual(["00000000000000000001", "00000000000000000002"]);
    expect(uninstallEventPath(2n)).toBe("UninstallEvents/00000000000000000002");
    expect(decodeJson((await store.get(uninstallEventPath(2n)))!.data)).toMatchObject({ sequence: "2", name: "a", kind: "COMPLETED" });
    expect(decodeJson((await store.get(UNINSTALL_EVENTS))!.data)).toBe("2");
    expect(log.lastSequence()).toBe(2n);
  });

  it("a restart continues the sequence and replays what is stored (SQLite)", async () => {
    const dir = tempDir("events");
    try {
      clock = new FakeClock();
      const file = join(dir, "state.db");
      const sqlite = SqlitePersister.open(file);
      const log = await load({}, sqlite);
      await emit(log, sqlite, "a", "STARTED");
      await emit(log, sqlite, "a", "PROGRESS");
      await emit(log, sqlite, "a", "COMPLETED");
      await sqlite.close();

      const reopened = SqlitePersister.open(file);
      const again = await load({}, reopened);
      expect(again.lastSequence()).toBe(3n);
      const replay = await drain(again.watch(["a"], 0n, new AbortController().signal, nobody));
      expect(replay.map((e) => [e.sequence, e.kind, e.leftovers])).toEqual([
        [1n, "STARTED", []],
        [2n, "PROGRESS", []],
        [3n, "COMPLETED", []],
      ]);
      expect((await emit(again, reopened, "b", "STARTED")).sequence).toBe(4n);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("numbers never go backwards after every stored event is gone (the parent keeps the last one)", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await emitMany(log, store, 5);
    await store.multi((await store.children(UNINSTALL_EVENTS)).map((c) => ({ kind: "delete", path: `${UNINSTALL_EVENTS}/${c}` })));
    const again = await load();
    expect(again.lastSequence()).toBe(5n);
    expect((await emit(again, store, "svc")).sequence).toBe(6n);
    // Resuming inside what is gone is out of range; from 0 or from the last sequence it is not.
    expect((await failure(drain(again.watch([], 3n, new AbortController().signal, everybody)))).code).toBe("out_of_range");
    const { it: fromLast } = watcher(again, [], 5n);
    expect(await take(fromLast, 1)).toEqual([6n]);
  });

  it("an abandoned write gives its number back when it was the last one, and leaves a gap otherwise", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    const { it } = watcher(log, [], 0n);
    const first = log.prepare(fields("a", "STARTED"));
    log.abandon(first.event);
    const a = log.prepare(fields("a", "STARTED"));
    expect(a.event.sequence).toBe(1n);
    const b = log.prepare(fields("b", "STARTED"));
    const c = log.prepare(fields("c", "STARTED"));
    await store.multi(b.ops);
    log.publish(b.event); // waits for 1
    log.abandon(c.event); // last: 3 is free again
    expect(log.stats().inFlight).toBe(2);
    log.abandon(a.event); // not last: 1 is a gap, 2 goes out
    expect(await take(it, 1)).toEqual([2n]);
    expect(log.prepare(fields("d", "STARTED")).event.sequence).toBe(3n);
    expect(() => log.publish(a.event)).toThrow(/not prepared or already settled/);
  });

  it("delivers in sequence order when writes finish out of order", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    const { it } = watcher(log, [], 0n);
    const got = take(it, 3);
    const one = log.prepare(fields("a", "STARTED"));
    const two = log.prepare(fields("b", "STARTED"));
    const three = log.prepare(fields("c", "STARTED"));
    await store.multi(three.ops);
    log.publish(three.event);
    await store.multi(two.ops);
    log.publish(two.event);
    expect(log.lastSequence()).toBe(0n);
    await store.multi(one.ops);
    log.publish(one.event);
    expect(await got).toEqual([1n, 2n, 3n]);
    expect(log.lastSequence()).toBe(3n);
  });

  it("wipeOps delete every event and the sequence", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await emitMany(log, store, 3);
    await store.multi(log.wipeOps());
    expect(await store.children(UNINSTALL_EVENTS)).toEqual([]);
    expect(await store.get(UNINSTALL_EVENTS)).toBeUndefined();
    const fresh = await load();
    expect(fresh.lastSequence()).toBe(0n);
    // A client that saw 3 before the wipe: those events never existed here.
    expect((await failure(drain(fresh.watch([], 3n, new AbortController().signal, everybody)))).code).toBe("out_of_range");
  });

  it("skips stored values that are not events, and deletes them with the next write", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const text = new TextEncoder();
    await store.multi([
      { kind: "set", path: uninstallEventPath(1n), data: text.encode("{not json") },
      { kind: "set", path: uninstallEventPath(2n), data: text.encode(JSON.stringify({ sequence: "7", name: "x" })) },
      { kind: "set", path: `${UNINSTALL_EVENTS}/stray`, data: text.encode("1") },
    ]);
    const log = await load();
    expect(log.lastSequence()).toBe(2n);
    expect(log.stats().retained).toBe(0);
    const { ops } = log.prepare(fields("a", "STARTED"));
    expect(ops.filter((o) => o.kind === "delete").map((o) => o.path)).toEqual([uninstallEventPath(1n), uninstallEventPath(2n)]);
  });

  it("rejects bad options", async () => {
    await expect(UninstallEventLog.load(new MemoryPersister(), new FakeClock(), { maxEvents: 0 })).rejects.toThrow(/maxEvents/);
    await expect(UninstallEventLog.load(new MemoryPersister(), new FakeClock(), { watcherBuffer: 1.5 })).rejects.toThrow(/watcherBuffer/);
  });
});

describe("UninstallEventLog: watch", () => {
  it("replays retained events after `after`, then follows live ones, in order", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await emitMany(log, store, 3);
    const { it: all } = watcher(log, [], 0n);
    const { it: fromTwo } = watcher(log, [], 2n);
    expect(await take(all, 3)).toEqual([1n, 2n, 3n]);
    const pending = take(all, 2);
    await emit(log, store, "svc");
    await emit(log, store, "svc");
    expect(await pending).toEqual([4n, 5n]);
    expect(await take(fromTwo, 3)).toEqual([3n, 4n, 5n]);
  });

  it("filters by name", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await emit(log, store, "a", "STARTED");
    await emit(log, store, "b", "STARTED");
    const { it } = watcher(log, ["b", "c"], 0n);
    const got = take(it, 3);
    await emit(log, store, "a");
    await emit(log, store, "c", "STARTED");
    await emit(log, store, "a");
    await emit(log, store, "b");
    expect(await got).toEqual([2n, 4n, 6n]);
  });

  it("a client that disconnects in the middle of a burst and resumes with after misses nothing and repeats nothing", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    const received: bigint[] = [];
    const first = watcher(log, [], 0n);
    const reading = (async () => {
      for (;;) {
        const r = await first.it.next();
        if (r.done) return;
        received.push(r.value.sequence);
        if (received.length === 7) first.controller.abort();
      }
    })();
    // A burst whose writes and deliveries interleave with the reader.
    const burst = Array.from({ length: 20 }, () => emit(log, store, "svc"));
    await Promise.all(burst);
    await reading;
    expect(received).toEqual(seqs(1, 7));
    expect(log.watcherCount()).toBe(0);
    const resumed = watcher(log, [], received.at(-1)!);
    const rest = take(resumed.it, 15);
    await emitMany(log, store, 2);
    received.push(...(await rest));
    expect(received).toEqual(seqs(1, 22));
  });

  it("with names, ends once every named service completed or was forced", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    const done = drain(log.watch(["a", "b"], 0n, new AbortController().signal, everybody));
    await emit(log, store, "a", "STARTED");
    await emit(log, store, "b", "STARTED");
    await emit(log, store, "a", "COMPLETED");
    await emit(log, store, "c", "COMPLETED");
    await emit(log, store, "b", "PROGRESS");
    await emit(log, store, "b", "FORCED");
    await emit(log, store, "b", "STARTED");
    const events = await done;
    expect(events.map((e) => `${e.sequence}:${e.name}:${e.kind}`)).toEqual([
      "1:a:STARTED",
      "2:b:STARTED",
      "3:a:COMPLETED",
      "5:b:PROGRESS",
      "6:b:FORCED",
    ]);
    expect(events[4]?.leftovers).toEqual(["task-1"]);
    expect(log.watcherCount()).toBe(0);
  });

  it("a service whose removal already completed gets its COMPLETED at once; one seen before `after` ends the watch", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await emit(log, store, "a", "STARTED");
    await emit(log, store, "a", "COMPLETED");
    await emit(log, store, "b", "STARTED");
    const gone = (n: string): boolean => n === "b";
    expect((await drain(log.watch(["a"], 0n, new AbortController().signal, gone))).map((e) => e.kind)).toEqual(["STARTED", "COMPLETED"]);
    expect(await drain(log.watch(["a"], 2n, new AbortController().signal, gone))).toEqual([]);
    // With b still removing, the watch waits for b only.
    const both = drain(log.watch(["a", "b"], 3n, new AbortController().signal, gone));
    await emit(log, store, "b", "COMPLETED");
    expect((await both).map((e) => e.sequence)).toEqual([4n]);
  });

  it("answers not_found for a name that is no service and has no event", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await emit(log, store, "a", "COMPLETED");
    const err = await failure(drain(log.watch(["a", "ghost", "known"], 0n, new AbortController().signal, (n) => n === "known")));
    expect(err.code).toBe("not_found");
    expect(err.message).toContain("ghost");
    expect(err.message).not.toContain("known");
    expect(log.watcherCount()).toBe(0);
  });

  it("answers out_of_range for a resume point beyond the last sequence", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await emitMany(log, store, 2);
    const err = await failure(drain(log.watch([], 3n, new AbortController().signal, everybody)));
    expect(err.code).toBe("out_of_range");
    expect(err.message).toMatch(/re-list with ListServices/);
  });

  it("abort ends a waiting iterator and unsubscribes; so does abort while the consumer holds an event", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    const waiting = watcher(log, [], 0n);
    const next = waiting.it.next();
    const holding = watcher(log, ["svc"], 0n);
    const held = holding.it.next();
    await emit(log, store, "svc");
    expect((await next).value?.sequence).toBe(1n);
    expect((await held).value?.sequence).toBe(1n);
    expect(log.watcherCount()).toBe(2);
    const second = waiting.it.next();
    waiting.controller.abort();
    expect(await second).toEqual({ done: true, value: undefined });
    holding.controller.abort(); // suspended at its yield, nobody calls next
    expect(log.watcherCount()).toBe(0);
    await emitMany(log, store, 3);
    expect((await holding.it.next()).done).toBe(true);
    // Already aborted: ends at once, never subscribes.
    const aborted = AbortSignal.abort();
    expect(await drain(log.watch([], 0n, aborted, everybody))).toEqual([]);
    expect(log.watcherCount()).toBe(0);
  });

  it("overlapping next() calls are answered in order; return() unsubscribes; nothing subscribes before next()", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    const lazy = log.watch([], 0n, new AbortController().signal, everybody);
    expect(log.watcherCount()).toBe(0);
    const { it } = watcher(log, [], 0n);
    const a = it.next();
    const b = it.next();
    await emitMany(log, store, 2);
    expect([(await a).value?.sequence, (await b).value?.sequence]).toEqual([1n, 2n]);
    expect(log.watcherCount()).toBe(1);
    const c = it.next();
    await it.return!();
    expect(log.watcherCount()).toBe(0);
    expect((await c).done).toBe(true);
    expect(await take(lazy, 2)).toEqual([1n, 2n]);
  });

  it("a watcher that falls behind fails with resource_exhausted; resuming from its last event gets the rest", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load({ watcherBuffer: 4 });
    await emitMany(log, store, 2);
    const slow = watcher(log, [], 0n);
    const fast = watcher(log, [], 0n);
    expect(await take(slow.it, 1)).toEqual([1n]);
    expect(await take(fast.it, 2)).toEqual([1n, 2n]);
    // 8 live events while `slow` reads none: the 5th waiting one overflows it.
    for (let i = 0; i < 8; i++) {
      await emit(log, store, "svc");
      expect(await take(fast.it, 1)).toEqual([BigInt(3 + i)]);
    }
    expect(log.stats()).toMatchObject({ watchers: 1, overflows: 1, maxQueued: 4 });
    const err = await failure(slow.it.next());
    expect(err.code).toBe("resource_exhausted");
    expect(err.message).toContain("delivered up to 1");
    const resumed = watcher(log, [], 1n);
    expect(await take(resumed.it, 9)).toEqual(seqs(2, 10));
    expect(log.stats().maxQueued).toBeLessThanOrEqual(4);
  });

  it("the replay does not count against the watcher buffer", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load({ watcherBuffer: 2 });
    await emitMany(log, store, 10);
    const { it } = watcher(log, [], 0n);
    expect(await take(it, 10)).toEqual(seqs(1, 10));
    expect(log.stats().overflows).toBe(0);
  });
});

describe("UninstallEventLog: retention", () => {
  it("keeps the last maxEvents events in memory and in the store; older resume points are out_of_range", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load({ maxEvents: 3 });
    await emitMany(log, store, 6);
    expect(await store.children(UNINSTALL_EVENTS)).toEqual(["00000000000000000004", "00000000000000000005", "00000000000000000006"]);
    expect(log.stats().retained).toBe(3);
    const err = await failure(drain(log.watch([], 2n, new AbortController().signal, everybody)));
    expect(err.code).toBe("out_of_range");
    expect(err.message).toMatch(/watch from 0/);
    expect(await take(watcher(log, [], 3n).it, 3)).toEqual([4n, 5n, 6n]);
    expect(await take(watcher(log, [], 0n).it, 3)).toEqual([4n, 5n, 6n]);
    // The same after a restart.
    const again = await load({ maxEvents: 3 });
    expect((await failure(drain(again.watch([], 2n, new AbortController().signal, everybody)))).code).toBe("out_of_range");
    expect(await take(watcher(again, [], 3n).it, 3)).toEqual([4n, 5n, 6n]);
  });

  it("drops events older than maxAgeMs", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load({ maxAgeMs: 7 * DAY });
    await emitMany(log, store, 2);
    clock.advance(3 * DAY);
    await emit(log, store, "svc");
    clock.advance(5 * DAY); // 1 and 2 are 8 days old, 3 is 5 days old
    expect((await failure(drain(log.watch([], 1n, new AbortController().signal, everybody)))).code).toBe("out_of_range");
    expect(await take(watcher(log, [], 2n).it, 1)).toEqual([3n]);
    await emit(log, store, "svc");
    expect(await store.children(UNINSTALL_EVENTS)).toEqual(["00000000000000000003", "00000000000000000004"]);
    // A restart 3 more days later drops 3 at load and deletes it with the next write.
    clock.advance(3 * DAY);
    const again = await load({ maxAgeMs: 7 * DAY });
    expect(again.stats().retained).toBe(1);
    expect(again.lastSequence()).toBe(4n);
    await emit(again, store, "svc");
    expect(await store.children(UNINSTALL_EVENTS)).toEqual(["00000000000000000004", "00000000000000000005"]);
  });

  it("a restart reads only the newest maxEvents events and deletes the rest in bounded batches", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const big = await load({ maxEvents: 1000 });
    await emitMany(big, store, 600);
    const small = await load({ maxEvents: 10 });
    expect(small.stats().retained).toBe(10);
    const { ops } = small.prepare(fields("svc", "PROGRESS"));
    expect(ops.filter((o) => o.kind === "delete")).toHaveLength(MAX_PURGE_OPS);
  });

  it("a watcher whose unread events fell out of retention fails with out_of_range; one with none there is moved on", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load({ maxEvents: 3, watcherBuffer: 100 });
    await emitMany(log, store, 3, "a");
    const reader = watcher(log, ["a"], 0n);
    const other = watcher(log, ["b"], 0n);
    expect(await take(reader.it, 1)).toEqual([1n]);
    await emitMany(log, store, 2, "c"); // drops 2 and 3, which `reader` had not taken
    expect((await failure(reader.it.next())).code).toBe("out_of_range");
    const next = take(other.it, 1);
    await emit(log, store, "b");
    expect(await next).toEqual([6n]);
  });
});

describe("UninstallEventLog: every removal of a name is its own removal", () => {
  /** What the scheduler does for one removal: STARTED, then events that name the removal. */
  async function removal(log: UninstallEventLog, name: string, kinds: UninstallEventKind[] = ["PROGRESS", "COMPLETED"]): Promise<UninstallEventView[]> {
    const started = await emit(log, store, name, "STARTED");
    const out = [started];
    for (const kind of kinds) {
      const { event, ops } = log.prepare({ ...fields(name, kind), removalId: started.removalId! });
      await store.multi(ops);
      log.publish(event);
      out.push(event);
    }
    return out;
  }

  const shown = (events: readonly UninstallEventView[]): string[] => events.map((e) => `${e.sequence}/${e.removalId}:${e.name}:${e.kind}`);

  it("each event carries its removal id, the sequence number of its STARTED, in memory and in the store", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    const first = await removal(log, "a");
    const second = await removal(log, "a");
    expect(shown([...first, ...second])).toEqual(["1/1:a:STARTED", "2/1:a:PROGRESS", "3/1:a:COMPLETED", "4/4:a:STARTED", "5/4:a:PROGRESS", "6/4:a:COMPLETED"]);
    expect(decodeJson((await store.get(uninstallEventPath(5n)))!.data)).toMatchObject({ sequence: "5", removalId: "4", kind: "PROGRESS" });
    // An event prepared without one belongs to the name's removal in progress, or to none (0).
    await emit(log, store, "a", "STARTED");
    expect((await emit(log, store, "a", "PROGRESS")).removalId).toBe(7n);
    expect(log.currentRemoval("a")).toBe(7n);
    expect((await emit(log, store, "a", "COMPLETED")).removalId).toBe(7n);
    expect(log.currentRemoval("a")).toBe(0n);
    expect((await emit(log, store, "b", "PROGRESS")).removalId).toBe(0n);
  });

  it("a watch of a name from the start follows its removal in progress: an earlier removal's COMPLETED does not end it", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await removal(log, "a");
    await removal(log, "b", ["PROGRESS"]);
    await removal(log, "a", ["PROGRESS"]); // put again, and being removed again
    const watched = drain(log.watch(["a"], 0n, new AbortController().signal, everybody));
    const { event, ops } = log.prepare({ ...fields("a", "COMPLETED"), removalId: 6n });
    await store.multi(ops);
    log.publish(event);
    expect(shown(await watched)).toEqual(["6/6:a:STARTED", "7/6:a:PROGRESS", "8/6:a:COMPLETED"]);
    expect(log.watcherCount()).toBe(0);
  });

  it("a name that is no service any more replays its latest removal only", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await removal(log, "a");
    await removal(log, "a", ["FORCED"]);
    expect(shown(await drain(log.watch(["a"], 0n, new AbortController().signal, nobody)))).toEqual(["4/4:a:STARTED", "5/4:a:FORCED"]);
  });

  it("a name put again after its removal waits for its next removal", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await removal(log, "a");
    const watched = drain(log.watch(["a"], 0n, new AbortController().signal, everybody));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log.watcherCount()).toBe(1); // waiting, not ended by the finished removal
    await removal(log, "a");
    expect(shown(await watched)).toEqual(["4/4:a:STARTED", "5/4:a:PROGRESS", "6/4:a:COMPLETED"]);
  });

  it("several names: each from its own removal, and the watch ends once each one's followed removal ended", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await removal(log, "a"); // 1-3
    await removal(log, "b"); // 4-6
    const a2 = await removal(log, "a", []); // 7, in progress
    await removal(log, "b"); // 8-10: b is gone, its latest removal replayed
    const watched = drain(log.watch(["a", "b"], 0n, new AbortController().signal, (n) => n === "a"));
    const { event, ops } = log.prepare({ ...fields("a", "COMPLETED"), removalId: a2[0]!.sequence });
    await store.multi(ops);
    log.publish(event);
    expect(shown(await watched)).toEqual(["7/7:a:STARTED", "8/8:b:STARTED", "9/8:b:PROGRESS", "10/8:b:COMPLETED", "11/7:a:COMPLETED"]);
  });

  it("with `after`, a watch resumes as before: every removal after it, ending at the first COMPLETED", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load();
    await removal(log, "a");
    await removal(log, "a", ["PROGRESS"]);
    expect(shown(await drain(log.watch(["a"], 1n, new AbortController().signal, everybody)))).toEqual(["2/1:a:PROGRESS", "3/1:a:COMPLETED"]);
    const { it } = watcher(log, ["a"], 3n);
    expect(await take(it, 2)).toEqual([4n, 5n]);
  });

  it("events of an earlier removal that fall out of retention do not fail a watch that follows a later one", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const log = await load({ maxEvents: 4 });
    await removal(log, "a"); // 1-3
    await removal(log, "a", []); // 4, in progress
    const { it } = watcher(log, ["a"], 0n);
    expect(await take(it, 1)).toEqual([4n]); // skips 1-3
    const reader = watcher(log, ["a"], 0n);
    await emitMany(log, store, 3, "other"); // drops 1-3, which `reader` skips anyway
    const next = take(reader.it, 1);
    expect(await next).toEqual([4n]);
  });

  it("a restart keeps the ids: put, remove, put, remove with restarts in between", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    await removal(await load(), "a");
    const second = await load();
    const started = await emit(second, store, "a", "STARTED");
    expect(started.removalId).toBe(4n);
    const third = await load(); // restarted during the second removal
    expect(third.currentRemoval("a")).toBe(4n);
    const watched = drain(third.watch(["a"], 0n, new AbortController().signal, everybody));
    const done = third.prepare({ ...fields("a", "COMPLETED"), removalId: third.currentRemoval("a") });
    await store.multi(done.ops);
    third.publish(done.event);
    expect(shown(await watched)).toEqual(["4/4:a:STARTED", "5/4:a:COMPLETED"]);
    const fourth = await load();
    expect(shown(await drain(fourth.watch(["a"], 0n, new AbortController().signal, nobody)))).toEqual(["4/4:a:STARTED", "5/4:a:COMPLETED"]);
  });
});

describe("UninstallEventLog: a store written before removal ids", () => {
  const text = new TextEncoder();
  /** An event as stored before removal ids: no `removalId`. */
  const old = (sequence: number, name: string, kind: UninstallEventKind, timeMs = 0) => ({
    kind: "set" as const,
    path: uninstallEventPath(BigInt(sequence)),
    data: text.encode(JSON.stringify({ sequence: String(sequence), name, kind, timeMs, stepsComplete: 0, stepsTotal: 1, leftovers: [], message: "" })),
  });

  it("derives each event's removal id at load: the latest STARTED of its name at or before it", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    clock.advance(10 * DAY);
    const now = clock.now();
    await store.multi([
      old(1, "a", "STARTED", now),
      old(2, "a", "PROGRESS", now),
      old(3, "a", "COMPLETED", now),
      old(4, "b", "STARTED", now),
      old(5, "a", "STARTED", now), // put again, removed again
      old(6, "a", "PROGRESS", now),
      old(7, "b", "COMPLETED", now),
      old(8, "c", "STARTED", now - 8 * DAY), // expired, but still names the removal of 9
      old(9, "c", "PROGRESS", now),
      old(10, "d", "PROGRESS", now), // its STARTED is gone: unknown
      { kind: "set", path: UNINSTALL_EVENTS, data: text.encode('"10"') },
    ]);
    const log = await load();
    const all = await takeAll(log);
    expect(all.map((e) => `${e.sequence}/${e.removalId}`)).toEqual(["1/1", "2/1", "3/1", "4/4", "5/5", "6/5", "7/4", "9/8", "10/0"]);
    expect([log.currentRemoval("a"), log.currentRemoval("b"), log.currentRemoval("c"), log.currentRemoval("d")]).toEqual([5n, 0n, 8n, 0n]);

    // The old store works as a new one: a watch of `a` from the start follows its second removal,
    // and its next event (the scheduler resuming the removal) carries the derived id.
    const watched = drain(log.watch(["a"], 0n, new AbortController().signal, everybody));
    const { event, ops } = log.prepare(fields("a", "COMPLETED"));
    await store.multi(ops);
    log.publish(event);
    expect((await watched).map((e) => `${e.sequence}/${e.removalId}:${e.kind}`)).toEqual(["5/5:STARTED", "6/5:PROGRESS", "11/5:COMPLETED"]);
    expect(decodeJson((await store.get(uninstallEventPath(11n)))!.data)).toMatchObject({ removalId: "5" });
  });

  it("rejects a stored removal id that is not a decimal at or below the sequence number", async () => {
    store = new MemoryPersister();
    clock = new FakeClock();
    const event = (sequence: number, removalId: unknown) => ({
      kind: "set" as const,
      path: uninstallEventPath(BigInt(sequence)),
      data: text.encode(JSON.stringify({ sequence: String(sequence), removalId, name: "a", kind: "PROGRESS", timeMs: clock.now(), stepsComplete: 0, stepsTotal: 1, leftovers: [], message: "" })),
    });
    await store.multi([event(1, "1"), event(2, "3"), event(3, 1), event(4, "x")]);
    const log = await load();
    expect(log.stats().retained).toBe(1);
  });
});

/** Every retained event, without waiting for more. */
async function takeAll(log: UninstallEventLog): Promise<UninstallEventView[]> {
  const ac = new AbortController();
  const it = log.watch([], 0n, ac.signal, everybody)[Symbol.asyncIterator]();
  const out: UninstallEventView[] = [];
  for (;;) {
    const next = await Promise.race([it.next(), new Promise<"idle">((r) => setImmediate(() => r("idle")))]);
    if (next === "idle" || next.done) break;
    out.push(next.value);
  }
  ac.abort();
  return out;
}

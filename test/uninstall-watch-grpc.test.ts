/**
 * WatchUninstall over a real grpc-js server on 127.0.0.1:0: the AdminServer with an AdminApi
 * stub whose watchUninstall is a real UninstallEventLog, driven by the public `corral/client`.
 * Covers delivery, status codes, and a client that stops reading: flow control leaves the
 * backlog in the log's bounded watcher, which fails with RESOURCE_EXHAUSTED; the client resumes.
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { FakeClock } from "../src/adapters/fake-clock.js";
import { AdminServer } from "../src/adapters/grpc/server.js";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import { UninstallEventKind, createAdminClient } from "../src/client/index.js";
import type { AdminClient, UninstallEvent, WatchUninstallResponse } from "../src/client/index.js";
import { SchedulerError } from "../src/domain/errors.js";
import type { AdminApi, UninstallEventKind as Kind, UninstallEventView } from "../src/engine/admin-api.js";
import { UninstallEventLog } from "../src/engine/uninstall-events.js";

const WATCHER_BUFFER = 64;

let store: MemoryPersister;
let clock: FakeClock;
let log: UninstallEventLog;
const known = new Set<string>();
let server: AdminServer;
let admin: AdminClient;

const unimplemented = (): never => {
  throw new SchedulerError("unimplemented", "not in this test");
};

/** Only watchUninstall is real; it reads whatever `log` is at call time. */
const api: AdminApi = {
  putService: async () => unimplemented(),
  uninstallService: async () => unimplemented(),
  watchUninstall: (names, after, signal) => log.watch(names, after, signal, (n) => known.has(n)),
  listServices: () => [],
  getService: () => unimplemented(),
  getPlan: () => unimplemented(),
  getScheduler: () => unimplemented(),
};

async function emit(name: string, kind: Kind, message: string = kind): Promise<UninstallEventView> {
  // Without a removal id: the log gives the name's removal in progress, as Removals would.
  const { event, ops } = log.prepare({ name, kind, stepsComplete: 1, stepsTotal: 2, leftovers: kind === "FORCED" ? ["task-9"] : [], message });
  await store.multi(ops);
  log.publish(event);
  return event;
}

async function rejection(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error("expected the call to fail");
}

async function collect(stream: AsyncIterable<WatchUninstallResponse>): Promise<UninstallEvent[]> {
  const out: UninstallEvent[] = [];
  for await (const { event } of stream) if (event) out.push(event);
  return out;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

beforeAll(async () => {
  server = new AdminServer({ api, logger: pino({ level: "silent" }) });
  const { port } = await server.listen("127.0.0.1:0");
  admin = createAdminClient({ address: `127.0.0.1:${port}` });
});

afterAll(async () => {
  admin.close();
  await server.stop(1000);
});

beforeEach(async () => {
  store = new MemoryPersister();
  clock = new FakeClock();
  log = await UninstallEventLog.load(store, clock, { watcherBuffer: WATCHER_BUFFER });
  known.clear();
});

describe("WatchUninstall over gRPC with the event log", () => {
  it("replays, follows live events and ends when the named service completed", async () => {
    known.add("db");
    await emit("db", "STARTED");
    await emit("other", "STARTED");
    await emit("db", "PROGRESS");
    const events: UninstallEvent[] = [];
    const done = (async () => {
      for await (const { event } of admin.watchUninstall({ names: ["db"] })) {
        events.push(event!);
        if (events.length === 2) await emit("db", "FORCED"); // live, after the replay
      }
    })();
    await done;
    expect(events.map((e) => [e.sequence, e.name, e.kind])).toEqual([
      [1n, "db", UninstallEventKind.STARTED],
      [3n, "db", UninstallEventKind.PROGRESS],
      [4n, "db", UninstallEventKind.FORCED],
    ]);
    expect(events[2]).toMatchObject({ leftovers: ["task-9"], stepsComplete: 1, stepsTotal: 2, message: "FORCED" });
    expect(events[0]?.time).toMatchObject({ seconds: BigInt(Math.floor(clock.now() / 1000)) });
    // Removal already completed: the COMPLETED comes at once and the stream ends.
    known.delete("db");
    expect((await collect(admin.watchUninstall({ names: ["db"], after: 3n }))).map((e) => e.sequence)).toEqual([4n]);
    await vi.waitFor(() => expect(log.watcherCount()).toBe(0));
  });

  it("put, remove, put, remove: each event carries its removal id, and a watch without after follows the current removal", async () => {
    known.add("db");
    await emit("db", "STARTED"); // 1
    await emit("db", "PROGRESS"); // 2
    await emit("db", "COMPLETED"); // 3: removed, then put again
    await emit("db", "STARTED"); // 4: removed again
    const events: UninstallEvent[] = [];
    for await (const { event } of admin.watchUninstall({ names: ["db"] })) {
      events.push(event!);
      if (events.length === 1) await emit("db", "COMPLETED"); // 5, live
    }
    expect(events.map((e) => [e.sequence, e.removalId, e.kind])).toEqual([
      [4n, 4n, UninstallEventKind.STARTED],
      [5n, 4n, UninstallEventKind.COMPLETED],
    ]);
    // A restart in between changes nothing: the ids are stored with the events.
    log = await UninstallEventLog.load(store, clock, { watcherBuffer: WATCHER_BUFFER });
    known.delete("db");
    const latest = await collect(admin.watchUninstall({ names: ["db"] }));
    expect(latest.map((e) => [e.sequence, e.removalId])).toEqual([
      [4n, 4n],
      [5n, 4n],
    ]);
    // With after, it resumes as before: from there, through the first removal's COMPLETED.
    const resumed = await collect(admin.watchUninstall({ names: ["db"], after: 1n }));
    expect(resumed.map((e) => [e.sequence, e.removalId])).toEqual([
      [2n, 1n],
      [3n, 1n],
    ]);
    // A watch of every service replays every removal, each event naming its own.
    const all: bigint[] = [];
    for await (const { event } of admin.watchUninstall({})) {
      all.push(event!.removalId);
      if (all.length === 5) break;
    }
    expect(all).toEqual([1n, 1n, 1n, 4n, 4n]);
    await vi.waitFor(() => expect(log.watcherCount()).toBe(0));
  });

  it("answers OUT_OF_RANGE for a resume point beyond the log and NOT_FOUND for an unknown name", async () => {
    await emit("a", "STARTED");
    const late = await rejection(collect(admin.watchUninstall({ after: 5n })));
    expect(late.code).toBe(grpc.status.OUT_OF_RANGE);
    expect(late.details).toMatch(/re-list with ListServices/);
    const ghost = await rejection(collect(admin.watchUninstall({ names: ["ghost"] })));
    expect(ghost.code).toBe(grpc.status.NOT_FOUND);
  });

  it("answers OUT_OF_RANGE for a resume point older than the retention", async () => {
    log = await UninstallEventLog.load(store, clock, { maxEvents: 2 });
    for (let i = 0; i < 4; i++) await emit("a", "PROGRESS");
    expect((await rejection(collect(admin.watchUninstall({ after: 1n })))).code).toBe(grpc.status.OUT_OF_RANGE);
  });

  it("a client that cancels unsubscribes its watcher", async () => {
    const controller = new AbortController();
    await emit("a", "STARTED");
    const err = await rejection(
      (async () => {
        for await (const _ of admin.watchUninstall({}, { signal: controller.signal })) controller.abort();
      })(),
    );
    expect(err.code).toBe(grpc.status.CANCELLED);
    await vi.waitFor(() => expect(log.watcherCount()).toBe(0));
  });

  it("a client that stops reading gets RESOURCE_EXHAUSTED while the server's backlog stays bounded, and resumes", async () => {
    const big = "x".repeat(2048);
    await emit("svc", "STARTED", big);
    const stream = admin.watchUninstall({})[Symbol.asyncIterator]();
    const first = await stream.next();
    expect(first.value?.event?.sequence).toBe(1n);
    // The client reads nothing more. Publish, letting I/O run, until the watcher overflows:
    // HTTP/2 and grpc-js buffers fill, write() returns false, the handler waits for 'drain'
    // and stops pulling, so the log's count of waiting events reaches watcherBuffer.
    let published = 1;
    while (log.stats().overflows === 0) {
      if (published >= 5000) throw new Error("no overflow after 5,000 events");
      await emit("svc", "PROGRESS", big);
      published++;
      if (published % 8 === 0) await turn();
    }
    expect(log.stats().maxQueued).toBeLessThanOrEqual(WATCHER_BUFFER);
    expect(log.watcherCount()).toBe(0); // the overflowed watcher let go of its place at once
    // More events do not reach it any more.
    for (let i = 0; i < 100; i++) await emit("svc", "PROGRESS", big);
    published += 100;
    expect(log.stats().maxQueued).toBeLessThanOrEqual(WATCHER_BUFFER);

    // Reading again: what was in flight, then RESOURCE_EXHAUSTED.
    const received: bigint[] = [1n];
    const err = await rejection(
      (async () => {
        for (let r = await stream.next(); !r.done; r = await stream.next()) received.push(r.value.event!.sequence);
      })(),
    );
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(err.details).toMatch(/resume with after=/);
    expect(received).toEqual(Array.from({ length: received.length }, (_, i) => BigInt(i + 1)));
    expect(received.length).toBeLessThan(published);

    // Resuming from the last event received delivers exactly the rest.
    const resumed: bigint[] = [];
    for await (const { event } of admin.watchUninstall({ after: received.at(-1)! })) {
      resumed.push(event!.sequence);
      if (event!.sequence === BigInt(published)) break;
    }
    expect([...received, ...resumed]).toEqual(Array.from({ length: published }, (_, i) => BigInt(i + 1)));
    await vi.waitFor(() => expect(log.watcherCount()).toBe(0));
  });
});

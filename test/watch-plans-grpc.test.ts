/**
 * WatchPlans over a real grpc-js server on 127.0.0.1:0: the AdminServer in front of the real
 * scheduler (simulated cluster, memory store, fake clock), driven by the public `corral/client`.
 * A client that loses its stream when the scheduler is replaced (a restart on the same store, as
 * SchedulerKeeper does it) reconnects with `after` and sees every step change exactly once; the
 * names filter; the status codes of bad requests.
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { AdminServer } from "../src/adapters/grpc/server.js";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import { Status, createAdminClient } from "../src/client/index.js";
import type { AdminClient, PlanEvent } from "../src/client/index.js";
import type { AdminApi } from "../src/engine/admin-api.js";
import { createHarness } from "./harness/harness.js";
import type { Harness } from "./harness/harness.js";

let server: AdminServer;
let admin: AdminClient;
/** The scheduler the server answers with; replaced by a restart. */
let current: Harness | undefined;
const running: Harness[] = [];

const scheduler = (): AdminApi => {
  if (!current) throw new Error("no scheduler");
  return current.scheduler;
};

/** Forwards every call to the current scheduler, as the composition root's keeper does. */
const api: AdminApi = {
  putService: (input) => scheduler().putService(input),
  uninstallService: (name) => scheduler().uninstallService(name),
  watchUninstall: (names, after, signal) => scheduler().watchUninstall(names, after, signal),
  listServices: () => scheduler().listServices(),
  getService: (name) => scheduler().getService(name),
  getPlan: (name, plan) => scheduler().getPlan(name, plan),
  getScheduler: () => scheduler().getScheduler(),
  watchPlans: (names, after, signal) => scheduler().watchPlans!(names, after, signal),
};

async function start(h?: Harness): Promise<Harness> {
  const next = await createHarness(h ? { persister: h.persister, cluster: h.cluster, clock: h.clock } : { persister: new MemoryPersister() });
  running.push(next);
  current = next;
  return next;
}

/** A WatchPlans stream read in the background; `events` grows, `error` is set when it breaks. */
function watch(names: string[], after = 0n) {
  const controller = new AbortController();
  const events: PlanEvent[] = [];
  const state: { error: grpc.ServiceError | undefined } = { error: undefined };
  const done = (async () => {
    try {
      for await (const { event } of admin.watchPlans({ names, after }, { signal: controller.signal })) events.push(event!);
    } catch (err) {
      state.error = err as grpc.ServiceError;
    }
  })();
  return {
    events,
    state,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

async function failure(names: string[], after: bigint): Promise<grpc.ServiceError> {
  const w = watch(names, after);
  await vi.waitFor(() => expect(w.state.error).toBeDefined());
  return w.state.error!;
}

const key = (e: PlanEvent): string => `${e.name} ${e.plan}/${e.phase}/${e.step}`;
const shown = (e: PlanEvent): string => `${e.status} ${e.message} [${e.taskIds.join(",")}]`;

beforeAll(async () => {
  server = new AdminServer({ api, logger: pino({ level: "silent" }) });
  const { port } = await server.listen("127.0.0.1:0");
  admin = createAdminClient({ address: `127.0.0.1:${port}` });
});

afterEach(async () => {
  for (const h of running.splice(0)) await h.scheduler.stop();
  current = undefined;
});

afterAll(async () => {
  admin.close();
  await server.stop(1000);
});

describe("WatchPlans over gRPC", () => {
  it("a client that reconnects with after across a scheduler restart sees every step change exactly once", async () => {
    const first = await start();
    await first.put("hello", "hello-world.yml");
    const before = watch(["hello"]);
    await vi.waitFor(() => expect(before.events.some((e) => e.step === "hello-0:[server]")).toBe(true));
    for (let i = 0; i < 5000 && !before.events.some((e) => e.step === "hello-0:[server]" && e.status === Status.COMPLETE); i++) {
      await first.advance(1);
      await new Promise((r) => setImmediate(r));
    }
    expect(first.deployStatus("hello")).not.toBe("COMPLETE");
    // The engine is replaced, as after a lost and regained store lock: the stream ends UNAVAILABLE.
    await first.scheduler.abandon();
    await vi.waitFor(() => expect(before.state.error?.code).toBe(grpc.status.UNAVAILABLE));
    const seen = before.events.at(-1)!.sequence;

    const second = await start(first);
    const after = watch(["hello"], seen);
    await second.deployAll(["hello"]);
    const final = second.scheduler.getPlan("hello", "deploy");
    await vi.waitFor(() => expect(after.events.at(-1)).toMatchObject({ plan: "deploy", phase: "", status: Status.COMPLETE }));
    await after.stop();

    const all = [...before.events, ...after.events];
    expect(all.map((e) => e.sequence)).toEqual(all.map((_, i) => BigInt(i + 1)));
    const last = new Map<string, string>();
    for (const e of all) {
      expect(last.get(key(e)), `${key(e)} told twice`).not.toBe(shown(e));
      last.set(key(e), shown(e));
    }
    expect(after.events.filter((e) => e.step === "hello-0:[server]")).toEqual([]);
    for (const step of final.phases.flatMap((p) => p.steps)) {
      const told = all.filter((e) => e.step === step.name).at(-1)!;
      expect([Status[told.status], told.taskIds]).toEqual([step.status, step.taskIds]);
    }
    expect(all.every((e) => e.generation === 1n && e.name === "hello" && e.time !== undefined)).toBe(true);
  });

  it("names filter the stream; empty names follow every service", async () => {
    const h = await start();
    await h.put("a", "simple.yml");
    await h.put("b", "simple.yml");
    const onlyB = watch(["b"]);
    const every = watch([]);
    await h.deployAll(["a", "b"]);
    await vi.waitFor(() => expect(onlyB.events.at(-1)).toMatchObject({ name: "b", plan: "deploy", phase: "", status: Status.COMPLETE }));
    await vi.waitFor(() => expect(new Set(every.events.map((e) => e.name))).toEqual(new Set(["a", "b"])));
    await onlyB.stop();
    await every.stop();
    expect(onlyB.events.every((e) => e.name === "b")).toBe(true);
    expect(onlyB.events.map((e) => e.sequence)).toEqual(every.events.filter((e) => e.name === "b").map((e) => e.sequence));
  });

  it("answers INVALID_ARGUMENT for a bad name, NOT_FOUND for an unknown service, OUT_OF_RANGE for after beyond the last event", async () => {
    const h = await start();
    await h.put("hello", "simple.yml");
    await h.deployAll(["hello"]);
    const bad = await failure(["ok", "no__pe"], 0n);
    expect(bad.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(bad.details).toMatch(/names\[1\]/);
    expect((await failure(["nobody"], 0n)).code).toBe(grpc.status.NOT_FOUND);
    const all = watch([]);
    await vi.waitFor(() => expect(all.events.at(-1)).toMatchObject({ plan: "deploy", phase: "", status: Status.COMPLETE }));
    await all.stop();
    const last = all.events.at(-1)!.sequence;
    expect((await failure([], last + 1n)).code).toBe(grpc.status.OUT_OF_RANGE);
    // At the last event exactly is a valid resume point: the stream goes on with the next change.
    const next = watch([], last);
    await h.put("other", "simple.yml");
    await vi.waitFor(() => expect(next.events.length).toBeGreaterThan(0));
    await next.stop();
    expect(next.events[0]).toMatchObject({ sequence: last + 1n, name: "other" });
  });
});

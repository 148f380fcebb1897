/**
 * The tracing wrappers keep the ports as they are (optional members absent stay absent, errors
 * pass through unchanged), name services as documented, and one tracing instance never sees
 * another's spans or a scheduler that is not traced: nothing is registered globally.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { AdminServer } from "../../src/adapters/grpc/server.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { startTracing } from "../../src/adapters/tracing/index.js";
import type { Tracing } from "../../src/adapters/tracing/index.js";
import { serviceAttributes, serviceOfPath, servicesOfPaths } from "../../src/adapters/tracing/service-attributes.js";
import { createAdminClient } from "../../src/client/index.js";
import { SchedulerError } from "../../src/domain/errors.js";
import type { AdminApi } from "../../src/engine/admin-api.js";
import type { ClusterDriver, Persister, TaskFiles } from "../../src/engine/ports.js";
import { encodeText } from "../../src/engine/store/codec.js";
import { MAX_TRACED_TURNS } from "../../src/engine/multi-service-event-client.js";
import { NEW_TRACE, NO_TRACER } from "../../src/engine/telemetry.js";
import type { Tracer } from "../../src/engine/telemetry.js";
import { createHarness } from "../harness/harness.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import type { OtlpReceiver } from "./otlp-receiver.js";

const silent = pino({ level: "silent" });
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function traced(frameworkName = "fw"): Promise<{ receiver: OtlpReceiver; tracing: Tracing }> {
  const receiver = await startOtlpReceiver();
  const tracing = startTracing({ endpoint: receiver.url, frameworkName, tracesPerSecond: Number.POSITIVE_INFINITY, logger: silent });
  cleanups.push(() => receiver.close(), () => tracing.close());
  return { receiver, tracing };
}

/** A store with only the required members. */
function bareStore(inner = new MemoryPersister()): Persister {
  return { get: (p) => inner.get(p), children: (p) => inner.children(p), multi: (ops) => inner.multi(ops), close: () => inner.close() };
}

describe("service attributes", () => {
  it("reads the service from store paths, undoing the escaping", () => {
    expect(serviceOfPath("Services/team__db/Tasks/a-0-b/TaskInfo")).toBe("team/db");
    expect(serviceOfPath("ServiceList/hello")).toBe("hello");
    expect(serviceOfPath("ServiceList/hello/Removal")).toBe("hello");
    expect(serviceOfPath("PlanEvents/Seen/a__b__c")).toBe("a/b/c");
    for (const none of ["Services", "ServiceList", "FrameworkID", "UninstallEvents/00000000000000000001", "Tasks/x/TaskInfo", "PlanEvents/00000000000000000003"]) {
      expect(serviceOfPath(none)).toBeUndefined();
    }
    // Schema 1 (mono): the root nodes of the one service, the framework's.
    for (const mono of ["Tasks/hello-0-server/TaskInfo", "ConfigTarget", "Configurations/abc", "ServiceContext", "ServiceRemoval"]) {
      expect(serviceOfPath(mono, "fw")).toBe("fw");
    }
    for (const none of ["FrameworkID", "SchemaVersion", "UninstallEvents", "Backups"]) expect(serviceOfPath(none, "fw")).toBeUndefined();
  });

  it("names one service, or the first of several with their count and list", () => {
    expect(serviceAttributes(new Set())).toEqual({});
    expect(serviceAttributes(new Set(["a"]))).toEqual({ "corral.service": "a" });
    expect(serviceAttributes(servicesOfPaths(["Services/b/Tasks/x", "ServiceList/a", "Services/b/ConfigTarget", "FrameworkID"]))).toEqual({
      "corral.service": "a",
      "corral.service.count": 2,
      "corral.services": ["a", "b"],
    });
  });
});

describe("traced ports", () => {
  it("keeps a store's optional members absent, and forwards them when present", async () => {
    const { tracing } = await traced();
    const bare = tracing.wrapPersister(bareStore());
    expect("getMany" in bare).toBe(false);
    expect("maxMultiBytes" in bare).toBe(false);
    const inner = new MemoryPersister();
    const limited = Object.assign(bareStore(inner), { maxMultiBytes: 1234, getMany: (paths: readonly string[]) => inner.getMany(paths) });
    const wrapped = tracing.wrapPersister(limited);
    expect(wrapped.maxMultiBytes).toBe(1234);
    await wrapped.multi([{ kind: "set", path: "ServiceList/a", data: encodeText("x") }]);
    expect((await wrapped.getMany!(["ServiceList/a", "ServiceList/b"])).map((v) => v?.version)).toEqual([0, undefined]);
  });

  it("keeps a driver's taskFiles as they are", async () => {
    const { tracing } = await traced();
    const clock = new FakeClock();
    const cluster = new SimulatedCluster({ agents: 1, clock, random: new SeededRandom(1) });
    const calls = ["subscribe", "accept", "decline", "kill", "acknowledge", "reconcile", "revive", "suppress", "teardown", "close"] as const;
    const withoutFiles = Object.fromEntries(calls.map((k) => [k, cluster[k].bind(cluster)])) as unknown as ClusterDriver;
    expect("taskFiles" in tracing.wrapDriver(withoutFiles)).toBe(false);
    const files: TaskFiles = { sandboxOf: async () => undefined, readFile: async () => undefined };
    expect(tracing.wrapDriver({ ...withoutFiles, taskFiles: files }).taskFiles).toBe(files);
  });

  it("passes a store error through unchanged and marks its span failed", async () => {
    const { receiver, tracing } = await traced();
    const refused = new SchedulerError("unavailable", "store down");
    const store = { ...bareStore(), multi: async () => Promise.reject(refused) };
    const write = () => tracing.wrapPersister(store).multi([{ kind: "delete", path: "Services/a" }]);
    await expect(tracing.tracer.inSpan("engine.work", {}, write, NEW_TRACE)).rejects.toBe(refused);
    await tracing.flush();
    const [multi, work] = receiver.spans;
    expect(receiver.spans).toMatchObject([
      { name: "store.multi", statusCode: 2, attributes: { "corral.service": "a", "store.ops": 1 } },
      { name: "engine.work", statusCode: 2 },
    ]);
    expect(multi!.parentSpanId).toBe(work!.spanId);
  });

  it("marks an RPC that failed with its gRPC code", async () => {
    const { receiver, tracing } = await traced();
    const api = {
      putService: async () => {
        throw new SchedulerError("invalid_argument", "bad spec");
      },
    } as unknown as AdminApi;
    const server = new AdminServer({ api, logger: silent, observer: tracing.observer });
    const { port } = await server.listen("127.0.0.1:0");
    const admin = createAdminClient({ address: `127.0.0.1:${port}` });
    cleanups.push(async () => {
      admin.close();
      await server.stop(1000);
    });
    await expect(admin.putService({ name: "bad", spec: "x" })).rejects.toThrow(/bad spec/);
    await tracing.flush();
    expect(receiver.spans).toMatchObject([{ name: "grpc PutService", kind: 2, statusCode: 2, attributes: { "rpc.grpc.status_code": 3, "corral.service": "bad" } }]);
  });
});

describe("engine spans", () => {
  it("start each offer cycle and status batch in a trace of its own, even from a timer armed inside a request", async () => {
    const { receiver, tracing } = await traced();
    const { tracer } = tracing;
    await tracer.inSpan("engine.putService", { "corral.service": "a" }, async () => {
      // The runner's real clock: setTimeout keeps the context it was armed in.
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          void tracer.inSpan("engine.offerCycle", {}, () => tracer.inSpan("engine.evaluateOffers", { "corral.service": "a" }, async () => undefined), NEW_TRACE).then(resolve);
        }, 0),
      );
      await tracer.inSpan("engine.statusUpdates", {}, async () => undefined, NEW_TRACE);
    }, NEW_TRACE);
    await tracing.flush();
    const byName = new Map(receiver.spans.map((s) => [s.name, s]));
    expect(byName.get("engine.offerCycle")?.parentSpanId).toBe("");
    expect(byName.get("engine.statusUpdates")?.parentSpanId).toBe("");
    expect(byName.get("engine.offerCycle")?.traceId).not.toBe(byName.get("engine.putService")?.traceId);
    expect(byName.get("engine.evaluateOffers")?.parentSpanId).toBe(byName.get("engine.offerCycle")?.spanId);
  });

  it("give at most MAX_TRACED_TURNS services' turns with offers a span each, per offer cycle", async () => {
    const events: string[] = [];
    const tracer: Tracer = {
      ...NO_TRACER,
      async inSpan(name, _attributes, fn) {
        events.push(`start ${name}`);
        try {
          return await fn();
        } finally {
          events.push(`end ${name}`);
        }
      },
    };
    const h = await createHarness({ agents: 8, deps: { tracer } });
    const names = Array.from({ length: MAX_TRACED_TURNS + 8 }, (_, i) => `svc-${i}`);
    for (const name of names) await h.put(name, "hello-world.yml");
    await h.deployAll(names);
    await h.scheduler.stop();
    const turnsPerCycle: number[] = [];
    for (const e of events) {
      if (e === "start engine.offerCycle") turnsPerCycle.push(0);
      if (e === "start engine.evaluateOffers") turnsPerCycle[turnsPerCycle.length - 1]! += 1;
    }
    expect(Math.max(...turnsPerCycle)).toBe(MAX_TRACED_TURNS);
  });

  it("fail when the work throws, and the error goes on unchanged", async () => {
    const { receiver, tracing } = await traced();
    const boom = new Error("boom");
    await expect(tracing.tracer.inSpan("engine.removal", { "corral.service": "a" }, async () => Promise.reject(boom), NEW_TRACE)).rejects.toBe(boom);
    await tracing.flush();
    expect(receiver.spans).toMatchObject([{ name: "engine.removal", statusCode: 2, attributes: { "corral.service": "a" } }]);
  });
});

describe("tracing instances", () => {
  it("export only their own spans; a scheduler without tracing exports nothing", async () => {
    const a = await traced("fw-a");
    const b = await traced("fw-b");
    const quiet = await createHarness();
    const loud = await createHarness({ persister: a.tracing.wrapPersister(new MemoryPersister()), deps: { tracer: a.tracing.tracer } });
    await quiet.put("quiet", "hello-world.yml");
    // As an RPC would: engine.putService is part of the request's trace.
    await a.tracing.tracer.inSpan("request", {}, () => loud.put("loud", "hello-world.yml"), NEW_TRACE);
    await b.tracing.tracer.inSpan("b.only", {}, async () => undefined, NEW_TRACE);
    await Promise.all([a.tracing.flush(), b.tracing.flush()]);
    await Promise.all([quiet.scheduler.stop(), loud.scheduler.stop()]);
    expect(a.receiver.spans.length).toBeGreaterThan(0);
    expect(a.receiver.spans.every((s) => s.resource["corral.framework"] === "fw-a")).toBe(true);
    expect(a.receiver.spans.some((s) => s.attributes["corral.service"] === "loud")).toBe(true);
    expect(a.receiver.spans.filter((s) => JSON.stringify(s.attributes).includes("quiet"))).toEqual([]);
    expect(b.receiver.spans.map((s) => [s.name, s.parentSpanId, s.resource["corral.framework"]])).toEqual([["b.only", "", "fw-b"]]);
  });

  it("say once that exports fail, not once per batch", async () => {
    const receiver = await startOtlpReceiver();
    const warnings: object[] = [];
    const logger = { info: () => undefined, warn: (obj: object) => void warnings.push(obj) };
    // The receiver answers 400 (not retried) for any other path.
    const tracing = startTracing({ endpoint: `${receiver.url}/elsewhere`, frameworkName: "fw", tracesPerSecond: Number.POSITIVE_INFINITY, logger });
    cleanups.push(() => receiver.close(), () => tracing.close());
    for (let i = 0; i < 3; i++) {
      await tracing.tracer.inSpan(`work-${i}`, {}, async () => undefined, NEW_TRACE);
      await tracing.flush();
    }
    expect(receiver.rejected).toHaveLength(3);
    expect(receiver.spans).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ endpoint: `${receiver.url}/elsewhere`, spans: 1 });
  });

  it("export nothing after close, while the wrapped ports keep working", async () => {
    const { receiver, tracing } = await traced();
    const store = tracing.wrapPersister(new MemoryPersister());
    await tracing.close();
    await store.multi([{ kind: "set", path: "ServiceList/late", data: encodeText("x") }]);
    expect((await store.get("ServiceList/late"))?.version).toBe(0);
    await tracing.tracer.inSpan("late", {}, async () => undefined, NEW_TRACE);
    await tracing.flush();
    expect(receiver.spans).toEqual([]);
  });
});

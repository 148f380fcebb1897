/**
 * Tracing end to end in one process: the real AdminServer with the tracing call observer, the
 * scheduler on the simulated cluster and a memory store (both wrapped), and a real OTLP/HTTP
 * receiver the exporter posts to. A PutService is one trace from the RPC to the store write;
 * each offer cycle is a trace of its own, the services' turns and the ACCEPTs in it; every span
 * about the service names it (a foldered name: store paths escape it, task IDs sanitize it).
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { AdminServer } from "../../src/adapters/grpc/server.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { startTracing } from "../../src/adapters/tracing/index.js";
import type { Tracing } from "../../src/adapters/tracing/index.js";
import { createAdminClient } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import type { OtlpReceiver, ReceivedSpan } from "./otlp-receiver.js";

const NAME = "team/hello";
const SANITIZED = "team.hello";
const ESCAPED = "team__hello";

let receiver: OtlpReceiver;
let tracing: Tracing;
let h: Harness;
let server: AdminServer;
let admin: AdminClient;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  tracing = startTracing({ endpoint: receiver.url, frameworkName: "corral-test", tracesPerSecond: Number.POSITIVE_INFINITY, logger: pino({ level: "silent" }) });
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({ agents: 3, clock, random: new SeededRandom(99) });
  h = await createHarness({
    clock,
    cluster,
    persister: tracing.wrapPersister(new MemoryPersister()),
    deps: { driver: tracing.wrapDriver(cluster), tracer: tracing.tracer },
  });
  server = new AdminServer({ api: h.scheduler, logger: pino({ level: "silent" }), observer: tracing.observer });
  const { port } = await server.listen("127.0.0.1:0");
  admin = createAdminClient({ address: `127.0.0.1:${port}` });
  await admin.putService({ name: NAME, spec: example("hello-world.yml") });
  await h.settle();
  await h.deployAll([NAME]);
  await admin.uninstallService({ name: NAME });
  for (let i = 0; i < 60 && h.scheduler.listServices().length > 0; i++) await h.advance(1000);
  expect(h.scheduler.listServices()).toEqual([]);
  await tracing.flush();
});

afterAll(async () => {
  admin?.close();
  await server?.stop(1000);
  await h?.scheduler.stop();
  await tracing?.close();
  await receiver?.close();
});

function named(name: string): ReceivedSpan[] {
  return receiver.spans.filter((s) => s.name === name);
}

function byId(): Map<string, ReceivedSpan> {
  return new Map(receiver.spans.map((s) => [s.spanId, s]));
}

/** The names of `span`'s ancestors, nearest first; the chain must stay in one trace. */
function ancestors(span: ReceivedSpan): string[] {
  const spans = byId();
  const out: string[] = [];
  for (let p = spans.get(span.parentSpanId); p; p = spans.get(p.parentSpanId)) {
    expect(p.traceId).toBe(span.traceId);
    out.push(p.name);
  }
  return out;
}

describe("tracing across gRPC, engine, store and driver", () => {
  it("exports OTLP JSON with the corral resource", () => {
    expect(receiver.rejected).toEqual([]);
    expect(receiver.spans.length).toBeGreaterThan(0);
    for (const s of receiver.spans) {
      expect(s.resource["service.name"]).toBe("corral");
      expect(s.resource["corral.framework"]).toBe("corral-test");
    }
  });

  it("makes a PutService one trace: grpc PutService → engine.putService → store.multi", () => {
    const [rpc, ...more] = named("grpc PutService");
    expect(more).toEqual([]);
    expect(rpc).toMatchObject({ kind: 2, parentSpanId: "", attributes: { "rpc.system": "grpc", "rpc.method": "PutService", "corral.service": NAME, "rpc.grpc.status_code": 0 } });
    const put = named("engine.putService").find((s) => s.parentSpanId === rpc!.spanId);
    expect(put).toMatchObject({ traceId: rpc!.traceId, attributes: { "corral.service": NAME } });
    const writes = named("store.multi").filter((s) => s.traceId === rpc!.traceId);
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes) {
      expect(ancestors(w)).toEqual(["engine.putService", "grpc PutService"]);
      expect(w.attributes["corral.service"], JSON.stringify(w.attributes)).toBe(NAME);
    }
  });

  it("makes each offer cycle a trace of its own, with each service's turn and its ACCEPTs under spans naming it", () => {
    const cycles = named("engine.offerCycle");
    expect(cycles.length).toBeGreaterThan(0);
    for (const c of cycles) expect(c.parentSpanId).toBe("");
    const accepts = named("driver.accept").filter((a) => a.attributes["corral.service"] === NAME);
    expect(accepts.length).toBeGreaterThan(0);
    for (const a of accepts) {
      // The driver call for the service sits under the engine's span naming it.
      expect(ancestors(a)).toEqual(["engine.acceptOffer", "engine.offerCycle"]);
      expect(byId().get(a.parentSpanId)?.attributes["corral.service"]).toBe(NAME);
      const turns = named("engine.evaluateOffers").filter((e) => e.traceId === a.traceId);
      expect(turns.map((t) => t.attributes["corral.service"])).toContain(NAME);
    }
    const launch = accepts.find((a) => (a.attributes["corral.operations"] as string[]).includes("LAUNCH_GROUP"));
    expect(launch).toBeDefined();
    // The service's turn stored its launches and reserved: store and driver spans of the cycle name it.
    const cycleWrites = named("store.multi").filter((s) => s.traceId === launch!.traceId && s.attributes["corral.service"] === NAME);
    expect(cycleWrites.length).toBeGreaterThan(0);
  });

  it("puts status batches and removals in spans naming the service", () => {
    const statuses = named("engine.statusUpdates");
    expect(statuses.length).toBeGreaterThan(0);
    for (const s of statuses) expect(s.attributes["corral.service"]).toBe(NAME);
    const acks = named("driver.acknowledge");
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(ancestors(a)).toContain("engine.statusUpdates");
    const removals = named("engine.removal");
    expect(removals.map((r) => r.attributes["corral.removal"]).sort()).toEqual(["begin", "finish"]);
    for (const r of removals) expect(r.attributes["corral.service"]).toBe(NAME);
    const kills = named("driver.kill");
    expect(kills.length).toBeGreaterThan(0);
  });

  it("names the service on every span that concerns it, by its own name", () => {
    const concern = receiver.spans.filter((s) => {
      const path = s.attributes["store.path"];
      const task = s.attributes["corral.task_id"];
      return (
        (typeof path === "string" && (path.startsWith(`Services/${ESCAPED}/`) || path.startsWith(`ServiceList/${ESCAPED}`))) ||
        (typeof task === "string" && task.startsWith(`${SANITIZED}__`)) ||
        s.name.startsWith("engine.putService") ||
        s.name === "engine.evaluateOffers" ||
        s.name === "engine.acceptOffer" ||
        s.name === "engine.removal" ||
        s.name === "grpc PutService" ||
        s.name === "grpc UninstallService"
      );
    });
    expect(concern.length).toBeGreaterThan(10);
    const unnamed = concern.filter((s) => s.attributes["corral.service"] !== NAME).map((s) => `${s.name} ${JSON.stringify(s.attributes)}`);
    expect(unnamed).toEqual([]);
  });
});

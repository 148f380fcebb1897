/**
 * Mono mode keeps its one service's nodes at the store's root (schema 1) and its reservations
 * carry no namespace label: the store's and the driver's spans still name the service, the
 * framework's (from the framework name and the task IDs).
 */
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { startTracing } from "../../src/adapters/tracing/index.js";
import type { Tracing } from "../../src/adapters/tracing/index.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import type { OtlpReceiver } from "./otlp-receiver.js";

let receiver: OtlpReceiver;
let tracing: Tracing;
let h: Harness;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  // The harness's framework is "corral": the mono service is named like it.
  tracing = startTracing({ endpoint: receiver.url, frameworkName: "corral", tracesPerSecond: Number.POSITIVE_INFINITY, logger: pino({ level: "silent" }) });
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({ agents: 3, clock, random: new SeededRandom(99) });
  h = await createHarness({
    clock,
    cluster,
    persister: tracing.wrapPersister(new MemoryPersister()),
    deps: { driver: tracing.wrapDriver(cluster), tracer: tracing.tracer },
    scheduler: { serviceMode: "mono", staticServices: [{ file: "/etc/corral/svc.yml", base: "svc", spec: example("hello-world.yml"), parameters: {} }] },
  });
  await h.deployAll(["corral"]);
  await tracing.flush();
});

afterAll(async () => {
  await h?.scheduler.stop();
  await tracing?.close();
  await receiver?.close();
});

describe("tracing in mono mode", () => {
  it("names the one service on its schema-1 store spans and its driver calls", async () => {
    const reads = receiver.spans.filter((s) => /^(Tasks|ConfigTarget|Configurations|ServiceContext)/.test(String(s.attributes["store.path"] ?? "")));
    for (const s of reads) expect(s.attributes["corral.service"]).toBe("corral");
    // The service's writes reach the store at schema-1 paths only (Services/… would name it anyway).
    expect(await h.persister.children("Services")).toEqual([]);
    // Status batches write the tasks' nodes (`Tasks/<task>/TaskStatus` in schema 1) and nothing else.
    const batches = new Set(receiver.spans.filter((s) => s.name === "engine.statusUpdates").map((s) => s.spanId));
    const statusWrites = receiver.spans.filter((s) => s.name === "store.multi" && batches.has(s.parentSpanId));
    expect(statusWrites.length).toBeGreaterThan(0);
    for (const s of statusWrites) expect(s.attributes["corral.service"]).toBe("corral");
    const launches = receiver.spans.filter((s) => s.name === "driver.accept" && (s.attributes["corral.operations"] as string[]).includes("LAUNCH_GROUP"));
    expect(launches.length).toBeGreaterThan(0);
    for (const s of launches) expect(s.attributes["corral.service"]).toBe("corral");
    for (const s of receiver.spans.filter((x) => x.name === "driver.acknowledge")) expect(s.attributes["corral.service"]).toBe("corral");
  });
});

/**
 * What tracing records and what it leaves out: new traces within the budget (trace-budget.ts),
 * spans that are parts of a trace only inside a recorded, open span, and nothing computed for
 * what is left out.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { startTracing } from "../../src/adapters/tracing/index.js";
import type { Tracing } from "../../src/adapters/tracing/index.js";
import { TraceBudget } from "../../src/adapters/tracing/trace-budget.js";
import { encodeText } from "../../src/engine/store/codec.js";
import { NEW_TRACE } from "../../src/engine/telemetry.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import type { OtlpReceiver } from "./otlp-receiver.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function traced(tracesPerSecond: number): Promise<{ receiver: OtlpReceiver; tracing: Tracing }> {
  const receiver = await startOtlpReceiver();
  const tracing = startTracing({ endpoint: receiver.url, frameworkName: "fw", tracesPerSecond, logger: pino({ level: "silent" }) });
  cleanups.push(() => receiver.close(), () => tracing.close());
  return { receiver, tracing };
}

describe("the trace budget", () => {
  it("allows a second's worth at once, then refills at the rate, never past one second's worth", () => {
    let now = 0;
    const budget = new TraceBudget(2, () => now);
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, false]);
    now = 499;
    expect(budget.take()).toBe(false);
    now = 500;
    expect([budget.take(), budget.take()]).toEqual([true, false]);
    now = 60_000; // a long quiet spell refills to 2, not 120
    expect([budget.take(), budget.take(), budget.take()]).toEqual([true, true, false]);
  });

  it("records every trace when unlimited and none at 0", () => {
    const all = new TraceBudget(Number.POSITIVE_INFINITY, () => 0);
    const none = new TraceBudget(0, () => 0);
    for (let i = 0; i < 1000; i++) expect(all.take()).toBe(true);
    expect(none.take()).toBe(false);
  });
});

describe("spans left out", () => {
  it("past the budget: the trace and everything under it, with no attributes computed", async () => {
    const { receiver, tracing } = await traced(1);
    const store = tracing.wrapPersister(new MemoryPersister());
    let computed = 0;
    const attributes = () => {
      computed++;
      return { "corral.service": "a" };
    };
    for (const name of ["first", "second"]) {
      await tracing.tracer.inSpan(name, attributes, async () => {
        await tracing.tracer.inSpan("engine.part", attributes, () => store.multi([{ kind: "set", path: `ServiceList/${name}`, data: encodeText("x") }]));
      }, NEW_TRACE);
    }
    await tracing.flush();
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(["engine.part", "first", "store.multi"]);
    expect(computed).toBe(2);
    // The work ran all the same.
    expect((await store.get("ServiceList/second"))?.version).toBe(0);
  });

  it("a part of a trace outside any recorded span, or after its span ended, is not recorded", async () => {
    const { receiver, tracing } = await traced(Number.POSITIVE_INFINITY);
    const store = tracing.wrapPersister(new MemoryPersister());
    await store.multi([{ kind: "set", path: "ServiceList/alone", data: encodeText("x") }]);
    await tracing.tracer.inSpan("engine.part", {}, async () => undefined);
    let late: Promise<void> | undefined;
    let armed: () => void = () => undefined;
    const fired = new Promise<void>((resolve) => (armed = resolve));
    await tracing.tracer.inSpan("engine.work", {}, async () => {
      // A timer armed inside the span keeps its context, and fires after the span ended.
      setTimeout(() => {
        late = store.multi([{ kind: "set", path: "ServiceList/late", data: encodeText("x") }]);
        armed();
      }, 5);
    }, NEW_TRACE);
    await fired;
    await late;
    await tracing.flush();
    expect(receiver.spans.map((s) => s.name)).toEqual(["engine.work"]);
    expect((await store.get("ServiceList/late"))?.version).toBe(0);
  });
});

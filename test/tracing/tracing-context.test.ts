/**
 * The trace context is carried without async hooks (engine/telemetry.ts): synchronously while a
 * span's code runs, and by the running work item after its `await`s. These tests hold the engine
 * port's rules against the OpenTelemetry adapter.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { startTracing } from "../../src/adapters/tracing/index.js";
import type { Tracing } from "../../src/adapters/tracing/index.js";
import { encodeText } from "../../src/engine/store/codec.js";
import type { Persister } from "../../src/engine/ports.js";
import { NEW_TRACE } from "../../src/engine/telemetry.js";
import type { Tracer } from "../../src/engine/telemetry.js";
import { WorkQueue } from "../../src/engine/work-queue.js";
import { startOtlpReceiver } from "./otlp-receiver.js";
import type { OtlpReceiver, ReceivedSpan } from "./otlp-receiver.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every trace recorded, sent to a receiver; a traced store and a work queue on the engine's tracer. */
async function traced(): Promise<{ receiver: OtlpReceiver; tracing: Tracing; tracer: Tracer; store: Persister; queue: WorkQueue }> {
  const receiver = await startOtlpReceiver();
  const tracing = startTracing({ endpoint: receiver.url, frameworkName: "fw", tracesPerSecond: Number.POSITIVE_INFINITY, logger: pino({ level: "silent" }) });
  cleanups.push(() => receiver.close(), () => tracing.close());
  const { tracer } = tracing;
  return { receiver, tracing, tracer, store: tracing.wrapPersister(new MemoryPersister()), queue: new WorkQueue(pino({ level: "silent" }), tracer) };
}

const set = (path: string) => [{ kind: "set" as const, path, data: encodeText("x") }];
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
function parentName(spans: readonly ReceivedSpan[], name: string): string | undefined {
  const span = spans.find((s) => s.name === name);
  return spans.find((s) => s.spanId === span?.parentSpanId)?.name;
}

describe("the trace context without async hooks", () => {
  it("a work item queued from a request is part of its trace, even after its awaits", async () => {
    const { receiver, tracing, tracer, store, queue } = await traced();
    await tracer.inSpan("request", {}, async () => {
      const trace = tracer.current();
      await turn(); // the request waits its turn: its span is no longer current
      await queue.run("item", async () => {
        await turn();
        await store.multi(set("ServiceList/a"));
      }, trace);
    }, NEW_TRACE);
    await tracing.flush();
    expect(parentName(receiver.spans, "store.multi")).toBe("request");
  });

  it("siblings ending in any order leave the item's open span current", async () => {
    const { receiver, tracing, tracer, store, queue } = await traced();
    await queue.run("cycle", () =>
      tracer.inSpan("cycle", {}, async () => {
        // The first to start ends last: ACCEPTs go out together and answer in any order.
        await Promise.all([
          tracer.inSpan("first", {}, async () => {
            await turn();
            await turn();
          }),
          tracer.inSpan("second", {}, async () => turn()),
        ]);
        await store.multi(set("ServiceList/after"));
      }, NEW_TRACE),
    );
    await tracing.flush();
    expect(parentName(receiver.spans, "first")).toBe("cycle");
    expect(parentName(receiver.spans, "second")).toBe("cycle");
    expect(parentName(receiver.spans, "store.multi")).toBe("cycle");
  });

  it("calls made outside, beside the running item, are part of no trace", async () => {
    const { receiver, tracing, tracer, store, queue } = await traced();
    let beside: Promise<void> | undefined;
    await queue.run("item", () =>
      tracer.inSpan("item", {}, async () => {
        await turn();
        // A timer's retry or a writer that goes on after its item, made while this item waits.
        beside = tracer.outside(() => store.multi(set("ServiceList/beside")));
        await store.multi(set("ServiceList/own"));
      }, NEW_TRACE),
    );
    await beside;
    await tracing.flush();
    const multis = receiver.spans.filter((s) => s.name === "store.multi");
    expect(multis).toHaveLength(1);
    expect(multis[0]!.attributes["corral.service"]).toBe("own");
  });

  it("an item queued without a trace (engine work of its own) is part of none until it starts one", async () => {
    const { receiver, tracing, tracer, store, queue } = await traced();
    await tracer.inSpan("request", {}, async () => {
      queue.post("own", async () => {
        await store.multi(set("ServiceList/untraced"));
        await tracer.inSpan("engine.own", {}, async () => {
          await turn();
          await store.multi(set("ServiceList/traced"));
        }, NEW_TRACE);
      });
      await queue.idle();
    }, NEW_TRACE);
    await tracing.flush();
    const multis = receiver.spans.filter((s) => s.name === "store.multi");
    expect(multis.map((s) => s.attributes["corral.service"])).toEqual(["traced"]);
    expect(parentName(receiver.spans, "store.multi")).toBe("engine.own");
    expect(receiver.spans.find((s) => s.name === "engine.own")?.parentSpanId).toBe("");
  });

  it("no source file uses async hooks (they would slow every await of the process once on)", () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith(".ts") && /async_hooks|AsyncLocalStorage|AsyncResource/.test(readFileSync(path, "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ""))) offenders.push(path);
      }
    };
    walk(new URL("../../src", import.meta.url).pathname);
    expect(offenders).toEqual([]);
  });
});

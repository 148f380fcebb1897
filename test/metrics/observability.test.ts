/**
 * startObservability composes metrics and tracing: both off is no wrapping at all; both on,
 * one call observer feeds the gRPC counters and a span, and the store is timed and traced.
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { NO_OBSERVER } from "../../src/adapters/grpc/call-observer.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { resolveOptions } from "../../src/config.js";
import { NO_TRACER } from "../../src/engine/telemetry.js";
import { startObservability } from "../../src/observability.js";
import { parseExposition, valueOf } from "./exposition.js";
import { startOtlpSink } from "./otlp-sink.js";

const silent = pino({ level: "silent" });
const options = (...args: string[]) => resolveOptions(["--cluster", "sim", "--store", "memory", ...args], {});

describe("startObservability", () => {
  it("with metrics off and no OTLP endpoint wraps nothing and serves nothing", async () => {
    const o = await startObservability(options("--metrics-listen", "off"), silent);
    const persister = new MemoryPersister();
    expect(o.wrapPersister(persister)).toBe(persister);
    expect(o.observer).toBe(NO_OBSERVER);
    expect(o.tracer).toBe(NO_TRACER);
    expect(o.metricsAddress).toBeUndefined();
    await o.close();
  });

  it("with both on, one call is counted and traced, and a store operation under it is timed and traced", async () => {
    const sink = await startOtlpSink();
    try {
      const o = await startObservability(options("--metrics-listen", "127.0.0.1:0", "--otlp-endpoint", sink.endpoint), silent);
      const store = o.wrapPersister(new MemoryPersister());
      const scope = o.observer.begin("PutService", { name: "hello" });
      await scope.run(() => store.get("ServiceList"));
      scope.end(grpc.status.OK);
      expect(o.tracer).not.toBe(NO_TRACER);

      const samples = parseExposition(await (await fetch(`http://${o.metricsAddress!}/metrics`)).text());
      expect(valueOf(samples, "corral_grpc_requests_total", { method: "PutService", code: "OK" })).toBe(1);
      expect(valueOf(samples, "corral_store_op_duration_seconds_count", { op: "get" })).toBe(1);
      await o.close(); // flushes the spans
      expect(sink.spanNames().sort()).toEqual(["grpc PutService", "store.get"]);
      expect((await fetch(`http://${o.metricsAddress!}/metrics`).then(() => "answered", () => "closed"))).toBe("closed");
    } finally {
      await sink.close();
    }
  });
});

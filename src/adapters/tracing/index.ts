/**
 * Tracing with OpenTelemetry (`--otlp-endpoint`; off when unset, and then this module is never
 * started): at most `--traces-per-second` new traces are recorded (trace-budget.ts), each whole;
 * spans go in batches over OTLP/HTTP (JSON, the exporter's default) to the endpoint,
 * from a tracer provider of this instance only — nothing is registered globally, so instances
 * in one process (tests) stay apart. Resource: `service.name` = corral, `corral.framework`.
 *
 * Spans (every one that concerns a Corral service carries `corral.service`; several services:
 * service-attributes.ts):
 *   grpc <Method>            SERVER, one trace per admin RPC (rpc.system, rpc.method, rpc.grpc.status_code)
 *     engine.putService      the put, from waiting its turn to the write
 *     engine.removal         begin (UninstallService batch), finish / force
 *   engine.offerCycle        a trace per cycle (not under the request that scheduled it)
 *     engine.evaluateOffers  one service's turn with offers (the first 32 services of the cycle)
 *     engine.acceptOffer     one offer's ACCEPT, naming the services whose operations it carries
 *   engine.statusUpdates     a trace per stored batch of task statuses (then the acknowledgements)
 *   engine.recovery          start-up: the stored services rebuilt
 *   store.get|getMany|children|multi, driver.accept|decline|kill|acknowledge|reconcile|revive|suppress|teardown
 *                            under the span that is current (span-runner.ts); a call made outside every
 *                            recorded span (a kill retried by timer, a plan-event write) is not recorded
 */
import type { Tracer as OtelTracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import type { SpanExporter } from "@opentelemetry/sdk-trace-node";
import type { CallObserver } from "../grpc/call-observer.js";
import type { ClusterDriver, Logger, Persister } from "../../engine/ports.js";
import type { Tracer } from "../../engine/telemetry.js";
import { tracingObserver } from "./call-observer.js";
import { engineTracer } from "./engine-tracer.js";
import { ServiceNames } from "./service-attributes.js";
import { SpanRunner } from "./span-runner.js";
import { TraceBudget } from "./trace-budget.js";
import { tracedDriver } from "./traced-driver.js";
import { tracedPersister } from "./traced-persister.js";

export const FRAMEWORK_ATTRIBUTE = "corral.framework";

export interface TracingOptions {
  /** The OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  readonly endpoint: string;
  readonly frameworkName: string;
  /** New traces recorded a second at most (trace-budget.ts); Infinity: every one. */
  readonly tracesPerSecond: number;
  readonly logger: Pick<Logger, "info" | "warn">;
}

export interface Tracing {
  /** For the gRPC server: a span per admin RPC. */
  readonly observer: CallObserver;
  /** For the engine (SchedulerDeps.tracer). */
  readonly tracer: Tracer;
  /** A span per store operation. */
  wrapPersister<P extends Persister>(persister: P): Persister;
  /** A span per cluster call. */
  wrapDriver(driver: ClusterDriver): ClusterDriver;
  /** Sends the spans ended so far. Never rejects: a failed export was logged (and its spans dropped). */
  flush(): Promise<void>;
  /** Sends what is left and stops; spans started afterwards are dropped. Never rejects, as `flush`. */
  close(): Promise<void>;
}

export function startTracing(options: TracingOptions): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": "corral", [FRAMEWORK_ATTRIBUTE]: options.frameworkName }),
    spanProcessors: [new BatchSpanProcessor(loggingExporter(new OTLPTraceExporter({ url: options.endpoint }), options))],
  });
  const otel: OtelTracer = provider.getTracer("corral");
  const spans = new SpanRunner(otel, new TraceBudget(options.tracesPerSecond));
  const names = new ServiceNames();
  let closed: Promise<void> | undefined;
  return {
    observer: tracingObserver(spans, names),
    tracer: engineTracer(spans),
    wrapPersister: (persister) => tracedPersister(persister, spans, names, options.frameworkName),
    wrapDriver: (driver) => tracedDriver(driver, spans, names),
    flush: () => provider.forceFlush().catch(() => undefined),
    close: () => (closed ??= provider.shutdown().catch(() => undefined)),
  };
}

/**
 * Says when exports start failing and when they work again, once each (a collector that is down
 * would otherwise cost a log line per batch); the batch processor drops what it cannot send.
 */
function loggingExporter(inner: SpanExporter, options: TracingOptions): SpanExporter {
  let failing = false;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        const ok = result.code === 0; // ExportResultCode.SUCCESS
        if (!ok && !failing) options.logger.warn({ err: result.error, endpoint: options.endpoint, spans: spans.length }, "could not export traces; dropping them until the endpoint answers");
        if (ok && failing) options.logger.info({ endpoint: options.endpoint }, "exporting traces again");
        failing = !ok;
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/**
 * Metrics (Prometheus, `--metrics-listen`) and tracing (OpenTelemetry, `--otlp-endpoint`) of one
 * scheduler process, built once and applied at the edges: the store and the cluster driver are
 * wrapped, the gRPC server gets a call observer, the engine a tracer, and the gauges read the
 * running scheduler when scraped. Either half may be off; both off costs nothing (identity).
 */
import type pino from "pino";
import type { CallObserver } from "./adapters/grpc/call-observer.js";
import { composeObservers } from "./adapters/grpc/call-observer.js";
import { startMetrics } from "./adapters/metrics/index.js";
import type { ReplicaRole } from "./adapters/metrics/index.js";
import type { ResolvedOptions } from "./config.js";
import { DEFAULT_TRACES_PER_SECOND } from "./config-ha.js";
import type { ClusterDriver, Persister } from "./engine/ports.js";
import type { MultiServiceScheduler } from "./engine/scheduler.js";
import type { Tracer } from "./engine/telemetry.js";
import { NO_TRACER } from "./engine/telemetry.js";

export type { ReplicaRole } from "./adapters/metrics/index.js";

export interface Observability {
  /** Times every store operation (histogram by operation) and traces it; keeps optional fields. */
  wrapPersister<P extends Persister>(persister: P): Persister;
  /** Counts offers received/used/declined, operations by type and status updates by state; traces calls. */
  wrapDriver(driver: ClusterDriver): ClusterDriver;
  /** For the gRPC server: requests by method and code, latency; a span per call. */
  readonly observer: CallObserver;
  /** For the engine (SchedulerDeps.tracer). */
  readonly tracer: Tracer;
  setRole(role: ReplicaRole): void;
  /** Where the scrape-time gauges (services by state, plans and steps, deployment slots) read from. */
  setScheduler(get: () => MultiServiceScheduler | undefined): void;
  /** "host:port" of `/metrics` once listening; undefined when metrics are off. */
  readonly metricsAddress: string | undefined;
  /** Stops the metrics server and flushes the trace exporter. */
  close(): Promise<void>;
}

/** One half (metrics or tracing) as observability composes it. */
interface Half {
  readonly observer: CallObserver;
  wrapPersister(persister: Persister): Persister;
  wrapDriver(driver: ClusterDriver): ClusterDriver;
  close(): Promise<void>;
}

/**
 * Starts what the options ask for. Rejects (SchedulerError failed_precondition, nothing left
 * running) when an explicit --metrics-listen cannot be listened on.
 */
export async function startObservability(options: ResolvedOptions, logger: pino.Logger): Promise<Observability> {
  const log = logger.child({ component: "observability" });
  const metrics = options.metricsListen !== undefined ? await startMetrics(options.metricsListen, options.metricsListenExplicit ?? false, log) : undefined;
  let tracing: Awaited<ReturnType<typeof startTracingHalf>>;
  try {
    tracing = await startTracingHalf(options, logger);
  } catch (err) {
    await metrics?.close(); // nothing left running when the start fails
    throw err;
  }
  // Tracing first: its call context is the outer one, so a span is current while metrics time the call.
  const halves: Half[] = [...(tracing ? [tracing.half] : []), ...(metrics ? [metrics] : [])];
  return {
    // The store and the driver: metrics outermost, timing what the caller waits for (tracing included).
    wrapPersister: (persister) => halves.reduce<Persister>((p, half) => half.wrapPersister(p), persister),
    wrapDriver: (driver) => halves.reduce<ClusterDriver>((d, half) => half.wrapDriver(d), driver),
    observer: composeObservers(halves.map((h) => h.observer)),
    tracer: tracing?.tracer ?? NO_TRACER,
    setRole: (role) => metrics?.setRole(role),
    setScheduler: (get) => metrics?.setScheduler(get),
    metricsAddress: metrics?.address,
    close: async () => {
      const results = await Promise.allSettled(halves.map((h) => h.close()));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}

/**
 * Tracing's half and its tracer when --otlp-endpoint is set (src/adapters/tracing). The
 * OpenTelemetry SDK is loaded only then: a scheduler without tracing starts ~0.1 s sooner.
 */
async function startTracingHalf(options: ResolvedOptions, logger: pino.Logger): Promise<{ half: Half; tracer: Tracer } | undefined> {
  if (options.otlpEndpoint === undefined) return undefined;
  const { startTracing } = await import("./adapters/tracing/index.js");
  const tracing = startTracing({ endpoint: options.otlpEndpoint, frameworkName: options.frameworkName, tracesPerSecond: options.tracesPerSecond ?? DEFAULT_TRACES_PER_SECOND, logger: logger.child({ component: "tracing" }) });
  logger.info({ endpoint: options.otlpEndpoint, tracesPerSecond: String(options.tracesPerSecond ?? DEFAULT_TRACES_PER_SECOND) }, "sending traces (OTLP/HTTP)");
  return { half: tracing, tracer: tracing.tracer };
}

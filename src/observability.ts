/**
 * Metrics (Prometheus, `--metrics-listen`) and tracing (OpenTelemetry, `--otlp-endpoint`) of one
 * scheduler process, built once and applied at the edges: the store and the cluster driver are
 * wrapped, the gRPC server gets a call observer, the engine a tracer, and the gauges read the
 * running scheduler when scraped.
 */
import type pino from "pino";
import type { CallObserver } from "./adapters/grpc/call-observer.js";
import { NO_OBSERVER } from "./adapters/grpc/call-observer.js";
import type { ResolvedOptions } from "./config.js";
import type { ClusterDriver, Persister } from "./engine/ports.js";
import type { MultiServiceScheduler } from "./engine/scheduler.js";
import type { Tracer } from "./engine/telemetry.js";
import { NO_TRACER } from "./engine/telemetry.js";

/** This process's part in a replicated scheduler (the `corral_leader` gauge). */
export type ReplicaRole = "starting" | "standby" | "leader";

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

export async function startObservability(_options: ResolvedOptions, _logger: pino.Logger): Promise<Observability> {
  return {
    wrapPersister: (persister) => persister,
    wrapDriver: (driver) => driver,
    observer: NO_OBSERVER,
    tracer: NO_TRACER,
    setRole: () => undefined,
    setScheduler: () => undefined,
    metricsAddress: undefined,
    close: async () => undefined,
  };
}

/**
 * Metrics of one scheduler process (`--metrics-listen`): the registry, the wrappers that feed it
 * (store, cluster driver, gRPC calls), the scrape-time gauges and the /metrics server.
 */
import { listenReason } from "../listen-errors.js";
import { SchedulerError } from "../../domain/errors.js";
import type { ClusterDriver, Logger, Persister } from "../../engine/ports.js";
import type { CallObserver } from "../grpc/call-observer.js";
import { CorralMetrics } from "./corral-metrics.js";
import { meteredCalls } from "./metered-calls.js";
import { meteredDriver } from "./metered-driver.js";
import { meteredPersister } from "./metered-persister.js";
import { listenMetrics } from "./metrics-server.js";
import type { ReplicaRole } from "./role-gauges.js";
import { RoleGauges } from "./role-gauges.js";
import type { ScrapedScheduler } from "./scheduler-gauges.js";
import { SchedulerGauges } from "./scheduler-gauges.js";

export type { ReplicaRole } from "./role-gauges.js";
export type { ScrapedScheduler } from "./scheduler-gauges.js";
export { CorralMetrics } from "./corral-metrics.js";

export interface MetricsPart {
  readonly metrics: CorralMetrics;
  wrapPersister(persister: Persister): Persister;
  wrapDriver(driver: ClusterDriver): ClusterDriver;
  readonly observer: CallObserver;
  setRole(role: ReplicaRole): void;
  setScheduler(get: () => ScrapedScheduler | undefined): void;
}

/** Everything but the server: a registry and what feeds it. */
export function createMetrics(): MetricsPart {
  const metrics = new CorralMetrics();
  const roles = new RoleGauges(metrics.registry);
  const gauges = new SchedulerGauges(metrics);
  return {
    metrics,
    wrapPersister: (persister) => meteredPersister(persister, metrics.storeOpDuration),
    wrapDriver: (driver) => meteredDriver(driver, metrics),
    observer: meteredCalls(metrics.grpcRequests, metrics.grpcDuration),
    setRole: (role) => roles.set(role),
    setScheduler: (get) => gauges.setSource(get),
  };
}

export interface ServedMetrics extends MetricsPart {
  /** "host:port" of /metrics as bound. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Serves /metrics on `listen`. An address given on purpose (`explicit`) that cannot be listened
 * on stops the start with one line naming it; the default one in use (another scheduler on this
 * machine has it) is warned about and the process goes on without metrics (undefined).
 */
export async function startMetrics(listen: string, explicit: boolean, log: Logger): Promise<ServedMetrics | undefined> {
  const part = createMetrics();
  try {
    const server = await listenMetrics(part.metrics, listen, (err) => log.warn({ err }, "metrics endpoint error"));
    log.info({ address: server.address }, "serving metrics at /metrics");
    return { ...part, address: server.address, close: () => server.close() };
  } catch (err) {
    const reason = listenReason(err);
    if (!explicit) {
      log.warn({ address: listen, reason }, "no metrics: the default metrics address cannot be listened on (choose one with --metrics-listen)");
      return undefined;
    }
    throw new SchedulerError("failed_precondition", `cannot listen on ${listen}: ${reason} (choose another with --metrics-listen)`, { cause: err });
  }
}


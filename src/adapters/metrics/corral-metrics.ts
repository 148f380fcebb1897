/**
 * The Prometheus series of one scheduler process, in a registry of its own (not prom-client's
 * global one, so a test or a benchmark can run several schedulers in one process). Names are
 * the ones agreed for issue 17, prefix `corral_`; every label takes values from a small fixed
 * set (RPC method, operation type, state) except `service`/`plan` of `corral_plans`, which has one
 * series per plan of each service.
 */
import { collectDefaultMetrics } from "prom-client";
import type { Operation } from "../../domain/cluster.js";
import { LeanCounter, LeanHistogram, LeanRegistry } from "./lean-metrics.js";

/** Store operations run from ~10 µs (memory) to tens of ms (a ZooKeeper multi, a SQLite fsync). */
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** gRPC calls: a read is ~0.1 ms, a put a few ms, a watch stream lives for minutes. */
const GRPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export type StoreOp = "get" | "getMany" | "children" | "multi";
export type OfferOutcome = "received" | "used" | "declined";
export const OPERATION_TYPES: readonly Operation["type"][] = ["RESERVE", "UNRESERVE", "CREATE", "DESTROY", "LAUNCH_GROUP"];

export interface ScrapeHook {
  begin(): void;
  end(): void;
}

export class CorralMetrics {
  readonly registry = new LeanRegistry();
  readonly storeOpDuration = new LeanHistogram({
    name: "corral_store_op_duration_seconds",
    help: "Duration of the scheduler's store operations, by operation (get, getMany, children, multi); failed ones included",
    labelNames: ["op"] as const,
    buckets: STORE_BUCKETS,
    registers: [this.registry],
  });
  readonly offers = new LeanCounter({
    name: "corral_offers_total",
    help: "Offers received from the cluster, used (accepted with operations) and declined (declined, or accepted with none)",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly operations = new LeanCounter({
    name: "corral_operations_total",
    help: "Offer operations sent to the cluster, by type",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });
  readonly taskStatusUpdates = new LeanCounter({
    name: "corral_task_status_updates_total",
    help: "Task status updates received from the cluster, by task state",
    labelNames: ["state"] as const,
    registers: [this.registry],
  });
  readonly grpcRequests = new LeanCounter({
    name: "corral_grpc_requests_total",
    help: "Admin API calls ended, by method and gRPC status code name",
    labelNames: ["method", "code"] as const,
    registers: [this.registry],
  });
  readonly grpcDuration = new LeanHistogram({
    name: "corral_grpc_request_duration_seconds",
    help: "Admin API call duration, by method (a stream: until it ends)",
    labelNames: ["method"] as const,
    buckets: GRPC_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Zero series exist from the start, so rate() and dashboards work before the first event.
    for (const outcome of ["received", "used", "declined"] satisfies OfferOutcome[]) this.offers.inc({ outcome }, 0);
    for (const type of OPERATION_TYPES) this.operations.inc({ type }, 0);
  }

  private readonly scrapeHooks: ScrapeHook[] = [];

  /** `hook.begin()` before a scrape collects, `hook.end()` after: gauges read the scheduler once per scrape. */
  onScrape(hook: ScrapeHook): void {
    this.scrapeHooks.push(hook);
  }

  private scraped: Promise<unknown> = Promise.resolve();

  /**
   * The text exposition of every series, and its content type. One scrape at a time: a scrape
   * yields the event loop while it writes (ScrapedGauge), and its hooks bracket one scrape.
   */
  exposition(): Promise<{ readonly body: string; readonly contentType: string }> {
    const run = this.scraped.then(() => this.collect());
    this.scraped = run.catch(() => undefined);
    return run;
  }

  private async collect(): Promise<{ readonly body: string; readonly contentType: string }> {
    for (const hook of this.scrapeHooks) hook.begin();
    try {
      return { body: await this.registry.metrics(), contentType: this.registry.contentType };
    } finally {
      for (const hook of this.scrapeHooks) hook.end();
    }
  }
}

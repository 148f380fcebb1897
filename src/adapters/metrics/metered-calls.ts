/**
 * The metrics' CallObserver: every admin RPC counted by method and gRPC status code name
 * (`corral_grpc_requests_total{method,code}`, e.g. PutService / OK) and timed by method
 * (`corral_grpc_request_duration_seconds{method}`). It adds no context: `run` calls straight through.
 * A method's series are bound on its first call (lean-metrics.ts: the hot path only adds).
 */
import * as grpc from "@grpc/grpc-js";
import type { CallObserver, CallScope } from "../grpc/call-observer.js";
import type { CounterChild, HistogramChild, LeanCounter, LeanHistogram } from "./lean-metrics.js";
import { perKey, secondsSince } from "./lean-metrics.js";

interface MethodSeries {
  readonly duration: HistogramChild;
  /** The request counter of each gRPC status code. */
  readonly code: (code: grpc.status) => CounterChild;
}

export function meteredCalls(requests: LeanCounter<"method" | "code">, duration: LeanHistogram<"method">): CallObserver {
  const seriesOf = perKey(
    (method: string): MethodSeries => ({
      duration: duration.child({ method }),
      code: perKey((code: grpc.status) => requests.child({ method, code: grpc.status[code] ?? String(code) })),
    }),
  );
  return { begin: (method) => new TimedCall(seriesOf(method)) };
}

/** One call's scope: a class, so a call makes one object and no closures. */
class TimedCall implements CallScope {
  private readonly started = performance.now();

  constructor(private readonly series: MethodSeries) {}

  run<T>(fn: () => T): T {
    return fn();
  }

  end(code: grpc.status): void {
    this.series.duration.observe(secondsSince(this.started));
    this.series.code(code).inc();
  }
}

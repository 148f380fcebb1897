/**
 * The metrics' CallObserver: every admin RPC counted by method and gRPC status code name
 * (`corral_grpc_requests_total{method,code}`, e.g. PutService / OK) and timed by method
 * (`corral_grpc_request_duration_seconds{method}`). It adds no context: `run` calls straight through.
 * A method's series are bound on its first call (lean-metrics.ts: the hot path only adds).
 */
import * as grpc from "@grpc/grpc-js";
import type { CallObserver, CallScope } from "../grpc/call-observer.js";
import type { CounterChild, HistogramChild, LeanCounter, LeanHistogram } from "./lean-metrics.js";
import { secondsSince } from "./lean-metrics.js";

interface MethodSeries {
  readonly method: string;
  readonly requests: LeanCounter<"method" | "code">;
  readonly duration: HistogramChild;
  /** By gRPC status code number. */
  readonly codes: Map<number, CounterChild>;
}

export function meteredCalls(requests: LeanCounter<"method" | "code">, duration: LeanHistogram<"method">): CallObserver {
  const byMethod = new Map<string, MethodSeries>();
  const seriesOf = (method: string): MethodSeries => {
    let m = byMethod.get(method);
    if (!m) byMethod.set(method, (m = { method, duration: duration.child({ method }), codes: new Map(), requests }));
    return m;
  };
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
    const m = this.series;
    m.duration.observe(secondsSince(this.started));
    let counted = m.codes.get(code);
    if (!counted) m.codes.set(code, (counted = m.requests.child({ method: m.method, code: grpc.status[code] ?? String(code) })));
    counted.inc();
  }
}

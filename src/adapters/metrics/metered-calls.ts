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
  readonly duration: HistogramChild;
  /** By gRPC status code number. */
  readonly codes: Map<number, CounterChild>;
}

export function meteredCalls(requests: LeanCounter<"method" | "code">, duration: LeanHistogram<"method">): CallObserver {
  const byMethod = new Map<string, MethodSeries>();
  const seriesOf = (method: string): MethodSeries => {
    let m = byMethod.get(method);
    if (!m) byMethod.set(method, (m = { duration: duration.child({ method }), codes: new Map() }));
    return m;
  };
  return {
    begin(method): CallScope {
      const started = performance.now();
      return {
        run: (fn) => fn(),
        end(code) {
          const m = seriesOf(method);
          m.duration.observe(secondsSince(started));
          let counted = m.codes.get(code);
          if (!counted) m.codes.set(code, (counted = requests.child({ method, code: grpc.status[code] ?? String(code) })));
          counted.inc();
        },
      };
    },
  };
}

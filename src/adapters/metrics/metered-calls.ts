/**
 * The metrics' CallObserver: every admin RPC counted by method and gRPC status code name
 * (`corral_grpc_requests_total{method,code}`, e.g. PutService / OK) and timed by method
 * (`corral_grpc_request_duration_seconds{method}`). It adds no context: `run` calls straight through.
 */
import * as grpc from "@grpc/grpc-js";
import type { Counter, Histogram } from "prom-client";
import type { CallObserver } from "../grpc/call-observer.js";

export function meteredCalls(requests: Counter<"method" | "code">, duration: Histogram<"method">): CallObserver {
  return {
    begin(method) {
      const end = duration.startTimer({ method });
      return {
        run: (fn) => fn(),
        end(code) {
          end();
          requests.inc({ method, code: grpc.status[code] ?? String(code) });
        },
      };
    },
  };
}

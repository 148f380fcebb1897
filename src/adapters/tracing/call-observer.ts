/**
 * A SERVER span per admin RPC (`grpc <Method>`), the handler running in its context so the
 * engine's spans become its children. Clients send no trace context over the admin API, so each
 * call starts a trace.
 */
import * as grpc from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { CallObserver, CallScope } from "../grpc/call-observer.js";
import { serviceAttributes, servicesOfRequest } from "./service-attributes.js";
import type { ServiceNames } from "./service-attributes.js";
import type { SpanRunner } from "./span-runner.js";

const RPC_SERVICE = "corral.v1.MultiServiceAdmin";

export function tracingObserver(spans: SpanRunner, names: ServiceNames): CallObserver {
  /** A call past the trace budget: its handler runs outside every trace. */
  const unsampled: CallScope = { run: (fn) => spans.outside(fn), end: () => undefined };
  return {
    begin(method, request) {
      const services = servicesOfRequest(request);
      names.learn(services);
      const started = spans.start(
        `grpc ${method}`,
        () => ({ "rpc.system": "grpc", "rpc.service": RPC_SERVICE, "rpc.method": method, ...serviceAttributes(services) }),
        { kind: SpanKind.SERVER, root: true },
      );
      if (!started) return unsampled;
      const { span, context } = started;
      return {
        run: (fn) => spans.with(context, fn),
        end(code) {
          span.setAttribute("rpc.grpc.status_code", code);
          if (code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: grpc.status[code] });
          started.end();
        },
      };
    },
  };
}

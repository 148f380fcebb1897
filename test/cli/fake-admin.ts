/**
 * A scripted corral.v1.MultiServiceAdmin on 127.0.0.1 (port 0, or a given one to come back on
 * after `stop`) for the CLI paths the real scheduler cannot produce (yet, or on demand):
 * uninstall events, a plan in ERROR, a call that never answers, plan and pod steering with every
 * error, a WatchPlans stream that breaks. Records the metadata and request of every call.
 * Methods without a script answer UNIMPLEMENTED (grpc-js default).
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { toGrpcServiceDefinition } from "../../src/adapters/grpc/service-definition.js";
import { toServiceError } from "../../src/adapters/grpc/status.js";
import { MultiServiceAdmin } from "../../src/client/index.js";
import type { SchedulerError } from "../../src/domain/errors.js";

export interface FakeAdmin {
  readonly address: string;
  /** Metadata of each call received, in order. */
  readonly calls: { readonly method: string; readonly metadata: grpc.Metadata; readonly request: unknown }[];
  stop(): Promise<void>;
}

/** Handlers by method local name (e.g. `getPlan`), as grpc-js untyped handlers. */
export type FakeHandlers = Record<string, (call: never, callback: never) => void>;

/** The status and trailers the real gRPC edge sends for `err` (violations included). */
export function failure(err: SchedulerError): grpc.ServiceError {
  return toServiceError(err, pino({ level: "silent" }));
}

export async function startFakeAdmin(handlers: FakeHandlers, options: { readonly port?: number } = {}): Promise<FakeAdmin> {
  const server = new grpc.Server();
  const calls: FakeAdmin["calls"][number][] = [];
  const recorded: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    recorded[method] = ((call: { metadata: grpc.Metadata; request?: unknown }, callback: unknown) => {
      calls.push({ method, metadata: call.metadata, request: call.request });
      (handler as (c: unknown, cb: unknown) => void)(call, callback);
    }) as grpc.UntypedHandleCall;
  }
  server.addService(toGrpcServiceDefinition(MultiServiceAdmin), recorded);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

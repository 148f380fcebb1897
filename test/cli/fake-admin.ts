/**
 * A scripted corral.v1.MultiServiceAdmin on 127.0.0.1:0 for the CLI paths the real scheduler
 * cannot produce yet: uninstall events, a plan in ERROR, a call that never answers. Records the
 * metadata of every call. Methods without a script answer UNIMPLEMENTED (grpc-js default).
 */
import * as grpc from "@grpc/grpc-js";
import { toGrpcServiceDefinition } from "../../src/adapters/grpc/service-definition.js";
import { MultiServiceAdmin } from "../../src/client/index.js";

export interface FakeAdmin {
  readonly address: string;
  /** Metadata of each call received, in order. */
  readonly calls: { readonly method: string; readonly metadata: grpc.Metadata }[];
  stop(): Promise<void>;
}

/** Handlers by method local name (e.g. `getPlan`), as grpc-js untyped handlers. */
export type FakeHandlers = Record<string, (call: never, callback: never) => void>;

export async function startFakeAdmin(handlers: FakeHandlers): Promise<FakeAdmin> {
  const server = new grpc.Server();
  const calls: FakeAdmin["calls"][number][] = [];
  const recorded: grpc.UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(handlers)) {
    recorded[method] = ((call: { metadata: grpc.Metadata }, callback: unknown) => {
      calls.push({ method, metadata: call.metadata });
      (handler as (c: unknown, cb: unknown) => void)(call, callback);
    }) as grpc.UntypedHandleCall;
  }
  server.addService(toGrpcServiceDefinition(MultiServiceAdmin), recorded);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
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

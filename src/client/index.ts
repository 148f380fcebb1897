/**
 * `corral/client`: typed promise clients for corral.v1.MultiServiceAdmin (and any other
 * protobuf-es service, e.g. grpc.health.v1.Health) over @grpc/grpc-js.
 *
 * ```ts
 * const admin = createAdminClient({ address: "127.0.0.1:7070" });
 * const { service } = await admin.getService({ name: "team/db" });
 * for await (const { event } of admin.watchUninstall({ names: ["team/db"] })) console.log(event);
 * const { tasks } = await admin.listTasks({ name: "team/db" }); // id, pod instance, state, pid, sandbox…
 * // A task's stdout, its last 10 lines and then what it writes, until the sandbox goes away:
 * for await (const { data } of admin.taskLog({ name: "team/db", task: "db-0-server", tailLines: 10, follow: true })) {
 *   process.stdout.write(data);
 * }
 * await admin.putSecret({ name: "team/db-password", value: new TextEncoder().encode(password) });
 * const { endpoints } = await admin.getEndpoints({ serviceName: "team/db" }); // name, address[], dns[], vip
 * admin.close();
 * ```
 * Every method of the descriptor is there, typed from it: the unary ones (putService,
 * listServices, getService, getPlan, uninstallService, getScheduler, listTasks, the steering and
 * secret methods, getEndpoints) return promises,
 * the server-streaming ones (watchUninstall, taskLog, watchPlans) async iterables; breaking out of the loop
 * (or aborting `signal`) cancels the stream.
 * Failed calls reject with a grpc-js `ServiceError` (`code`, `details`, `metadata`); use
 * `fieldViolations(err)` to read the fields an INVALID_ARGUMENT names.
 */
import * as grpc from "@grpc/grpc-js";
import type { DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { MultiServiceAdmin } from "../../gen/corral/v1/admin_pb.js";
import { decodeViolations } from "../adapters/grpc/status.js";
import { toGrpcServiceDefinition } from "../adapters/grpc/service-definition.js";
import type { FieldViolation } from "../domain/errors.js";

export * from "../../gen/corral/v1/admin_pb.js";
export { Health, HealthCheckResponse_ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
export type { FieldViolation } from "../domain/errors.js";

/** Per-call options. */
export interface CallOptions {
  /** Deadline relative to now; the call fails with DEADLINE_EXCEEDED after it. */
  readonly deadlineMs?: number;
  /** Request metadata, e.g. `x-request-id`. */
  readonly metadata?: grpc.Metadata;
  /** Aborting cancels the call; it then fails with CANCELLED. */
  readonly signal?: AbortSignal;
}

type Unary<M extends DescMethod> = (
  request: MessageInitShape<M["input"]>,
  options?: CallOptions,
) => Promise<MessageShape<M["output"]>>;

type ServerStreaming<M extends DescMethod> = (
  request: MessageInitShape<M["input"]>,
  options?: CallOptions,
) => AsyncIterable<MessageShape<M["output"]>>;

/** Unary and server-streaming methods of `S`; client and bidi streaming are not supported. */
export type PromiseClient<S extends DescService> = {
  readonly [K in keyof S["method"]]: S["method"][K]["methodKind"] extends "unary"
    ? Unary<S["method"][K]>
    : S["method"][K]["methodKind"] extends "server_streaming"
      ? ServerStreaming<S["method"][K]>
      : never;
} & {
  /** Closes the channel; calls still running fail with CANCELLED or UNAVAILABLE. */
  close(): void;
};

export interface PromiseClientOptions {
  /**
   * Deadline of unary calls that pass no `deadlineMs`. Streams only get a deadline when the
   * call asks for one. @default none
   */
  readonly defaultDeadlineMs?: number;
  /** grpc-js channel options, e.g. `{"grpc.max_receive_message_length": 4194304}`. */
  readonly channelOptions?: grpc.ChannelOptions;
  /** Bearer token sent as `authorization: Bearer <token>` on every call (the server's --auth-token-file). */
  readonly token?: string;
}

/** A typed promise client for any protobuf-es service descriptor. */
export function createPromiseClient<S extends DescService>(
  desc: S,
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options: PromiseClientOptions = {},
): PromiseClient<S> {
  const definition = toGrpcServiceDefinition(desc);
  const Ctor = grpc.makeGenericClientConstructor(definition, desc.typeName);
  const raw = new Ctor(address, credentials, options.channelOptions);
  const client: Record<string, unknown> = { close: () => raw.close() };
  for (const method of desc.methods) {
    const def = definition[method.localName];
    if (def === undefined) continue;
    if (method.methodKind === "unary") {
      client[method.localName] = (request: unknown, opts: CallOptions = {}) =>
        new Promise((resolve, reject) => {
          const call = raw.makeUnaryRequest(
            def.path,
            def.requestSerialize,
            def.responseDeserialize,
            request,
            requestMetadata(opts.metadata, options.token),
            callOptions(opts.deadlineMs ?? options.defaultDeadlineMs),
            (err, response) => (err ? reject(err) : resolve(response)),
          );
          cancelOnAbort(call, opts.signal);
        });
    } else if (method.methodKind === "server_streaming") {
      client[method.localName] = (request: unknown, opts: CallOptions = {}) => {
        const call = raw.makeServerStreamRequest(
          def.path,
          def.requestSerialize,
          def.responseDeserialize,
          request,
          requestMetadata(opts.metadata, options.token),
          callOptions(opts.deadlineMs),
        );
        cancelOnAbort(call, opts.signal);
        return messages(call);
      };
    }
  }
  return client as PromiseClient<S>;
}

/** The MultiServiceAdmin client. */
export type AdminClient = PromiseClient<typeof MultiServiceAdmin>;

export interface AdminClientOptions {
  /** "host:port" of a Corral scheduler. */
  readonly address: string;
  /**
   * @default insecure (plaintext). For a scheduler with mutual TLS:
   * `grpc.credentials.createSsl(caPem, clientKeyPem, clientCertPem)`.
   */
  readonly credentials?: grpc.ChannelCredentials;
  /** Deadline of unary calls that pass none. @default none */
  readonly defaultDeadlineMs?: number;
  /** Bearer token for a scheduler started with --auth-token-file. @default none */
  readonly token?: string;
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  return createPromiseClient(MultiServiceAdmin, options.address, options.credentials, {
    ...(options.defaultDeadlineMs === undefined ? {} : { defaultDeadlineMs: options.defaultDeadlineMs }),
    ...(options.token === undefined ? {} : { token: options.token }),
  });
}

/** The field violations an INVALID_ARGUMENT error carries; [] for anything else. */
export function fieldViolations(err: unknown): FieldViolation[] {
  const metadata = (err as { metadata?: unknown } | null)?.metadata;
  return metadata instanceof grpc.Metadata ? decodeViolations(metadata) : [];
}

/** The call's metadata, plus `authorization` when a token is configured (the caller's copy is left alone). */
function requestMetadata(given: grpc.Metadata | undefined, token: string | undefined): grpc.Metadata {
  if (token === undefined) return given ?? new grpc.Metadata();
  const metadata = given?.clone() ?? new grpc.Metadata();
  metadata.set("authorization", `Bearer ${token}`);
  return metadata;
}

function callOptions(deadlineMs: number | undefined): grpc.CallOptions {
  return deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs };
}

function cancelOnAbort(call: grpc.Call, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  if (signal.aborted) return call.cancel();
  const onAbort = (): void => call.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  call.once("status", () => signal.removeEventListener("abort", onAbort));
}

/**
 * Iterates a response stream; leaving the loop early cancels the call. grpc-js ends the stream
 * and then emits 'error' by hand, so the error is captured at once (an unlistened 'error' would
 * crash the process, and one emitted before iteration starts would otherwise be lost).
 */
function messages<T>(call: grpc.ClientReadableStream<T>): AsyncIterable<T> {
  let failure: { readonly error: unknown } | undefined;
  call.on("error", (error: unknown) => {
    failure ??= { error };
  });
  return (async function* () {
    let finished = false;
    try {
      for await (const message of call) yield message as T;
      if (failure !== undefined) throw failure.error;
      finished = true;
    } finally {
      if (!finished) call.cancel();
    }
  })();
}

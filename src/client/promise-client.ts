/**
 * A typed promise client over one grpc-js channel for any protobuf-es service descriptor: unary
 * methods return promises, server-streaming ones async iterables. `createAdminClient` (index.ts)
 * puts one of these per scheduler address behind the leader router.
 */
import * as grpc from "@grpc/grpc-js";
import type { DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { toGrpcServiceDefinition } from "../adapters/grpc/service-definition.js";

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

/** The grpc-js client under a PromiseClient (not part of its type: for the leader router's connect check). */
export const CHANNEL: unique symbol = Symbol("corral.channel");

/**
 * Resolves once the channel under `client` is connected, or rejects with an UNAVAILABLE whose
 * details say nothing was sent ("No connection established …") after `timeoutMs`: an address
 * that accepts no connection in time (a frozen process, a host gone without a reset) is passed
 * for the next instead of holding the call until its deadline.
 */
export function connected(client: object, timeoutMs: number): Promise<void> {
  const raw = (client as { [CHANNEL]?: grpc.Client })[CHANNEL];
  if (raw === undefined) return Promise.resolve();
  const channel = raw.getChannel();
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const state = channel.getConnectivityState(true);
      // READY: go. TRANSIENT_FAILURE (refused) or SHUTDOWN: the call itself fails at once, as not sent.
      if (state === grpc.connectivityState.READY || state === grpc.connectivityState.TRANSIENT_FAILURE || state === grpc.connectivityState.SHUTDOWN) return resolve();
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err === undefined || err === null) return check();
        const details = `No connection established within ${timeoutMs} ms`;
        reject(Object.assign(new Error(`${grpc.status.UNAVAILABLE} UNAVAILABLE: ${details}`), { code: grpc.status.UNAVAILABLE, details, metadata: new grpc.Metadata() }));
      });
    };
    check();
  });
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
  const client: Record<string | symbol, unknown> = { close: () => raw.close(), [CHANNEL]: raw };
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

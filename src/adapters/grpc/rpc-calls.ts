/**
 * Call plumbing of the admin handlers: a request id per RPC, one log line per RPC, errors mapped
 * through status.ts, server streams with flow control.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../../engine/ports.js";
import type { CallObserver, CallScope } from "./call-observer.js";
import { NO_OBSERVER } from "./call-observer.js";
import { MalformedRequest, parsedRequest } from "./service-definition.js";
import { REQUEST_ID_METADATA_KEY, toServiceError } from "./status.js";

/** `source` with `f` applied to each value; no async generator in between (one less hop per message). */
export function mapStream<T, R>(source: AsyncIterable<T>, f: (value: T) => R): AsyncIterable<R> {
  return {
    [Symbol.asyncIterator]: () => {
      const it = source[Symbol.asyncIterator]();
      return {
        next: async () => {
          const r = await it.next();
          return r.done === true ? { done: true, value: undefined } : { done: false, value: f(r.value) };
        },
        return: async () => {
          await it.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Call plumbing: request id, one log line per RPC, error mapping through status.ts.

/** What every handler of a server shares: its logger and the observer of its calls. */
export interface RpcPlumbing {
  readonly log: Logger;
  readonly observer?: CallObserver;
}

interface Rpc {
  readonly requestId: string;
  readonly log: Logger;
  readonly scope: CallScope;
  finish(code: grpc.status): void;
}

type ServerCall = Pick<grpc.ServerUnaryCall<unknown, unknown>, "metadata" | "sendMetadata">;

function startRpc(method: string, call: ServerCall, base: RpcPlumbing, request: unknown): Rpc {
  const requestId = requestIdOf(call.metadata);
  const log = base.log.child({ requestId });
  const scope = (base.observer ?? NO_OBSERVER).begin(method, request);
  const started = performance.now();
  const headers = new grpc.Metadata();
  headers.set(REQUEST_ID_METADATA_KEY, requestId);
  call.sendMetadata(headers);
  return {
    requestId,
    log,
    scope,
    finish(code) {
      scope.end(code);
      const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
      log.info({ method, code: grpc.status[code], durationMs }, "rpc");
    },
  };
}

/** What observers see of the request: nothing for a body that did not parse. */
function observedRequest(request: unknown): unknown {
  return request instanceof MalformedRequest ? undefined : request;
}

/** A caller-supplied id is kept when it is 1–128 printable ASCII characters. */
function requestIdOf(metadata: grpc.Metadata): string {
  const given = metadata.get(REQUEST_ID_METADATA_KEY)[0];
  return typeof given === "string" && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
}

export function unary<Req, Res>(
  method: string,
  base: RpcPlumbing,
  handle: (request: Req) => Promise<Res> | Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const rpc = startRpc(method, call, base, observedRequest(call.request));
    void (async () => {
      try {
        // Parsed inside the try: a malformed body is the caller's INVALID_ARGUMENT.
        const request = parsedRequest(call.request as Req | MalformedRequest);
        const response = await rpc.scope.run(() => handle(request));
        rpc.finish(call.cancelled ? grpc.status.CANCELLED : grpc.status.OK);
        callback(null, response);
      } catch (err) {
        const error = toServiceError(err, rpc.log, rpc.requestId);
        rpc.finish(error.code);
        callback(error);
      }
    })();
  };
}

/**
 * A server stream fed by an async iterable. `signal` aborts when the call is cancelled (client
 * cancel, deadline, server shutdown) or closes. Flow control: when `call.write()` returns false
 * (grpc-js holds 16 messages the HTTP/2 stream has not taken, i.e. the client reads slower than
 * we write), the next message is pulled only after 'drain' or once the call is over. A slow
 * client thus leaves its events in the producer (the uninstall event log's bounded watcher,
 * which fails with RESOURCE_EXHAUSTED), never in unbounded grpc-js buffers.
 */
export function serverStream<Req, Res>(
  method: string,
  base: RpcPlumbing,
  produce: (request: Req, signal: AbortSignal) => AsyncIterable<Res>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const rpc = startRpc(method, call, base, observedRequest(call.request));
    const abort = new AbortController();
    let over = false; // abort.signal.aborted, without the getter on the per-message path
    const onCancelled = (): void => {
      over = true;
      abort.abort();
    };
    call.once("cancelled", onCancelled);
    call.once("close", onCancelled);
    if (call.cancelled) onCancelled();
    void (async () => {
      try {
        const request = parsedRequest(call.request as Req | MalformedRequest);
        for await (const message of rpc.scope.run(() => produce(request, abort.signal))) {
          if (over) break;
          if (!call.write(message)) await once(call, "drain", { signal: abort.signal });
        }
        if (abort.signal.aborted) return rpc.finish(grpc.status.CANCELLED);
        call.end();
        rpc.finish(grpc.status.OK);
      } catch (err) {
        if (abort.signal.aborted) return rpc.finish(grpc.status.CANCELLED);
        const error = toServiceError(err, rpc.log, rpc.requestId);
        rpc.finish(error.code);
        call.emit("error", error);
      } finally {
        call.off("cancelled", onCancelled);
        call.off("close", onCancelled);
      }
    })();
  };
}

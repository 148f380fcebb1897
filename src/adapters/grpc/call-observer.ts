/**
 * What watches every admin RPC from outside the handlers: metrics (requests by method and code,
 * latency) and tracing (a span the handler runs in, so the engine's, store's and driver's spans
 * become its children). Observers never change a call's outcome.
 */
import type * as grpc from "@grpc/grpc-js";

export interface CallObserver {
  /** An RPC starts; `request` is the parsed request (its `name`/`names`/`serviceName` name the service). */
  begin(method: string, request: unknown): CallScope;
}

export interface CallScope {
  /** Runs the handler inside the call's context (for a stream: the call that makes its iterable). */
  run<T>(fn: () => T): T;
  /** The RPC ended with `code` (OK, the mapped error, or CANCELLED). Called once. */
  end(code: grpc.status): void;
}

const NO_SCOPE: CallScope = { run: (fn) => fn(), end: () => undefined };

/** Observes nothing. */
export const NO_OBSERVER: CallObserver = { begin: () => NO_SCOPE };

/** Every observer sees every call; the first one's context is outermost. */
export function composeObservers(observers: readonly CallObserver[]): CallObserver {
  if (observers.length === 0) return NO_OBSERVER;
  return observers.reduce(pair);
}

/** Two observers as one, `outer`'s context around `inner`'s. */
function pair(outer: CallObserver, inner: CallObserver): CallObserver {
  return { begin: (method, request) => new PairScope(outer.begin(method, request), inner.begin(method, request)) };
}

/** A class, so a call builds the two scopes and one object, no closures. */
class PairScope implements CallScope {
  constructor(
    private readonly outer: CallScope,
    private readonly inner: CallScope,
  ) {}

  run<T>(fn: () => T): T {
    return this.outer.run(() => this.inner.run(fn));
  }

  end(code: grpc.status): void {
    this.outer.end(code);
    this.inner.end(code);
  }
}

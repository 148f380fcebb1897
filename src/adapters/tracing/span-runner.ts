/**
 * Spans of one tracing instance and the context they nest in, carried without async hooks (the
 * engine port's rules, engine/telemetry.ts): on Node 20 an AsyncLocalStorage, once used, slows
 * every `await` of the process for good (a large share of tracing's cost in bench q).
 *
 * Where a span started now nests, in order:
 *  1. the context set while code runs synchronously (`with`: a gRPC handler's start, a span's
 *     work up to its first `await`; `outside`: none);
 *  2. the running work item's innermost open span (`unit`; the engine runs one item at a time);
 *  3. none.
 * Nothing is registered globally: instances in one process (tests) never see each other's spans.
 *
 * What is not recorded costs next to nothing: a new trace is recorded only within the budget
 * (trace-budget.ts); any other span only under a recorded span that is still open. Otherwise
 * there is no span at all, and its attributes are never computed.
 */
import { ROOT_CONTEXT, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Attributes, Context, Span, SpanKind, Tracer as OtelTracer } from "@opentelemetry/api";
import type { TraceBudget } from "./trace-budget.js";

/** Attributes, or how to compute them: only called for a span that is recorded. */
export type LazyAttributes = Attributes | (() => Attributes);

export interface StartOptions {
  readonly kind?: SpanKind;
  /** A new trace (within the budget), whatever the current context; else a child of the current recorded span, or none. */
  readonly root?: boolean;
}

/** A recorded span and the context its work runs in. */
export interface Started {
  readonly span: Span;
  readonly context: Context;
  /** Ends the span (once), failed with `err` when given. */
  end(err?: unknown): void;
}

/** A span of the running work item: spans of the item started after an `await` nest under the innermost open one. */
interface Frame {
  readonly context: Context;
  readonly prev: Frame | undefined;
  open: boolean;
}

export class SpanRunner {
  /** The context while code runs synchronously inside `with`; ROOT_CONTEXT inside `outside`. */
  private sync: Context | undefined;
  /** The running work item's innermost open span. */
  private ambient: Frame | undefined;

  constructor(
    private readonly tracer: OtelTracer,
    private readonly budget: TraceBudget,
  ) {}

  /** The context spans started now nest under. */
  active(): Context {
    return this.sync ?? this.ambient?.context ?? ROOT_CONTEXT;
  }

  /** The context set synchronously right now, if any (what a request hands to its work item). */
  current(): Context | undefined {
    return this.sync;
  }

  /**
   * Starts a span under the active context, or a root one (a new trace) when `root`. Undefined
   * when nothing is recorded: a child outside any open recorded span, or a root past the budget.
   */
  start(name: string, attributes: LazyAttributes, options: StartOptions = {}): Started | undefined {
    const parent = options.root ? ROOT_CONTEXT : this.active();
    // An ended span is no longer recording: work that outlives its span (a timer it armed) is not traced.
    if (options.root ? !this.budget.take() : trace.getSpan(parent)?.isRecording() !== true) return undefined;
    const attrs = typeof attributes === "function" ? attributes() : attributes;
    const span = this.tracer.startSpan(name, { attributes: attrs, ...(options.kind !== undefined ? { kind: options.kind } : {}) }, parent);
    let ended = false;
    return {
      span,
      context: trace.setSpan(parent, span),
      end: (err?: unknown) => {
        if (ended) return;
        ended = true;
        if (err !== undefined) failed(span, err);
        span.end();
      },
    };
  }

  /** Calls `fn` with `context` current while it runs synchronously. */
  with<T>(context: Context, fn: () => T): T {
    const prev = this.sync;
    this.sync = context;
    try {
      return fn();
    } finally {
      this.sync = prev;
    }
  }

  /** Calls `fn` outside every span: what it starts synchronously is part of no trace. */
  outside<T>(fn: () => T): T {
    return this.with(ROOT_CONTEXT, fn);
  }

  /** Runs a work item as part of `context` (none: ROOT_CONTEXT) until it settles. */
  async unit<T>(context: Context | undefined, fn: () => Promise<T>): Promise<T> {
    const frame: Frame = { context: context ?? ROOT_CONTEXT, prev: undefined, open: true };
    this.ambient = frame;
    try {
      return await this.with(frame.context, fn);
    } finally {
      frame.open = false;
      // Spans of the item still open (work it did not wait for) are no longer its current ones.
      let base = this.ambient;
      while (base?.prev) base = base.prev;
      if (base === frame) this.ambient = undefined;
    }
  }

  /**
   * `fn` inside a new span; the span ends when `fn` settles, failed (with the error) when it
   * throws. A span started by the running item's own code (nothing else current synchronously)
   * becomes the item's current span until it ends.
   */
  inSpan<T>(name: string, attributes: LazyAttributes, fn: () => Promise<T>, root = false): Promise<T> {
    const ofItem = this.ambient !== undefined && (this.sync === undefined || this.sync === this.ambient.context);
    const started = this.start(name, attributes, { root });
    if (!started) {
      if (!root) return fn();
      // A new trace left out: its work is part of no other trace either.
      return ofItem ? this.framed(ROOT_CONTEXT, fn) : this.outside(fn);
    }
    return this.recorded(started, fn, ofItem);
  }

  /** A store or cluster call in a span: it nests under the current span and never becomes the item's current one. */
  leaf<T>(name: string, attributes: LazyAttributes, fn: () => Promise<T>): Promise<T> {
    const started = this.start(name, attributes);
    return started ? this.recorded(started, fn, false) : fn();
  }

  private async recorded<T>(started: Started, fn: () => Promise<T>, ofItem: boolean): Promise<T> {
    const frame = ofItem ? this.enter(started.context) : undefined;
    try {
      const result = await this.with(started.context, fn);
      started.end();
      return result;
    } catch (err) {
      started.end(err ?? new Error("failed"));
      throw err;
    } finally {
      if (frame) this.leave(frame);
    }
  }

  private async framed<T>(context: Context, fn: () => Promise<T>): Promise<T> {
    const frame = this.enter(context);
    try {
      return await this.with(context, fn);
    } finally {
      this.leave(frame);
    }
  }

  private enter(context: Context): Frame {
    const frame: Frame = { context, prev: this.ambient, open: true };
    this.ambient = frame;
    return frame;
  }

  /** Siblings may end in any order (ACCEPTs go out together): the innermost span still open becomes current. */
  private leave(frame: Frame): void {
    frame.open = false;
    if (this.ambient !== frame) return;
    let next = frame.prev;
    while (next && !next.open) next = next.prev;
    this.ambient = next;
  }
}

function failed(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

/**
 * Spans of one tracing instance, nested through a context of its own (AsyncLocalStorage) instead
 * of the OpenTelemetry API's global context manager: two instances in one process (tests, a
 * scheduler library embedded twice) never see each other's spans, and nothing global is
 * registered that outlives `close()`.
 *
 * What is not recorded costs next to nothing, which is what keeps tracing cheap at load:
 *  - a new trace (a root span) is recorded only within the budget (trace-budget.ts); a span that
 *    is not a root is recorded only under a recorded span that is still open. Otherwise there is
 *    no span at all, and its attributes are never computed;
 *  - the context storage is on only while a recorded span is open. Node 20's async hooks, which
 *    carry it, cost every promise of the process something while they are on.
 */
import { AsyncLocalStorage } from "node:async_hooks";
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

export class SpanRunner {
  private readonly contexts = new AsyncLocalStorage<Context>();
  /** Recorded spans started and not ended; the context storage is off at 0. */
  private open = 0;

  constructor(
    private readonly tracer: OtelTracer,
    private readonly budget: TraceBudget,
  ) {}

  /** The context spans started now nest under. */
  active(): Context {
    return this.contexts.getStore() ?? ROOT_CONTEXT;
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
    this.open++;
    let ended = false;
    return {
      span,
      context: trace.setSpan(parent, span),
      end: (err?: unknown) => {
        if (ended) return;
        ended = true;
        if (err !== undefined) failed(span, err);
        span.end();
        if (--this.open === 0) this.contexts.disable();
      },
    };
  }

  /** Runs `fn` with `context` active (its promises and timers inherit it). */
  with<T>(context: Context, fn: () => T): T {
    return this.contexts.run(context, fn);
  }

  /**
   * Runs `fn` outside every span: what it starts is not part of the current trace. Nothing is
   * entered when no context is active.
   */
  outside<T>(fn: () => T): T {
    return this.contexts.getStore() === undefined ? fn() : this.contexts.run(ROOT_CONTEXT, fn);
  }

  /** `fn` inside a new span; the span ends when `fn` settles, failed (with the error) when it throws. */
  inSpan<T>(name: string, attributes: LazyAttributes, fn: () => Promise<T>, root = false): Promise<T> {
    const started = this.start(name, attributes, { root });
    if (!started) return root ? this.outside(fn) : fn();
    return this.recorded(started, fn);
  }

  private async recorded<T>(started: Started, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await this.with(started.context, fn);
      started.end();
      return result;
    } catch (err) {
      started.end(err ?? new Error("failed"));
      throw err;
    }
  }
}

function failed(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

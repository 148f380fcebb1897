/**
 * Spans of one tracing instance, nested through a context of its own (AsyncLocalStorage) instead
 * of the OpenTelemetry API's global context manager: two instances in one process (tests, a
 * scheduler library embedded twice) never see each other's spans, and nothing global is
 * registered that outlives `close()`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ROOT_CONTEXT, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Attributes, Context, Span, SpanKind, Tracer as OtelTracer } from "@opentelemetry/api";

export class SpanRunner {
  private readonly contexts = new AsyncLocalStorage<Context>();

  constructor(private readonly tracer: OtelTracer) {}

  /** The context spans started now nest under. */
  active(): Context {
    return this.contexts.getStore() ?? ROOT_CONTEXT;
  }

  /** Starts a span under the active context, or a root one (a new trace) when `root`. */
  start(name: string, attributes: Attributes, options: { readonly kind?: SpanKind; readonly root?: boolean } = {}): { span: Span; context: Context } {
    const parent = options.root ? ROOT_CONTEXT : this.active();
    const span = this.tracer.startSpan(name, { attributes, ...(options.kind !== undefined ? { kind: options.kind } : {}) }, parent);
    return { span, context: trace.setSpan(parent, span) };
  }

  /** Runs `fn` with `context` active (its promises and timers inherit it). */
  with<T>(context: Context, fn: () => T): T {
    return this.contexts.run(context, fn);
  }

  /** `fn` inside a new span; the span ends when `fn` settles, failed (with the error) when it throws. */
  async inSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>, root = false): Promise<T> {
    const { span, context } = this.start(name, attributes, { root });
    try {
      return await this.with(context, fn);
    } catch (err) {
      failed(span, err);
      throw err;
    } finally {
      span.end();
    }
  }
}

export function failed(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
}

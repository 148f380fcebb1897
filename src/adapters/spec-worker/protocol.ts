/**
 * Messages between the spec-build pool (`pool.ts`, main thread) and its workers (`worker.ts`).
 * Everything crosses by structured clone: a BuiltService is plain data (objects, arrays, Maps,
 * strings, numbers), an error is flattened here and rebuilt on the other side.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { ErrorCode, FieldViolation } from "../../domain/errors.js";
import type { ServiceContext } from "../../engine/service-context.js";
import type { BuiltService } from "../../engine/service-scheduler.js";

/** Main → worker: build this context. */
export interface BuildRequest {
  readonly id: number;
  readonly context: ServiceContext;
}

/** A thrown value, flattened for postMessage. */
export type WireError =
  | { readonly kind: "scheduler"; readonly code: ErrorCode; readonly message: string; readonly violations: readonly FieldViolation[] }
  | { readonly kind: "other"; readonly name: string; readonly message: string; readonly stack?: string };

/** Worker → main: `ready` once its modules are loaded, then one reply per request. */
export type WorkerReply =
  | { readonly kind: "ready" }
  | { readonly kind: "built"; readonly id: number; readonly built: BuiltService; readonly ms: number }
  | { readonly kind: "failed"; readonly id: number; readonly error: WireError; readonly ms: number };

export function toWireError(err: unknown): WireError {
  if (err instanceof SchedulerError) {
    const violations = err.violations.map((v) => ({ field: v.field, reason: v.reason }));
    return { kind: "scheduler", code: err.code, message: err.message, violations };
  }
  if (err instanceof Error) {
    return { kind: "other", name: err.name, message: err.message, ...(err.stack !== undefined ? { stack: err.stack } : {}) };
  }
  return { kind: "other", name: "Error", message: `non-error thrown: ${String(err)}` };
}

/**
 * The error as the inline build would have thrown it: a SchedulerError with the same code,
 * message and violations, or a plain Error (name, message, the worker's stack) that the gRPC
 * edge answers as INTERNAL and logs, as it does for the same error thrown inline.
 */
export function fromWireError(wire: WireError): Error {
  if (wire.kind === "scheduler") return new SchedulerError(wire.code, wire.message, { violations: wire.violations });
  const err = new Error(wire.message);
  err.name = wire.name;
  if (wire.stack !== undefined) err.stack = `${wire.stack}\n    (in a spec-build worker thread)`;
  return err;
}

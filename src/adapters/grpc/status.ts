/**
 * The only place where Corral errors become gRPC statuses. grpc-js's own fallback
 * (`serverErrorToStatus`) turns anything without an integer `code` into UNKNOWN with the raw
 * message as details, so every handler passes what it caught through `toServiceError` first.
 */
import * as grpc from "@grpc/grpc-js";
import { SchedulerError } from "../../domain/errors.js";
import type { ErrorCode, FieldViolation } from "../../domain/errors.js";
import type { Logger } from "../../engine/ports.js";

/**
 * Trailing-metadata key holding the `FieldViolation[]` of an INVALID_ARGUMENT as JSON (ASCII
 * only; non-ASCII characters are `\u` escaped). The status message already names every field;
 * this is the machine-readable form, like google.rpc.BadRequest.
 */
export const VIOLATIONS_METADATA_KEY = "corral-violations";

/** Metadata key of the request id, read from requests and echoed on errors. */
export const REQUEST_ID_METADATA_KEY = "x-request-id";

/** Total map ErrorCode → wire status; adding an ErrorCode without a row is a compile error. */
const GRPC_STATUS: { readonly [C in ErrorCode]: grpc.status } = {
  invalid_argument: grpc.status.INVALID_ARGUMENT,
  not_found: grpc.status.NOT_FOUND,
  already_exists: grpc.status.ALREADY_EXISTS,
  failed_precondition: grpc.status.FAILED_PRECONDITION,
  aborted: grpc.status.ABORTED,
  out_of_range: grpc.status.OUT_OF_RANGE,
  resource_exhausted: grpc.status.RESOURCE_EXHAUSTED,
  unavailable: grpc.status.UNAVAILABLE,
  deadline_exceeded: grpc.status.DEADLINE_EXCEEDED,
  unimplemented: grpc.status.UNIMPLEMENTED,
  unauthenticated: grpc.status.UNAUTHENTICATED,
  internal: grpc.status.INTERNAL,
};

/** The wire status of an ErrorCode. */
export function grpcStatusOf(code: ErrorCode): grpc.status {
  return GRPC_STATUS[code];
}

/** The message sent for anything that is not a SchedulerError; details stay in the log. */
export const GENERIC_INTERNAL_MESSAGE = "internal error";

/**
 * Converts anything a handler threw into a grpc-js ServiceError (integer `code`, `details`,
 * trailing `metadata`), ready for `callback(err)` or `call.emit("error", err)`.
 *
 * - A SchedulerError (also when found on the `cause` chain) keeps its code and message; its
 *   violations go to the `corral-violations` trailer.
 * - Anything else becomes INTERNAL with a generic message that names the request id; the full
 *   error is logged at error level through `log` (which should carry the request id binding).
 */
export function toServiceError(err: unknown, log: Logger, requestId?: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (requestId !== undefined) metadata.set(REQUEST_ID_METADATA_KEY, requestId);
  const known = SchedulerError.from(err);
  // `from` wraps a value with no SchedulerError on its cause chain in a fresh internal error.
  const unexpected = known !== err && known.cause === err;
  if (known.code === "internal") log.error({ err }, "rpc failed with an internal error");
  if (unexpected) {
    const suffix = requestId === undefined ? "" : ` (request id ${requestId})`;
    return serviceError(grpc.status.INTERNAL, GENERIC_INTERNAL_MESSAGE + suffix, metadata);
  }
  if (known.violations.length > 0) {
    metadata.set(VIOLATIONS_METADATA_KEY, encodeViolations(known.violations));
  }
  return serviceError(grpcStatusOf(known.code), known.message, metadata);
}

/** Reads the `corral-violations` trailer of an error status; [] when absent or malformed. */
export function decodeViolations(metadata: grpc.Metadata | undefined): FieldViolation[] {
  const raw = metadata?.get(VIOLATIONS_METADATA_KEY)[0];
  if (typeof raw !== "string") return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (v): v is FieldViolation =>
        typeof v === "object" && v !== null && typeof v.field === "string" && typeof v.reason === "string",
    );
  } catch {
    return [];
  }
}

function encodeViolations(violations: readonly FieldViolation[]): string {
  const json = JSON.stringify(violations.map((v) => ({ field: v.field, reason: v.reason })));
  // Non-binary metadata values must be printable ASCII.
  return json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function serviceError(code: grpc.status, details: string, metadata: grpc.Metadata): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}

/**
 * The one error type of Corral. `code` has gRPC semantics; `adapters/grpc/status.ts` is the only
 * place that maps it to a wire status. Expected outcomes (a declined offer, a store miss) are
 * return values, not errors.
 */
export type ErrorCode =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "failed_precondition"
  | "aborted"
  | "out_of_range"
  | "resource_exhausted"
  | "unavailable"
  | "deadline_exceeded"
  | "unimplemented"
  | "unauthenticated"
  | "internal";

/** One offending field of a bad request, for INVALID_ARGUMENT details. */
export interface FieldViolation {
  /** Path of the field, e.g. `name` or `spec.pods.hello.tasks.server.cpus`. */
  readonly field: string;
  readonly reason: string;
}

export class SchedulerError extends Error {
  override readonly name = "SchedulerError";
  readonly code: ErrorCode;
  readonly violations: readonly FieldViolation[];
  /**
   * A standby's refusal (code unavailable) names the leader's "host:port" here; the gRPC edge
   * sends it as the `corral-leader` trailer and clients follow it.
   */
  readonly leader: string | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; violations?: readonly FieldViolation[]; leader?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.violations = options.violations ?? [];
    this.leader = options.leader;
  }

  /** An INVALID_ARGUMENT naming each bad field; the message lists them all. */
  static invalid(violations: readonly FieldViolation[]): SchedulerError {
    const text = violations.map((v) => `${v.field}: ${v.reason}`).join("; ");
    return new SchedulerError("invalid_argument", text, { violations });
  }

  /** Wraps anything thrown; a SchedulerError found on the cause chain is returned as is. */
  static from(err: unknown): SchedulerError {
    for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; depth++) {
      if (e instanceof SchedulerError) return e;
      e = e.cause;
    }
    return new SchedulerError("internal", "internal error", { cause: err });
  }
}

/** Longest user-supplied text an error message quotes before it is cut. */
export const QUOTE_MAX_CHARS = 64;

/**
 * A user-supplied value as an error message may quote it: at most `max` characters, a longer one
 * cut with an ellipsis and its full length, so an error never echoes unbounded input (gRPC C-core
 * and grpc-java clients fail a reply whose trailers pass 8 KiB).
 */
export function abbreviate(value: string, max = QUOTE_MAX_CHARS): string {
  if (value.length <= max) return value;
  return `${sliceChars(value, max)}…(${value.length} chars)`;
}

/**
 * Names as an error message may list them: the first `max` abbreviated and comma separated, then
 * "and N more" for the rest, so a request naming 50,000 services gets a short reply.
 */
export function abbreviateList(values: readonly string[], max = 5): string {
  const shown = values.slice(0, max).map((v) => abbreviate(v)).join(", ");
  return values.length > max ? `${shown} and ${values.length - max} more` : shown;
}

/** The first `max` UTF-16 units of `value`, one fewer when the cut would split a surrogate pair. */
export function sliceChars(value: string, max: number): string {
  if (value.length <= max) return value;
  const last = value.charCodeAt(max - 1);
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

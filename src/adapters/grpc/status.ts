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

/**
 * Trailing-metadata key of a standby's UNAVAILABLE: the leader's "host:port" (its
 * --advertise-address), for clients to send the call there. Absent while no leader is known.
 */
export const LEADER_METADATA_KEY = "corral-leader";

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
 * The bound of an error's trailers: `grpc-status`, `grpc-message` (percent-encoded as sent) and
 * every trailing metadata entry, counted as `encodedTrailerBytes` does. gRPC C-core (Python, Ruby,
 * C++, C#) and grpc-java refuse a reply whose metadata passes 8 KiB; Corral stays under half.
 */
export const ERROR_TRAILER_LIMIT_BYTES = 4096;

/**
 * What `toServiceError` fills at most: the limit less room for the `:status` and `content-type`
 * headers a trailers-only reply carries in the same block (about 110 bytes) and headroom.
 */
export const ERROR_TRAILER_BUDGET_BYTES = 3584;

/** The `corral-violations` value's share of the budget; the message gets the rest. */
const VIOLATIONS_BUDGET_BYTES = 2048;
/** Most bytes a violation's field path and reason take in the trailer's JSON before they are cut. */
const VIOLATION_FIELD_MAX_BYTES = 256;
const VIOLATION_REASON_MAX_BYTES = 512;
/** A caller's request id is echoed when it is 1–128 printable ASCII characters (admin-handlers). */
const REQUEST_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

/**
 * Converts anything a handler threw into a grpc-js ServiceError (integer `code`, `details`,
 * trailing `metadata`), ready for `callback(err)` or `call.emit("error", err)`.
 *
 * - A SchedulerError (also when found on the `cause` chain) keeps its code and message; its
 *   violations go to the `corral-violations` trailer.
 * - Anything else becomes INTERNAL with a generic message that names the request id; the full
 *   error is logged at error level through `log` (which should carry the request id binding).
 *
 * Whatever the input, the trailers stay within ERROR_TRAILER_BUDGET_BYTES (< 4 KiB) as
 * `encodedTrailerBytes` counts them: each violation's field and reason are cut with an ellipsis
 * and their length, a long list ends with `{ field: "…", reason: "and N more" }`, and the message
 * is cut to what is left, at a character boundary, with "…(N chars)". Lone surrogates become
 * U+FFFD (grpc-js percent-encodes the message with `encodeURI`, which throws on them).
 */
export function toServiceError(err: unknown, log: Logger, requestId?: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  const echoedId = requestId !== undefined && REQUEST_ID_PATTERN.test(requestId) ? requestId : undefined;
  if (echoedId !== undefined) metadata.set(REQUEST_ID_METADATA_KEY, echoedId);
  const known = SchedulerError.from(err);
  // `from` wraps a value with no SchedulerError on its cause chain in a fresh internal error.
  const unexpected = known !== err && known.cause === err;
  if (known.code === "internal") log.error({ err }, "rpc failed with an internal error");
  if (unexpected) {
    const suffix = echoedId === undefined ? "" : ` (request id ${echoedId})`;
    return serviceError(grpc.status.INTERNAL, GENERIC_INTERNAL_MESSAGE + suffix, metadata);
  }
  // A host:port is short; a longer value is not one and is left out rather than cut.
  if (known.leader !== undefined && known.leader.length <= 255 && /^[\x21-\x7e]+$/.test(known.leader)) {
    metadata.set(LEADER_METADATA_KEY, known.leader);
  }
  if (known.violations.length > 0) {
    metadata.set(VIOLATIONS_METADATA_KEY, encodeViolations(known.violations, VIOLATIONS_BUDGET_BYTES));
  }
  const room = ERROR_TRAILER_BUDGET_BYTES - encodedTrailerBytes("", metadata);
  return serviceError(grpcStatusOf(known.code), fitEncoded(String(known.message), room), metadata);
}

/**
 * The size of an error's trailers as grpc-js sends them: for `grpc-status` (two digits at most),
 * `grpc-message` (`details` percent-encoded the way grpc-js's `encodeURI` does) and each entry of
 * `metadata` (binary values base64, as on the wire), the name's and the value's bytes plus 32 —
 * the HPACK entry size (RFC 7541 §4.1) that gRPC C-core's metadata limit counts. Use it on a
 * ServiceError from `toServiceError` or on one a client received:
 * `encodedTrailerBytes(err.details, err.metadata) < ERROR_TRAILER_LIMIT_BYTES`.
 */
export function encodedTrailerBytes(details: string, metadata?: grpc.Metadata): number {
  let total = hpackEntry("grpc-status", 2) + hpackEntry("grpc-message", percentEncodedLength(details));
  for (const [key, value] of Object.entries(metadata?.toHttp2Headers() ?? {})) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    for (const v of values) total += hpackEntry(key, Buffer.byteLength(String(v)));
  }
  return total;
}

const hpackEntry = (name: string, valueBytes: number): number => name.length + valueBytes + 32;

/** Characters `encodeURI` leaves as they are; every other one is sent as %XX per UTF-8 byte. */
const URI_KEEPS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789;,/?:@&=+$-_.!~*'()#") {
  URI_KEEPS[c.charCodeAt(0)] = 1;
}

/** Bytes `encodeURI` makes of one code point; a lone surrogate counts as the U+FFFD it becomes. */
function encodedCodePointBytes(cp: number): number {
  if (cp < 0x80) return URI_KEEPS[cp] === 1 ? 1 : 3;
  if (cp < 0x800) return 6;
  if (cp < 0x10000) return 9;
  return 12;
}

/** `encodeURI(text).length`, without building the string and without throwing. */
export function percentEncodedLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.codePointAt(i) ?? 0;
    if (cp > 0xffff) i++;
    n += encodedCodePointBytes(cp);
  }
  return n;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `text` when it percent-encodes to at most `budget` bytes; else its longest prefix that fits
 * together with "…(N chars)", cut between code points. Lone surrogates become U+FFFD either way.
 */
export function fitEncoded(text: string, budget: number): string {
  return fitText(text, budget, encodedCodePointBytes).replace(LONE_SURROGATE, "\ufffd");
}

/** Bytes `asciiJson` makes of one code point inside a string (an upper bound for controls). */
function jsonCodePointBytes(cp: number): number {
  if (cp === 0x22 || cp === 0x5c) return 2;
  if (cp >= 0x20 && cp < 0x7f) return 1;
  return cp > 0xffff ? 12 : 6;
}

/** `text`, or its longest prefix whose `cost` with "…(N chars)" stays within `budget`. */
function fitText(text: string, budget: number, cost: (cp: number) => number): string {
  const suffix = `…(${text.length} chars)`;
  let room = budget;
  for (let i = 0; i < suffix.length; i++) room -= cost(suffix.charCodeAt(i));
  let used = 0;
  let cut = -1;
  for (let i = 0; i < text.length; i++) {
    const start = i;
    const cp = text.codePointAt(i) ?? 0;
    if (cp > 0xffff) i++;
    used += cost(cp);
    if (cut === -1 && used > room) cut = start;
    if (used > budget) return `${text.slice(0, Math.max(cut, 0))}${suffix}`;
  }
  return text;
}

/** The `corral-leader` trailer of a standby's UNAVAILABLE, or undefined. */
export function leaderOf(metadata: grpc.Metadata | undefined): string | undefined {
  const raw = metadata?.get(LEADER_METADATA_KEY)[0];
  return typeof raw === "string" && raw !== "" ? raw : undefined;
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

/**
 * The violations as ASCII JSON of at most `budget` bytes: each field and reason abbreviated, and
 * when they do not all fit, the ones that do and a last `{ field: "…", reason: "and N more" }`.
 */
function encodeViolations(violations: readonly FieldViolation[], budget: number): string {
  const more = (n: number): string => asciiJson({ field: "…", reason: `and ${n} more` });
  const reserve = more(violations.length).length + 1;
  const entries: string[] = [];
  let size = 2; // "[" and "]"
  for (const v of violations) {
    const entry = asciiJson({
      field: fitText(String(v.field), VIOLATION_FIELD_MAX_BYTES, jsonCodePointBytes),
      reason: fitText(String(v.reason), VIOLATION_REASON_MAX_BYTES, jsonCodePointBytes),
    });
    const last = entries.length === violations.length - 1;
    if (size + entry.length + 1 + (last ? 0 : reserve) > budget) break;
    entries.push(entry);
    size += entry.length + 1;
  }
  if (entries.length < violations.length) entries.push(more(violations.length - entries.length));
  return `[${entries.join(",")}]`;
}

/** JSON with every character outside printable ASCII `\u` escaped: non-binary metadata values must be printable ASCII. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function serviceError(code: grpc.status, details: string, metadata: grpc.Metadata): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}

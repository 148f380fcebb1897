import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { SchedulerError } from "../../domain/errors.js";
import type { ErrorCode } from "../../domain/errors.js";
import type { Logger } from "../../engine/ports.js";
import {
  GENERIC_INTERNAL_MESSAGE,
  REQUEST_ID_METADATA_KEY,
  VIOLATIONS_METADATA_KEY,
  decodeViolations,
  grpcStatusOf,
  toServiceError,
} from "./status.js";

function recordingLogger(): Logger & { errors: object[] } {
  const errors: object[] = [];
  const log = {
    errors,
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (obj: object) => void errors.push(obj),
    child: () => log,
  };
  return log;
}

const EXPECTED: ReadonlyArray<[ErrorCode, grpc.status]> = [
  ["invalid_argument", grpc.status.INVALID_ARGUMENT],
  ["not_found", grpc.status.NOT_FOUND],
  ["already_exists", grpc.status.ALREADY_EXISTS],
  ["failed_precondition", grpc.status.FAILED_PRECONDITION],
  ["aborted", grpc.status.ABORTED],
  ["out_of_range", grpc.status.OUT_OF_RANGE],
  ["resource_exhausted", grpc.status.RESOURCE_EXHAUSTED],
  ["unavailable", grpc.status.UNAVAILABLE],
  ["deadline_exceeded", grpc.status.DEADLINE_EXCEEDED],
  ["unimplemented", grpc.status.UNIMPLEMENTED],
  ["unauthenticated", grpc.status.UNAUTHENTICATED],
  ["internal", grpc.status.INTERNAL],
];

describe("grpcStatusOf / toServiceError", () => {
  it.each(EXPECTED)("maps %s to gRPC %s and keeps the message", (code, status) => {
    expect(grpcStatusOf(code)).toBe(status);
    const err = toServiceError(new SchedulerError(code, `boom ${code}`), recordingLogger());
    expect(err.code).toBe(status);
    expect(err.details).toBe(`boom ${code}`);
  });

  it("never maps to UNKNOWN or OK", () => {
    for (const [code] of EXPECTED) {
      expect([grpc.status.UNKNOWN, grpc.status.OK]).not.toContain(grpcStatusOf(code));
    }
  });

  it("turns a plain Error into INTERNAL with a generic message and logs the error", () => {
    const log = recordingLogger();
    const cause = new TypeError("secret detail: cannot read x of undefined");
    const err = toServiceError(cause, log, "req-1");
    expect(err.code).toBe(grpc.status.INTERNAL);
    expect(err.details).toBe(`${GENERIC_INTERNAL_MESSAGE} (request id req-1)`);
    expect(err.details).not.toContain("secret");
    expect(err.metadata.get(REQUEST_ID_METADATA_KEY)).toEqual(["req-1"]);
    expect(log.errors).toEqual([{ err: cause }]);
  });

  it("turns thrown non-errors into INTERNAL", () => {
    expect(toServiceError("a string", recordingLogger()).code).toBe(grpc.status.INTERNAL);
    expect(toServiceError(undefined, recordingLogger()).details).toBe(GENERIC_INTERNAL_MESSAGE);
  });

  it("finds a SchedulerError on the cause chain", () => {
    const inner = new SchedulerError("not_found", "service x not found");
    const err = toServiceError(new Error("lookup failed", { cause: inner }), recordingLogger());
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toBe("service x not found");
  });

  it("sends field violations as ASCII JSON trailing metadata", () => {
    const violations = [
      { field: "name", reason: "must be a DNS label" },
      { field: "spec.pods.hello.count", reason: "must be ≥ 1" },
    ];
    const err = toServiceError(SchedulerError.invalid(violations), recordingLogger());
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain("name: must be a DNS label");
    const raw = err.metadata.get(VIOLATIONS_METADATA_KEY)[0];
    expect(typeof raw === "string" && /^[\x20-\x7e]*$/.test(raw)).toBe(true);
    expect(decodeViolations(err.metadata)).toEqual(violations);
  });

  it("decodes absent or malformed violations as []", () => {
    const md = new grpc.Metadata();
    expect(decodeViolations(md)).toEqual([]);
    md.set(VIOLATIONS_METADATA_KEY, "{not json");
    expect(decodeViolations(md)).toEqual([]);
  });
});

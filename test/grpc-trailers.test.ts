/**
 * Bounded error replies (issue 10, deliverable 2), unit level: whatever a SchedulerError carries,
 * `toServiceError` answers with trailers under 4 KiB as `encodedTrailerBytes` counts them, and
 * `encodedTrailerBytes` counts what grpc-js sends (`encodeURI` of the message, HPACK entry sizes).
 */
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ERROR_TRAILER_BUDGET_BYTES,
  ERROR_TRAILER_LIMIT_BYTES,
  REQUEST_ID_METADATA_KEY,
  VIOLATIONS_METADATA_KEY,
  decodeViolations,
  encodedTrailerBytes,
  fitEncoded,
  percentEncodedLength,
  toServiceError,
} from "../src/adapters/grpc/status.js";
import { SchedulerError, abbreviate, abbreviateList } from "../src/domain/errors.js";
import type { Logger } from "../src/engine/ports.js";

const log: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => log };

const MiB = 1024 * 1024;
const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** The checks every error reply must pass; returns the error for more. */
function bounded(err: grpc.ServiceError): grpc.ServiceError {
  const size = encodedTrailerBytes(err.details, err.metadata);
  expect(size).toBeLessThanOrEqual(ERROR_TRAILER_BUDGET_BYTES);
  expect(size).toBeLessThan(ERROR_TRAILER_LIMIT_BYTES);
  expect(() => encodeURI(err.details)).not.toThrow(); // grpc-js sends encodeURI(details)
  expect(LONE.test(err.details)).toBe(false);
  for (const value of Object.values(err.metadata.toHttp2Headers())) expect(String(value)).toMatch(/^[\x20-\x7e]*$/);
  return err;
}

describe("encodedTrailerBytes", () => {
  it("counts grpc-status, the percent-encoded grpc-message and each metadata entry as HPACK entries", () => {
    const md = new grpc.Metadata();
    md.set("x-request-id", "abc");
    md.add("corral-violations", "[]");
    md.add("corral-violations", "[1]");
    md.set("trace-bin", Buffer.from([0, 1, 2, 3]));
    const details = "naïve 50% [x] 😀 a/b?c#d";
    const expected =
      ("grpc-status".length + 2 + 32) +
      ("grpc-message".length + encodeURI(details).length + 32) +
      ("x-request-id".length + 3 + 32) +
      ("corral-violations".length + 2 + 32) +
      ("corral-violations".length + 3 + 32) +
      ("trace-bin".length + Buffer.from([0, 1, 2, 3]).toString("base64").length + 32);
    expect(encodedTrailerBytes(details, md)).toBe(expected);
    expect(encodedTrailerBytes("")).toBe("grpc-status".length + 2 + 32 + "grpc-message".length + 32);
  });

  it("percentEncodedLength equals encodeURI(text).length for any well-formed text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-composite", maxLength: 200 }), (text) => {
        expect(percentEncodedLength(text)).toBe(encodeURI(text).length);
      }),
      { numRuns: 500 },
    );
    expect(percentEncodedLength("\ud800x")).toBe(encodeURI("\ufffdx").length);
  });
});

describe("fitEncoded", () => {
  it("keeps text that fits, else a prefix cut between code points with its length", () => {
    expect(fitEncoded("short", 100)).toBe("short");
    const cut = fitEncoded("😀".repeat(1000), 200);
    expect(cut).toMatch(/^(😀)+…\(2000 chars\)$/);
    expect(percentEncodedLength(cut)).toBeLessThanOrEqual(200);
    expect(fitEncoded("%".repeat(1000), 30)).toMatch(/^%*…\(1000 chars\)$/);
  });

  it("never exceeds the budget, never leaves a lone surrogate, and keeps a prefix", () => {
    const text = fc.string({ unit: fc.oneof(fc.constantFrom("\ud83d", "\ude00", "%", " ", "é"), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })), maxLength: 400 });
    fc.assert(
      fc.property(text, fc.integer({ min: 40, max: 600 }), (t, budget) => {
        const out = fitEncoded(t, budget);
        const wellFormed = t.replace(new RegExp(LONE, "g"), "\ufffd");
        expect(percentEncodedLength(out)).toBeLessThanOrEqual(budget);
        expect(LONE.test(out)).toBe(false);
        expect(() => encodeURI(out)).not.toThrow();
        if (out !== wellFormed) {
          expect(out.endsWith(`…(${t.length} chars)`)).toBe(true);
          expect(wellFormed.startsWith(out.slice(0, out.lastIndexOf("…(")))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("toServiceError bounds every reply", () => {
  it("cuts a NOT_FOUND echoing a 1 MiB name", () => {
    const name = "n".repeat(MiB);
    const err = bounded(toServiceError(new SchedulerError("not_found", `service '${name}' not found`), log, "req-1"));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(err.details).toMatch(/^service 'n+…\(1048596 chars\)$/);
    expect(err.metadata.get(REQUEST_ID_METADATA_KEY)).toEqual(["req-1"]);
  });

  it("cuts 1 MiB fields and reasons, and ends 50,000 violations with 'and N more'", () => {
    const violations = [
      { field: "f".repeat(MiB), reason: "r".repeat(MiB) },
      ...Array.from({ length: 49_999 }, (_, i) => ({ field: `names[${i}]`, reason: "must not contain '__'" })),
    ];
    const err = bounded(toServiceError(SchedulerError.invalid(violations), log));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    const decoded = decodeViolations(err.metadata);
    expect(decoded[0]?.field).toMatch(/^f{200,}…\(1048576 chars\)$/);
    expect(decoded[0]?.reason).toMatch(/^r+…\(1048576 chars\)$/);
    const last = decoded.at(-1);
    expect(last?.field).toBe("…");
    const more = Number(/^and (\d+) more$/.exec(last?.reason ?? "")?.[1]);
    expect(decoded.length - 1 + more).toBe(50_000);
    expect(decoded.slice(1, -1)).toEqual(violations.slice(1, decoded.length - 1));
  });

  it("keeps a short violation list whole", () => {
    const violations = Array.from({ length: 10 }, (_, i) => ({ field: `f${i}`, reason: "bad" }));
    const err = bounded(toServiceError(SchedulerError.invalid(violations), log));
    expect(decodeViolations(err.metadata)).toEqual(violations);
    expect(err.details).toBe(violations.map((v) => `${v.field}: ${v.reason}`).join("; "));
  });

  it("counts non-ASCII and emoji by their encoded bytes, in the message and in violations", () => {
    const emoji = "😀".repeat(200_000);
    const err = bounded(
      toServiceError(SchedulerError.invalid([{ field: `pods.${emoji}`, reason: `é${emoji}` }, { field: "ü", reason: "\u0000\u001f\u2028" }]), log),
    );
    expect(err.details).toMatch(/…\(\d+ chars\)$/);
    const decoded = decodeViolations(err.metadata);
    expect(decoded[0]?.field).toMatch(/^pods\.(😀)+…\(400005 chars\)$/);
    expect(decoded[1]).toEqual({ field: "ü", reason: "\u0000\u001f\u2028" });
  });

  it("turns lone surrogates into U+FFFD instead of letting encodeURI throw in grpc-js", () => {
    const err = bounded(toServiceError(new SchedulerError("not_found", "service '\ud800\udfff\udc00x' not found"), log));
    expect(err.details).toBe("service '\ud800\udfff\ufffdx' not found");
    const v = bounded(toServiceError(SchedulerError.invalid([{ field: "\ud800", reason: "\udfff".repeat(5000) }]), log));
    expect(decodeViolations(v.metadata)[0]?.field).toBe("\ud800");
  });

  it("does not echo a request id that is long, empty or not printable ASCII, and never throws on it", () => {
    for (const id of ["x".repeat(8192), "", "bad id\n", "ü", "\u0000"]) {
      const err = bounded(toServiceError(new TypeError("boom"), log, id));
      expect(err.code).toBe(grpc.status.INTERNAL);
      expect(err.metadata.get(REQUEST_ID_METADATA_KEY)).toEqual([]);
      expect(err.details).toBe("internal error");
    }
  });

  it("bounds any mix of message, violations and request id (property)", () => {
    const text = fc.string({ unit: fc.oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), fc.constantFrom("%", "\ud800", "😀", "\u0000")), maxLength: 3000 });
    fc.assert(
      fc.property(
        text,
        fc.array(fc.record({ field: text, reason: text }), { maxLength: 60 }),
        fc.string({ maxLength: 200 }),
        (message, violations, id) => {
          bounded(toServiceError(new SchedulerError("invalid_argument", message, { violations }), log, id));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("sends the violations as a trailer of printable ASCII", () => {
    const err = toServiceError(SchedulerError.invalid([{ field: "a", reason: "≥ 1" }]), log);
    expect(err.metadata.get(VIOLATIONS_METADATA_KEY)).toEqual(['[{"field":"a","reason":"\\u2265 1"}]']);
  });
});

describe("abbreviate and abbreviateList", () => {
  it("never split a surrogate pair", () => {
    const s = `${"a".repeat(63)}😀tail`;
    expect(abbreviate(s)).toBe(`${"a".repeat(63)}…(${s.length} chars)`);
    expect(abbreviate("😀".repeat(40), 5)).toBe("😀😀…(80 chars)");
  });

  it("lists the first names and counts the rest", () => {
    expect(abbreviateList(["a", "b"])).toBe("a, b");
    const names = Array.from({ length: 50_000 }, (_, i) => `svc-${i}`);
    expect(abbreviateList(names)).toBe("svc-0, svc-1, svc-2, svc-3, svc-4 and 49995 more");
    expect(abbreviateList(["x".repeat(MiB)])).toBe(`${"x".repeat(64)}…(${MiB} chars)`);
  });
});

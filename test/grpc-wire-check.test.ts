/**
 * checkWire (src/adapters/grpc/wire-check.ts) beyond the request messages: nested messages,
 * packed repeated numbers, and properties against protobuf-es — every message protobuf-es writes
 * passes, and whatever passes parses without error.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SourceCodeInfo_LocationSchema, SourceCodeInfoSchema } from "@bufbuild/protobuf/wkt";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  PutServiceRequestSchema,
  PutServiceResponseSchema,
  WatchUninstallRequestSchema,
} from "../gen/corral/v1/admin_pb.js";
import { checkWire } from "../src/adapters/grpc/wire-check.js";
import { body, pb } from "./grpc-raw-client.js";

describe("checkWire", () => {
  it("names a nested field by its path", () => {
    const timestamp = [...pb.tag(1, 2), 1, 0]; // seconds (int64) sent length-delimited
    const bytes = body(pb.len(1, [...pb.len(1, "svc"), ...pb.len(7, timestamp)]));
    expect(checkWire(PutServiceResponseSchema, bytes)).toEqual({
      field: "service.created_time.seconds",
      reason: expect.stringMatching(/wire type 2 .*int64 field is sent with wire type 0/),
    });
    const plans = body(pb.len(1, [...pb.len(5, pb.len(1, "deploy")), ...pb.len(5, [...pb.tag(3, 5), 1, 2, 3, 4])]));
    expect(checkWire(PutServiceResponseSchema, plans)?.field).toBe("service.plans[1].steps_complete");
  });

  it("reads PutService's expected_generation (with presence) and dry_run, and names them when mistyped", () => {
    const zero = body(pb.len(1, "a"), pb.tag(4, 0), [0], pb.tag(5, 0), [1]);
    expect(checkWire(PutServiceRequestSchema, zero)).toBeUndefined();
    expect(fromBinary(PutServiceRequestSchema, zero)).toMatchObject({ expectedGeneration: 0n, dryRun: true });
    expect(fromBinary(PutServiceRequestSchema, body(pb.len(1, "a"))).expectedGeneration).toBeUndefined();
    expect(checkWire(PutServiceRequestSchema, body(pb.len(4, "7")))).toEqual({
      field: "expected_generation",
      reason: "sent with wire type 2 (length-delimited); a uint64 field is sent with wire type 0 (varint)",
    });
    expect(checkWire(PutServiceRequestSchema, body(pb.tag(5, 5), [1, 0, 0, 0]))?.field).toBe("dry_run");
    const change = body(pb.len(4, [...pb.len(1, "hello-0"), ...pb.len(5, [...pb.len(1, "spec.pods.hello.count"), ...pb.tag(2, 0), 1])]));
    expect(checkWire(PutServiceResponseSchema, change)).toEqual({
      field: "change.violations[0].reason",
      reason: "sent with wire type 0 (varint); a string field is sent with wire type 2 (length-delimited)",
    });
  });

  it("accepts packed and unpacked repeated numbers, and refuses a packed run that is cut", () => {
    const packed = body(pb.len(1, [1, 2, 0x96, 0x01]));
    expect(checkWire(SourceCodeInfo_LocationSchema, packed)).toBeUndefined();
    expect(fromBinary(SourceCodeInfo_LocationSchema, packed).path).toEqual([1, 2, 150]);
    expect(checkWire(SourceCodeInfo_LocationSchema, body(pb.tag(1, 0), [7], pb.tag(1, 0), [8]))).toBeUndefined();
    expect(checkWire(SourceCodeInfo_LocationSchema, body(pb.len(1, [1, 0x80])))).toEqual({
      field: "path[0]",
      reason: expect.stringMatching(/truncated/),
    });
    expect(checkWire(SourceCodeInfo_LocationSchema, body(pb.tag(1, 5), [0, 0, 0, 0]))?.reason).toMatch(/repeated int32/);
  });

  it("passes every message protobuf-es writes", () => {
    const text = fc.string({ unit: "binary", maxLength: 40 });
    fc.assert(
      fc.property(text, text, fc.dictionary(text, text, { maxKeys: 5 }), fc.array(text, { maxLength: 5 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }), fc.boolean(), (name, spec, parameters, names, after, expectedGeneration, dryRun) => {
        const put = toBinary(PutServiceRequestSchema, create(PutServiceRequestSchema, { name, spec, parameters, expectedGeneration, dryRun }));
        expect(checkWire(PutServiceRequestSchema, put)).toBeUndefined();
        const watch = toBinary(WatchUninstallRequestSchema, create(WatchUninstallRequestSchema, { names, after }));
        expect(checkWire(WatchUninstallRequestSchema, watch)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    const info = create(SourceCodeInfoSchema, { location: [{ path: [1, -2, 2 ** 31 - 1], span: [0, 1], leadingComments: "é" }] });
    expect(checkWire(SourceCodeInfoSchema, toBinary(SourceCodeInfoSchema, info))).toBeUndefined();
  });

  it("whatever passes, protobuf-es parses without throwing (random and mutated bytes)", () => {
    const valid = toBinary(PutServiceRequestSchema, create(PutServiceRequestSchema, { name: "a", spec: "name: a", parameters: { K: "v" } }));
    const mutated = fc
      .array(fc.record({ at: fc.nat(valid.length - 1), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 })
      .map((edits) => {
        const copy = Uint8Array.from(valid);
        for (const { at, byte } of edits) copy[at] = byte;
        return copy;
      });
    for (const schema of [PutServiceRequestSchema, WatchUninstallRequestSchema, SourceCodeInfoSchema] as const) {
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (bytes) => {
          if (checkWire(schema, bytes) === undefined) expect(() => fromBinary(schema, bytes)).not.toThrow();
        }),
        { numRuns: 2000 },
      );
    }
  });
});

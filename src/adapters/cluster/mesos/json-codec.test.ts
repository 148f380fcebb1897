import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Reservation } from "../../../domain/cluster.js";
import { mesosFixture } from "../../../../test/fixtures/mesos/load.js";
import { decoded, encodeDouble, JsonReader, roundScalar, type Json } from "./json-codec.js";
import { encodeAcknowledge, encodeAcknowledgeOperationStatus } from "./json-codec-calls.js";
import { decodeEvent } from "./json-codec-events.js";
import { decodeResource, encodeResource, type MesosResource } from "./json-codec-resources.js";

const read = (value: Json) => new JsonReader(value, "$");

describe("scalars and doubles", () => {
  it.each([
    [0.1 + 0.2, 0.3],
    [1.0005, 1.001],
    [-1.0005, -1.001],
    [0.0004, 0],
    [28672, 28672],
    [Infinity, Infinity],
  ])("roundScalar(%d) = %d", (value, expected) => {
    expect(roundScalar(value)).toBe(expected);
  });

  it("writes infinities as strings and reads them back", () => {
    expect([encodeDouble(Infinity), encodeDouble(-Infinity), encodeDouble(1.5)]).toStrictEqual(["Infinity", "-Infinity", 1.5]);
    expect([read("Infinity").double(), read("-Infinity").double(), read("2.5").double()]).toStrictEqual([Infinity, -Infinity, 2.5]);
    expect(decoded(() => read("").double())).toMatchObject({ ok: false, error: { path: "$" } });
  });

  it("reads int64 numbers and numeric strings, and nothing else, as integers", () => {
    expect([read(31000).integer(), read("31000").integer(), read("-4").integer()]).toStrictEqual([31000, 31000, -4]);
    expect(decoded(() => read("31k").integer())).toMatchObject({ ok: false, error: { message: '$: expected an integer, got string "31k"' } });
  });
});

describe("labels and bytes", () => {
  it("keeps a repeated key's first value and treats __proto__ as data", () => {
    const labels = read({ labels: [{ key: "a", value: "1" }, { key: "a", value: "2" }, { key: "__proto__", value: "x" }, { key: "empty" }] }).labels();
    expect(Object.entries(labels)).toStrictEqual([["a", "1"], ["__proto__", "x"], ["empty", ""]]);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });

  it.each(["Xwwqnjt9TB6KZA2bLn8cMw==", "cGluZw==", "YWJj", ""])("accepts base64 %j exactly as sent", (text) => {
    expect(read({ uuid: text }).at("uuid").optBytes()).toBe(text);
  });

  it.each(["Xwwqnjt9TB6KZA2bLn8cMw", "a b=", "_-_-", "YWJ=="])("refuses %j as bytes", (text) => {
    expect(decoded(() => read({ uuid: text }).at("uuid").optBytes())).toMatchObject({ ok: false, error: { path: "$.uuid" } });
  });
});

describe("round trips", () => {
  it("every non-SET resource of the reserved OFFERS fixture encodes back to exactly the JSON Mesos sent", () => {
    const sent = ((mesosFixture("event-offers-reserved") as { offers: { offers: { resources: Json[] }[] } }).offers.offers[0]!).resources;
    for (const [i, json] of sent.entries()) {
      const d = decodeResource(new JsonReader(json, `$[${i}]`));
      if (d.kind === "set") continue;
      // Mesos's own rounding aside (1024.0004 arrives as 1024), the echo is exact.
      const expected = JSON.parse(JSON.stringify(json).replace("1024.0004", "1024")) as Json;
      expect(encodeResource(d.resource)).toStrictEqual(expected);
    }
  });

  it("an update's uuid is acknowledged exactly as received", () => {
    const e = decodeEvent(mesosFixture("event-update-running"), 0);
    if (!e.ok || e.value.kind !== "update") throw new Error("fixture did not decode to an update");
    const s = e.value.status;
    expect(encodeAcknowledge("FID", s.agentId!, s.taskId, s.uuid!)).toStrictEqual(mesosFixture("call-acknowledge"));
  });

  it("an operation status's UUID message is acknowledged as raw bytes (§17.10)", () => {
    const e = decodeEvent(mesosFixture("event-update-operation-status"), 0);
    if (!e.ok || e.value.kind !== "operationStatus") throw new Error("fixture did not decode to an operation status");
    const s = e.value.status;
    expect(encodeAcknowledgeOperationStatus("FID", s.agentId!, s.operationId!, s.uuid!)).toStrictEqual(
      mesosFixture("call-acknowledge-operation-status"),
    );
  });

  const text = fc.string({ minLength: 1, maxLength: 8 });
  const reservation: fc.Arbitrary<Reservation> = fc.record(
    {
      type: fc.constantFrom("DYNAMIC" as const, "STATIC" as const),
      role: text,
      principal: text,
      labels: fc.dictionary(text, fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    },
    { requiredKeys: ["type", "role", "labels"] },
  );
  const resource: fc.Arbitrary<MesosResource> = fc.oneof(
    fc.record(
      {
        name: text,
        type: fc.constant("SCALAR" as const),
        scalar: fc.double({ min: 0, max: 1e9, noNaN: true }).map(roundScalar),
        reservations: fc.array(reservation, { minLength: 1, maxLength: 3 }),
        allocationRole: text,
        diskSource: fc.record({ type: fc.constantFrom("PATH" as const, "MOUNT" as const), root: text }),
        disk: fc.record({
          persistence: fc.record({ id: text, principal: text }, { requiredKeys: ["id"] }),
          volume: fc.record({ containerPath: text, mode: fc.constantFrom("RW" as const, "RO" as const) }),
        }),
      },
      { requiredKeys: ["name", "type", "scalar"] },
    ),
    fc.record(
      {
        name: text,
        type: fc.constant("RANGES" as const),
        ranges: fc.array(fc.tuple(fc.nat(65535), fc.nat(100)).map(([begin, n]) => ({ begin, end: begin + n })), { maxLength: 4 }),
        reservations: fc.array(reservation, { minLength: 1, maxLength: 2 }),
      },
      { requiredKeys: ["name", "type", "ranges"] },
    ),
  );

  it("decode(encode(resource)) is the resource, for any resource the domain can hold", () => {
    fc.assert(
      fc.property(resource, (r) => {
        const back = decodeResource(new JsonReader(JSON.parse(JSON.stringify(encodeResource(r))) as Json, "$"));
        // Through JSON so fast-check's null-prototype records compare as plain objects.
        expect(back).toStrictEqual({ kind: "resource", resource: JSON.parse(JSON.stringify(r)) as unknown });
      }),
    );
  });
});

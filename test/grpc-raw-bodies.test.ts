/**
 * Unparseable and mis-typed protobuf bodies (issue 10, deliverable 1) over a real gRPC call:
 * hand-made bytes sent with a pass-through serializer to every MultiServiceAdmin RPC through
 * startCorral (memory store, simulated cluster). Each is INVALID_ARGUMENT naming the field —
 * never grpc-js's INTERNAL "Error deserializing request" — and stores nothing.
 */
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MultiServiceAdmin } from "../gen/corral/v1/admin_pb.js";
import { BODY_FIELD } from "../src/adapters/grpc/wire-check.js";
import { decodeViolations, encodedTrailerBytes } from "../src/adapters/grpc/status.js";
import { startCorral } from "../src/app.js";
import type { Corral } from "../src/app.js";
import { resolveOptions } from "../src/config.js";
import { createAdminClient } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import { body, pb, rawStream, rawUnary } from "./grpc-raw-client.js";

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

const SPEC = [
  "name: {{SERVICE_NAME}}",
  "pods:",
  "  hello:",
  "    count: 1",
  "    tasks:",
  "      server:",
  "        goal: RUNNING",
  '        cmd: "sleep 1000"',
  "        cpus: 0.1",
  "        memory: 32",
  "",
].join("\n");

let corral: Corral;
let admin: AdminClient;
let raw: grpc.Client;

beforeAll(async () => {
  corral = await startCorral(resolveOptions(["--listen", "127.0.0.1:0", "--store", "memory", "--cluster", "sim"], {}), pino({ level: "silent" }));
  admin = createAdminClient({ address: corral.address, defaultDeadlineMs: 20_000 });
  raw = new grpc.Client(corral.address, grpc.credentials.createInsecure());
});

afterAll(async () => {
  raw?.close();
  admin?.close();
  await corral?.stop();
});

const path = (method: string): string => `/${MultiServiceAdmin.typeName}/${method}`;
const names = async (): Promise<string[]> => (await admin.listServices({})).services.map((s) => s.name);
const spec = Buffer.from(SPEC);

/** Asserts INVALID_ARGUMENT naming `field` (a string or pattern), bounded trailers, and returns the reason. */
function invalid(status: grpc.StatusObject, field: string | RegExp): string {
  expect({ code: grpc.status[status.code], details: status.details }).toMatchObject({ code: "INVALID_ARGUMENT" });
  expect(status.details).toMatch(/^request body is not a valid corral\.v1\.\w+: /);
  expect(encodedTrailerBytes(status.details, status.metadata)).toBeLessThan(4096);
  const [violation] = decodeViolations(status.metadata);
  expect(violation?.field).toMatch(typeof field === "string" ? new RegExp(`^${field.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : field);
  return violation?.reason ?? "";
}

describe("PutService with bodies other runtimes reject or read differently", () => {
  const name = pb.len(1, "raw");
  const cases: Array<{ what: string; bytes: Buffer; field: string; reason: RegExp }> = [
    // The case: protobuf-es 2.17 reads a string field sent as a group as if it were a string.
    { what: "spec sent with the group wire type, read as a string by protobuf-es", bytes: body(name, pb.tag(2, SGROUP), pb.varint(spec.length), [...spec]), field: "spec", reason: /wire type 3 \(start group\).*wire type 2/ },
    { what: "spec sent as a well-formed group", bytes: body(name, pb.tag(2, SGROUP), pb.len(1, "x"), pb.tag(2, EGROUP), pb.len(2, spec)), field: "spec", reason: /wire type 3/ },
    { what: "spec sent as a varint", bytes: body(name, pb.tag(2, VARINT), pb.varint(5), pb.len(2, spec)), field: "spec", reason: /wire type 0 \(varint\)/ },
    { what: "name sent as fixed32", bytes: body(pb.tag(1, I32), [0x61, 0x62, 0x63, 0x64], pb.len(2, spec)), field: "name", reason: /wire type 5/ },
    { what: "name sent as fixed64", bytes: body(pb.tag(1, I64), [1, 2, 3, 4, 5, 6, 7, 8], pb.len(2, spec)), field: "name", reason: /wire type 1/ },
    { what: "more parameters than MAX_MAP_ENTRIES", bytes: body(name, pb.len(2, spec), ...Array.from({ length: 4097 }, (_, i) => pb.len(3, [...pb.len(1, `P${i}`), ...pb.len(2, "v")]))), field: "parameters", reason: /more than 4096 entries/ },
    { what: "a map entry with a field besides key and value", bytes: body(name, pb.len(2, spec), pb.len(3, [...pb.len(1, "A"), ...pb.len(2, "1"), ...pb.tag(7, VARINT), 1])), field: "parameters", reason: /map entry holds field number 7/ },
    { what: "parameters sent as a varint", bytes: body(name, pb.len(2, spec), pb.tag(3, VARINT), [1]), field: "parameters", reason: /map field/ },
    { what: "a map value sent as a varint", bytes: body(name, pb.len(2, spec), pb.len(3, [...pb.len(1, "A"), ...pb.tag(2, VARINT), 5])), field: "parameters", reason: /value of a map entry.*wire type 0/ },
    { what: "invalid UTF-8 in name", bytes: body(pb.len(1, [0x72, 0xc3, 0x28]), pb.len(2, spec)), field: "name", reason: /not valid UTF-8/ },
    { what: "invalid UTF-8 in spec (a lone surrogate, CESU-8)", bytes: body(name, pb.len(2, [...spec, 0xed, 0xa0, 0x80])), field: "spec", reason: /not valid UTF-8/ },
    { what: "invalid UTF-8 in a map key", bytes: body(name, pb.len(2, spec), pb.len(3, [...pb.len(1, [0xff]), ...pb.len(2, "v")])), field: "parameters (key)", reason: /not valid UTF-8/ },
    { what: "invalid UTF-8 in a map value", bytes: body(name, pb.len(2, spec), pb.len(3, [...pb.len(1, "A"), ...pb.len(2, [0xc0, 0xaf])])), field: "parameters (value)", reason: /not valid UTF-8/ },
    { what: "a length past the end (truncated spec)", bytes: body(name, pb.tag(2, LEN), pb.varint(spec.length + 10), [...spec]), field: "spec", reason: /truncated/ },
    { what: "a body cut inside a varint", bytes: body(name, pb.tag(2, LEN), [0x80]), field: "spec", reason: /truncated/ },
    { what: "a varint longer than 10 bytes", bytes: body(name, pb.len(2, spec), pb.tag(9, VARINT), Array(11).fill(0x80), [0]), field: "#9", reason: /longer than 10 bytes/ },
    { what: "field number 0", bytes: body(name, pb.len(2, spec), [0x02, 0x01, 0x00]), field: BODY_FIELD, reason: /field number 0/ },
    { what: "wire type 6", bytes: body(name, pb.len(2, spec), pb.tag(9, 6)), field: BODY_FIELD, reason: /invalid wire type 6/ },
    { what: "wire type 7", bytes: body(name, pb.len(2, spec), pb.tag(9, 7)), field: BODY_FIELD, reason: /invalid wire type 7/ },
    { what: "an end-group tag without a start", bytes: body(name, pb.len(2, spec), pb.tag(9, EGROUP)), field: BODY_FIELD, reason: /no matching start group/ },
    { what: "an unknown group never closed", bytes: body(name, pb.len(2, spec), pb.tag(9, SGROUP), pb.len(1, "x")), field: "#9", reason: /not closed/ },
    { what: "an unknown group closed by another number", bytes: body(name, pb.len(2, spec), pb.tag(9, SGROUP), pb.tag(8, EGROUP)), field: "#9", reason: /closed by an end-group tag for 8/ },
    { what: "unknown groups nested 200 deep", bytes: body(name, pb.len(2, spec), ...Array(200).fill(pb.tag(9, SGROUP)), ...Array(200).fill(pb.tag(9, EGROUP))), field: "#9", reason: /nested deeper than 100/ },
    { what: "a tag over 32 bits", bytes: body(name, pb.len(2, spec), [0xff, 0xff, 0xff, 0xff, 0x7f]), field: BODY_FIELD, reason: /overflows 32 bits/ },
  ];

  it.each(cases)("$what → INVALID_ARGUMENT naming $field, nothing stored", async ({ bytes, field, reason }) => {
    const before = await names();
    const { status, messages } = await rawUnary(raw, path("PutService"), bytes);
    expect(messages).toEqual([]);
    expect(invalid(status, field)).toMatch(reason);
    expect(await names()).toEqual(before);
  });

  it("still accepts a valid body with unknown fields of every wire type (skipped, as all runtimes do)", async () => {
    const unknown = [pb.tag(90, VARINT), [0x96, 0x01], pb.tag(91, I64), Array(8).fill(1), pb.len(92, "x"), pb.tag(93, SGROUP), pb.len(1, "y"), pb.tag(93, EGROUP), pb.tag(94, I32), [1, 2, 3, 4]];
    const { status, messages } = await rawUnary(raw, path("PutService"), body(pb.len(1, "raw-ok"), ...unknown, pb.len(2, spec), pb.len(3, [...pb.len(1, "A"), ...pb.len(2, "1")])));
    expect(grpc.status[status.code]).toBe("OK");
    expect(messages).toHaveLength(1);
    expect(await names()).toContain("raw-ok");
  });

  it("reads the last of repeated singular fields, like every runtime", async () => {
    const { status } = await rawUnary(raw, path("PutService"), body(pb.len(1, "ignored"), pb.len(2, spec), pb.len(1, "raw-last")));
    expect(grpc.status[status.code]).toBe("OK");
    expect(await names()).toContain("raw-last");
    expect(await names()).not.toContain("ignored");
  });
});

describe("every RPC answers an unparseable body INVALID_ARGUMENT, never INTERNAL", () => {
  const broken = [
    { what: "truncated", bytes: body(pb.tag(1, LEN), pb.varint(50), [0x61]) },
    { what: "field number 0", bytes: body([0x00]) },
    { what: "a stray end group", bytes: body(pb.tag(1, EGROUP)) },
  ];
  for (const method of MultiServiceAdmin.methods) {
    it.each(broken)(`${method.name}: $what`, async ({ bytes }) => {
      const before = await names();
      const call = method.methodKind === "server_streaming" ? rawStream : rawUnary;
      const { status, messages } = await call(raw, path(method.name), bytes);
      expect(messages).toEqual([]);
      invalid(status, /./);
      expect(await names()).toEqual(before);
    });
  }

  it("WatchUninstall: `after` sent length-delimited and names with invalid UTF-8", async () => {
    const after = await rawStream(raw, path("WatchUninstall"), body(pb.len(2, [1])));
    expect(invalid(after.status, "after")).toMatch(/wire type 2.*uint64 field/);
    const name = await rawStream(raw, path("WatchUninstall"), body(pb.len(1, "a"), pb.len(1, [0xe2, 0x82])));
    expect(invalid(name.status, "names[1]")).toMatch(/not valid UTF-8/);
  });

  it("UninstallService and GetPlan with a mis-typed name change nothing", async () => {
    await admin.putService({ name: "keep", spec: SPEC });
    const before = await names();
    invalid((await rawUnary(raw, path("UninstallService"), body(pb.tag(1, SGROUP), pb.varint(4), [...Buffer.from("keep")]))).status, "name");
    invalid((await rawUnary(raw, path("GetPlan"), body(pb.len(1, "keep"), pb.tag(2, VARINT), [1]))).status, "plan");
    expect(await names()).toEqual(before);
    expect((await admin.getService({ name: "keep" })).service?.state).not.toBe(4 /* UNINSTALLING */);
  });

  it("an empty body is the default message (all fields unset), answered by validation", async () => {
    const { status } = await rawUnary(raw, path("PutService"), Buffer.alloc(0));
    expect(grpc.status[status.code]).toBe("INVALID_ARGUMENT");
    expect(decodeViolations(status.metadata)[0]?.field).toBe("name");
  });
});

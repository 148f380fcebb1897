/**
 * A strict check of protobuf wire bytes against a message descriptor, run before protobuf-es
 * parses a request. protobuf-es 2 is lenient where other runtimes are not: its field readers
 * ignore the wire type of a known field (field 2 `spec` sent as a group is read as if it were a
 * string, and a service was created from bytes Python's protobuf refuses). Corral answers such a
 * body INVALID_ARGUMENT naming the field, and refuses what C++, upb (Python) and protobuf-es
 * refuse anyway, so no runtime's reading of a body decides what is stored:
 *
 * - a known field sent with a wire type its type does not use (packed repeated numbers aside);
 * - a string (also a map key or value) that is not valid UTF-8 (proto3 strings must be);
 * - a tag with field number 0, or wire type 6 or 7; a varint longer than 10 bytes;
 * - a length, fixed-width value or packed run past the end of its message (truncation);
 * - an end-group tag without its start group, or a group left open; nesting deeper than 100;
 * - a map field with more than MAX_MAP_ENTRIES entries (a limit of ours, not of the wire format);
 * - a map entry holding a field other than its key and value (protobuf-es 2.13 cannot read it).
 *
 * Unknown field numbers are skipped (checked for structure only), as every runtime does.
 */
import { isUtf8 } from "node:buffer";
import { ScalarType } from "@bufbuild/protobuf";
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import type { FieldViolation } from "../../domain/errors.js";

/** Nesting limit of messages and groups, as protobuf-es and C++ protobuf apply by default. */
export const WIRE_RECURSION_LIMIT = 100;

/**
 * Entries of one map field (PutService `parameters`). A real template takes tens of parameters and
 * the stored context is limited to 100 KiB anyway; refusing more here, before protobuf-es builds
 * the map, keeps a 1 MiB body of tiny entries from holding the event loop (~60 ms for 36,000).
 */
export const MAX_MAP_ENTRIES = 4096;

/** The `field` of a violation that concerns the body rather than one field. */
export const BODY_FIELD = "(request body)";

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const SGROUP = 3;
const EGROUP = 4;
const I32 = 5;

const WIRE_TYPE_NAMES = ["varint", "64-bit", "length-delimited", "start group", "end group", "32-bit"] as const;
const wireTypeName = (wt: number): string => `wire type ${wt} (${WIRE_TYPE_NAMES[wt] ?? "invalid"})`;

class WireProblem extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** The first problem of `bytes` read as `schema`, or undefined when every runtime reads them alike. */
export function checkWire(schema: DescMessage, bytes: Uint8Array): FieldViolation | undefined {
  try {
    const reader = new Reader(bytes);
    checkMessage(schema, reader, bytes.length, "", 1, undefined);
    return undefined;
  } catch (err) {
    if (err instanceof WireProblem) return { field: err.field || BODY_FIELD, reason: err.reason };
    throw err;
  }
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  /** A varint of at most 10 bytes; the value is exact up to 2^53, which is all lengths and tags need. */
  varint(end: number, field: string): { value: number; bytes: number } {
    let value = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new WireProblem(field, "truncated: a varint runs past the end of its message");
      const b = this.buf[this.pos++] ?? 0;
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return { value, bytes: i + 1 };
    }
    throw new WireProblem(field, "a varint is longer than 10 bytes");
  }

  skip(n: number, end: number, field: string, what: string): void {
    if (n > end - this.pos) throw new WireProblem(field, `truncated: ${what} runs past the end of its message`);
    this.pos += n;
  }

  /** A length prefix and the end of what it delimits, checked against `end`. */
  delimited(end: number, field: string): number {
    const { value, bytes } = this.varint(end, field);
    if (bytes > 5 || value > end - this.pos) {
      throw new WireProblem(field, `truncated: a length of ${value} bytes runs past the end of its message`);
    }
    return this.pos + value;
  }

  tag(end: number, field: string): { no: number; wt: number } {
    const { value, bytes } = this.varint(end, field);
    if (bytes > 5 || value > 0xffffffff) throw new WireProblem(field, "a tag overflows 32 bits");
    const no = Math.floor(value / 8);
    const wt = value % 8;
    if (no === 0) throw new WireProblem(field, "a tag has field number 0");
    if (wt > 5) throw new WireProblem(field, `a tag has invalid wire type ${wt}`);
    return { no, wt };
  }
}

const fieldMaps = new WeakMap<DescMessage, Map<number, DescField>>();

function fieldsOf(schema: DescMessage): Map<number, DescField> {
  let map = fieldMaps.get(schema);
  if (map === undefined) {
    map = new Map(schema.fields.map((f) => [f.number, f]));
    fieldMaps.set(schema, map);
  }
  return map;
}

const join = (path: string, name: string): string => (path === "" ? name : `${path}.${name}`);

/**
 * Checks one message body up to `end` (or, for a group, up to its end-group tag for `groupNo`).
 */
function checkMessage(
  schema: DescMessage,
  r: Reader,
  end: number,
  path: string,
  depth: number,
  groupNo: number | undefined,
): void {
  if (depth > WIRE_RECURSION_LIMIT) throw new WireProblem(path, `nested deeper than ${WIRE_RECURSION_LIMIT} levels`);
  const fields = fieldsOf(schema);
  const counts = new Map<number, number>();
  while (r.pos < end) {
    const { no, wt } = r.tag(end, path);
    if (wt === EGROUP) {
      if (groupNo === no) return;
      throw new WireProblem(path, `an end-group tag for field number ${no} has no matching start group`);
    }
    const field = fields.get(no);
    if (field === undefined) {
      skipUnknown(r, wt, no, end, join(path, `#${no}`), depth);
      continue;
    }
    let name = join(path, field.name);
    if (field.fieldKind === "list" || field.fieldKind === "map") {
      const index = counts.get(no) ?? 0;
      counts.set(no, index + 1);
      if (field.fieldKind === "list") name = `${name}[${index}]`;
      else if (index >= MAX_MAP_ENTRIES) throw new WireProblem(name, `has more than ${MAX_MAP_ENTRIES} entries`);
    }
    checkField(field, wt, r, end, name, depth);
  }
  if (groupNo !== undefined) throw new WireProblem(path, `the group of field number ${groupNo} is not closed`);
}

type ScalarKind = "varint" | "i32" | "i64" | "string" | "bytes";

function scalarKind(t: ScalarType): ScalarKind {
  switch (t) {
    case ScalarType.STRING:
      return "string";
    case ScalarType.BYTES:
      return "bytes";
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return "i32";
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
    case ScalarType.DOUBLE:
      return "i64";
    default:
      return "varint";
  }
}

const WIRE_TYPE_OF: Record<ScalarKind, number> = { varint: VARINT, i32: I32, i64: I64, string: LEN, bytes: LEN };

function checkField(field: DescField, wt: number, r: Reader, end: number, name: string, depth: number): void {
  const wrong = (expected: string): never => {
    throw new WireProblem(name, `sent with ${wireTypeName(wt)}; a ${expected} field is sent with ${expectedWireTypes(field)}`);
  };
  switch (field.fieldKind) {
    case "scalar":
      if (wt !== WIRE_TYPE_OF[scalarKind(field.scalar)]) wrong(ScalarType[field.scalar].toLowerCase());
      return checkScalar(scalarKind(field.scalar), r, end, name);
    case "enum":
      if (wt !== VARINT) wrong("enum");
      return checkScalar("varint", r, end, name);
    case "message":
      return checkChild(field.message, field.delimitedEncoding, field.number, wt, r, end, name, depth, wrong);
    case "list": {
      if (field.listKind === "message") {
        return checkChild(field.message, field.delimitedEncoding, field.number, wt, r, end, name, depth, wrong);
      }
      const kind = field.listKind === "enum" ? "varint" : scalarKind(field.scalar);
      const label = field.listKind === "enum" ? "repeated enum" : `repeated ${ScalarType[field.scalar].toLowerCase()}`;
      if (wt === WIRE_TYPE_OF[kind]) return checkScalar(kind, r, end, name);
      if (wt !== LEN || kind === "string" || kind === "bytes") return wrong(label);
      // Packed: a run of values filling the length exactly.
      const runEnd = r.delimited(end, name);
      while (r.pos < runEnd) checkScalar(kind, r, runEnd, name);
      return;
    }
    case "map": {
      if (wt !== LEN) wrong("map");
      const entryEnd = r.delimited(end, name);
      const keyKind = scalarKind(field.mapKey);
      const valueKind: ScalarKind | "message" =
        field.mapKind === "message" ? "message" : field.mapKind === "enum" ? "varint" : scalarKind(field.scalar);
      while (r.pos < entryEnd) {
        const t = r.tag(entryEnd, name);
        if (t.no === 1 && t.wt === WIRE_TYPE_OF[keyKind]) checkScalar(keyKind, r, entryEnd, `${name} (key)`);
        else if (t.no === 2 && valueKind === "message" && t.wt === LEN && field.mapKind === "message") {
          const valueEnd = r.delimited(entryEnd, name);
          checkMessage(field.message, r, valueEnd, `${name} (value)`, depth + 1, undefined);
        } else if (t.no === 2 && valueKind !== "message" && t.wt === WIRE_TYPE_OF[valueKind]) {
          checkScalar(valueKind, r, entryEnd, `${name} (value)`);
        } else if (t.no === 1 || t.no === 2) {
          throw new WireProblem(
            name,
            `the ${t.no === 1 ? "key" : "value"} of a map entry is sent with ${wireTypeName(t.wt)}`,
          );
        } else {
          // Other runtimes skip them; protobuf-es 2.13 (the newest that supports Node 20) cannot
          // read a map entry holding one, so it is refused here rather than failing the decode.
          throw new WireProblem(name, `a map entry holds field number ${t.no}; only its key (1) and value (2) may be sent`);
        }
      }
      return;
    }
  }
}

function expectedWireTypes(field: DescField): string {
  switch (field.fieldKind) {
    case "scalar":
      return wireTypeName(WIRE_TYPE_OF[scalarKind(field.scalar)]);
    case "enum":
      return wireTypeName(VARINT);
    case "map":
      return wireTypeName(LEN);
    case "message":
      return wireTypeName(field.delimitedEncoding ? SGROUP : LEN);
    case "list": {
      if (field.listKind === "message") return wireTypeName(field.delimitedEncoding ? SGROUP : LEN);
      const kind = field.listKind === "enum" ? "varint" : scalarKind(field.scalar);
      const wt = WIRE_TYPE_OF[kind];
      return wt === LEN ? wireTypeName(LEN) : `${wireTypeName(wt)} or ${wireTypeName(LEN)} (packed)`;
    }
  }
}

function checkChild(
  schema: DescMessage,
  delimited: boolean,
  no: number,
  wt: number,
  r: Reader,
  end: number,
  name: string,
  depth: number,
  wrong: (expected: string) => never,
): void {
  if (delimited) {
    if (wt !== SGROUP) wrong("group");
    return checkMessage(schema, r, end, name, depth + 1, no);
  }
  if (wt !== LEN) wrong("message");
  const childEnd = r.delimited(end, name);
  checkMessage(schema, r, childEnd, name, depth + 1, undefined);
}

function checkScalar(kind: ScalarKind, r: Reader, end: number, name: string): void {
  switch (kind) {
    case "varint":
      r.varint(end, name);
      return;
    case "i32":
      return r.skip(4, end, name, "a 32-bit value");
    case "i64":
      return r.skip(8, end, name, "a 64-bit value");
    case "bytes":
      r.pos = r.delimited(end, name);
      return;
    case "string": {
      const stop = r.delimited(end, name);
      const start = r.pos;
      r.pos = stop;
      if (!isUtf8(r.buf.subarray(start, stop))) {
        throw new WireProblem(name, "is not valid UTF-8 (proto3 strings must be)");
      }
      return;
    }
  }
}

/** Skips an unknown field, checking its structure (lengths, groups closed by their own number). */
function skipUnknown(r: Reader, wt: number, no: number, end: number, name: string, depth: number): void {
  switch (wt) {
    case VARINT:
      r.varint(end, name);
      return;
    case I64:
      return r.skip(8, end, name, "a 64-bit value");
    case I32:
      return r.skip(4, end, name, "a 32-bit value");
    case LEN:
      r.pos = r.delimited(end, name);
      return;
    case SGROUP: {
      if (depth + 1 > WIRE_RECURSION_LIMIT) {
        throw new WireProblem(name, `nested deeper than ${WIRE_RECURSION_LIMIT} levels`);
      }
      for (;;) {
        if (r.pos >= end) throw new WireProblem(name, `the group of field number ${no} is not closed`);
        const t = r.tag(end, name);
        if (t.wt === EGROUP) {
          if (t.no === no) return;
          throw new WireProblem(name, `the group of field number ${no} is closed by an end-group tag for ${t.no}`);
        }
        skipUnknown(r, t.wt, t.no, end, name, depth + 1); // problems inside name the outermost unknown field
      }
    }
    default:
      throw new WireProblem(name, `${wireTypeName(wt)} cannot start a field`);
  }
}

/**
 * Protobuf wire format by hand: request bodies as lists of records (so a fuzz case can send a
 * known field with the wrong wire type, a truncated length, a stray end-group…), and a strict
 * reference reader that says whether another protobuf runtime would accept a body.
 *
 * The strict reader follows upb/C++ on what is malformed (truncated data, field number 0, wire
 * types 6 and 7, unbalanced groups, varints over 10 bytes, invalid UTF-8 in a proto3 string) and
 * issue 10 on the rest: a known field sent with a wire type other than its own is "mistyped", a
 * body the server must refuse without creating or changing anything.
 */
import { ScalarType } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import type { DescField, DescMessage } from "@bufbuild/protobuf";

export const WT = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/** One field on the wire: a tag and the bytes after it, exactly as they will be sent. */
export interface WireRecord {
  readonly no: number;
  readonly wt: number;
  readonly payload: Buffer;
}

export function varint(value: bigint | number): Buffer {
  let v = BigInt(value);
  if (v < 0n) v &= (1n << 64n) - 1n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

export function tag(no: number, wt: number): Buffer {
  return varint((BigInt(no) << 3n) | BigInt(wt));
}

export function lenRecord(no: number, data: Buffer | string): WireRecord {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return { no, wt: WT.LEN, payload: Buffer.concat([varint(bytes.length), bytes]) };
}

export function varintRecord(no: number, value: bigint | number): WireRecord {
  return { no, wt: WT.VARINT, payload: varint(value) };
}

export function encodeRecords(records: readonly WireRecord[]): Buffer {
  return Buffer.concat(records.flatMap((r) => [tag(r.no, r.wt), r.payload]));
}

/** A request value as records: strings, repeated strings, string maps and integers. */
export type RequestValue = Readonly<Record<string, string | bigint | readonly string[] | Readonly<Record<string, string>>>>;

/** The canonical records of `value` for `schema` (fields in number order, proto3 defaults omitted). */
export function toRecords(schema: DescMessage, value: RequestValue): WireRecord[] {
  const out: WireRecord[] = [];
  for (const field of [...schema.fields].sort((a, b) => a.number - b.number)) {
    const v = value[field.localName];
    if (v === undefined) continue;
    if (field.fieldKind === "map") {
      for (const [k, val] of Object.entries(v as Record<string, string>)) {
        out.push(lenRecord(field.number, encodeRecords([lenRecord(1, k), lenRecord(2, val)])));
      }
    } else if (field.fieldKind === "list") {
      for (const s of v as readonly string[]) out.push(lenRecord(field.number, s));
    } else if (typeof v === "bigint") {
      // A field with explicit presence (`optional`) is sent when set, even as 0.
      if (v !== 0n || field.presence === FeatureSet_FieldPresence.EXPLICIT) out.push(varintRecord(field.number, v));
    } else if (typeof v === "string") {
      if (v !== "") out.push(lenRecord(field.number, v));
    } else {
      throw new Error(`toRecords: unsupported value for ${field.name}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The strict reference reader.

export type Verdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: "malformed" | "mistyped"; readonly reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): bigint {
    let result = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new Bad("malformed", "truncated varint");
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << BigInt(7 * i);
      if ((b & 0x80) === 0) return result;
    }
    throw new Bad("malformed", "varint longer than 10 bytes");
  }
  take(n: number): Buffer {
    if (n > this.buf.length - this.pos) throw new Bad("malformed", "truncated field");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

class Bad extends Error {
  constructor(
    readonly kind: "malformed" | "mistyped",
    message: string,
  ) {
    super(message);
  }
}

function expectedWireType(field: DescField): number {
  switch (field.fieldKind) {
    case "map":
    case "message":
      return WT.LEN;
    case "list":
      return field.listKind === "scalar" && (field.scalar === ScalarType.STRING || field.scalar === ScalarType.BYTES)
        ? WT.LEN
        : field.listKind === "message"
          ? WT.LEN
          : -1; // packed or not: both accepted below
    case "enum":
      return WT.VARINT;
    case "scalar":
      switch (field.scalar) {
        case ScalarType.STRING:
        case ScalarType.BYTES:
          return WT.LEN;
        case ScalarType.DOUBLE:
        case ScalarType.FIXED64:
        case ScalarType.SFIXED64:
          return WT.I64;
        case ScalarType.FLOAT:
        case ScalarType.FIXED32:
        case ScalarType.SFIXED32:
          return WT.I32;
        default:
          return WT.VARINT;
      }
  }
}

function isStringField(field: DescField): boolean {
  return (
    (field.fieldKind === "scalar" && field.scalar === ScalarType.STRING) ||
    (field.fieldKind === "list" && field.listKind === "scalar" && field.scalar === ScalarType.STRING)
  );
}

/** Skips one value of wire type `wt` (groups to their matching end). */
function skip(r: Reader, no: number, wt: number, depth: number): void {
  switch (wt) {
    case WT.VARINT:
      r.varint();
      return;
    case WT.I64:
      r.take(8);
      return;
    case WT.I32:
      r.take(4);
      return;
    case WT.LEN:
      r.take(lengthOf(r));
      return;
    case WT.SGROUP: {
      if (depth > 100) throw new Bad("malformed", "groups nested over 100 deep");
      for (;;) {
        if (r.pos >= r.buf.length) throw new Bad("malformed", `group ${no} without its end`);
        const [n, w] = readTag(r);
        if (w === WT.EGROUP) {
          if (n !== no) throw new Bad("malformed", `end group ${n} closes group ${no}`);
          return;
        }
        skip(r, n, w, depth + 1);
      }
    }
    case WT.EGROUP:
      throw new Bad("malformed", `end group ${no} without a start`);
    default:
      throw new Bad("malformed", `wire type ${wt}`);
  }
}

function lengthOf(r: Reader): number {
  const n = r.varint();
  if (n > BigInt(r.buf.length - r.pos)) throw new Bad("malformed", "length beyond the body");
  return Number(n);
}

function readTag(r: Reader): [number, number] {
  const t = r.varint();
  if (t > 0xffffffffn) throw new Bad("malformed", "tag over 32 bits");
  const no = Number(t >> 3n);
  const wt = Number(t & 7n);
  if (no === 0) throw new Bad("malformed", "field number 0");
  if (wt === 6 || wt === 7) throw new Bad("malformed", `wire type ${wt}`);
  return [no, wt];
}

function readMessage(schema: DescMessage, r: Reader, end: number, depth: number): void {
  while (r.pos < end) {
    const [no, wt] = readTag(r);
    const field = schema.fields.find((f) => f.number === no);
    if (field === undefined) {
      skip(r, no, wt, depth);
      continue;
    }
    const want = expectedWireType(field);
    if (want === -1) {
      skip(r, no, wt, depth);
      continue;
    }
    if (wt !== want) throw new Bad("mistyped", `field ${field.name} (${no}) sent with wire type ${wt}, its own is ${want}`);
    if (wt !== WT.LEN) {
      skip(r, no, wt, depth);
      continue;
    }
    const n = lengthOf(r);
    const start = r.pos;
    if (isStringField(field)) {
      try {
        utf8.decode(r.take(n));
      } catch {
        throw new Bad("malformed", `field ${field.name} is not valid UTF-8`);
      }
    } else if (field.fieldKind === "map") {
      readMapEntry(field, r, start + n, depth + 1);
    } else if (field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message")) {
      if (depth > 100) throw new Bad("malformed", "messages nested over 100 deep");
      readMessage(field.message!, r, start + n, depth + 1);
    } else {
      r.take(n);
    }
    if (r.pos !== start + n) throw new Bad("malformed", `field ${field.name} overruns its length`);
  }
  if (r.pos !== end) throw new Bad("malformed", "message overruns its length");
}

function readMapEntry(field: DescField & { fieldKind: "map" }, r: Reader, end: number, depth: number): void {
  while (r.pos < end) {
    const [no, wt] = readTag(r);
    if (no === 1 || no === 2) {
      const stringy = no === 1 ? field.mapKey === ScalarType.STRING : field.mapKind === "scalar" && field.scalar === ScalarType.STRING;
      if (stringy) {
        if (wt !== WT.LEN) throw new Bad("mistyped", `map ${field.name} entry field ${no} sent with wire type ${wt}`);
        const n = lengthOf(r);
        try {
          utf8.decode(r.take(n));
        } catch {
          throw new Bad("malformed", `map ${field.name} entry field ${no} is not valid UTF-8`);
        }
        continue;
      }
    }
    skip(r, no, wt, depth);
  }
  if (r.pos !== end) throw new Bad("malformed", `map ${field.name} entry overruns its length`);
}

/** Would a strict runtime accept `body` as a `schema` message? */
export function strictVerdict(schema: DescMessage, body: Buffer): Verdict {
  try {
    readMessage(schema, new Reader(body), body.length, 0);
    return { ok: true };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, kind: err.kind, reason: err.message };
    throw err;
  }
}

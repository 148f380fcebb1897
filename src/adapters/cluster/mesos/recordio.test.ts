import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SchedulerError } from "../../../domain/errors.js";
import {
  DEFAULT_MAX_RECORD_BYTES,
  RecordIODecoder,
  RecordIOError,
  type RecordIODecoderOptions,
  type RecordIOViolation,
  encodeRecord,
  readRecords,
  splitAt,
  splitRandomly,
} from "./recordio.js";

const utf8 = new TextEncoder();
const text = (bytes: Uint8Array): string => new TextDecoder("utf-8", { fatal: true }).decode(bytes);
const bytesOf = (s: string): Uint8Array => utf8.encode(s);
const concat = (parts: readonly Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));
const stream = (...records: string[]): Uint8Array =>
  concat(records.map((r) => encodeRecord(bytesOf(r))));

/** Every record the chunks decode to, copied (a record may be a view of a chunk). */
function decodeAll(chunks: readonly Uint8Array[], options?: RecordIODecoderOptions): Uint8Array[] {
  const decoder = new RecordIODecoder(options);
  const records: Uint8Array[] = [];
  for (const chunk of chunks) decoder.push(chunk, (r) => records.push(Uint8Array.from(r)));
  decoder.end();
  return records;
}

/** The error a push (or the end) of `chunks` throws, with the records delivered before it. */
function failure(chunks: readonly Uint8Array[], options?: RecordIODecoderOptions) {
  const decoder = new RecordIODecoder(options);
  const records: string[] = [];
  try {
    for (const chunk of chunks) decoder.push(chunk, (r) => records.push(text(r)));
    decoder.end();
  } catch (err) {
    return { err: err as RecordIOError, records, decoder };
  }
  throw new Error("the decoder accepted the stream");
}

async function collect(source: AsyncIterable<Uint8Array | string>): Promise<string[]> {
  const out: string[] = [];
  for await (const record of readRecords(source)) out.push(text(record));
  return out;
}

// docs/scheduler-http-api.md "RecordIO response format" (and docs/recordio.md), as printed.
const DOCS_SUBSCRIBED =
  '{"type": "SUBSCRIBED","subscribed": {"framework_id": {"value":"12220-3440-12532-2345"},' +
  '"heartbeat_interval_seconds":15.0}';
const DOCS_HEARTBEAT = '{"type":"HEARTBEAT"}';
const DOCS_STREAM = `128\n${DOCS_SUBSCRIBED}20\n${DOCS_HEARTBEAT}675\n`;

describe("the Mesos docs example", () => {
  it("decodes with the payloads' true byte counts (121 and 20)", () => {
    const records = decodeAll([stream(DOCS_SUBSCRIBED, DOCS_HEARTBEAT)]).map(text);
    expect(records).toEqual([DOCS_SUBSCRIBED, DOCS_HEARTBEAT]);
    expect(bytesOf(DOCS_SUBSCRIBED).length).toBe(121);
    expect(JSON.parse(records[1]!)).toEqual({ type: "HEARTBEAT" });
  });

  it("is misframed as printed: the 128 prefix swallows 7 bytes of the next record", () => {
    const { err, records } = failure([bytesOf(DOCS_STREAM)]);
    expect(records).toEqual([`${DOCS_SUBSCRIBED}20\n{"ty`]);
    expect(err).toMatchObject({ violation: "not_a_digit", offset: 4 + 128 });
    expect(err.message).toContain("0x70 ('p')");
  });
});

describe("RecordIODecoder", () => {
  // A 0-byte record, multi-byte UTF-8 (2, 3 and 4 bytes) and a length of two digits.
  const records = ["", "tâche ✓ 🐄", "x", "", '{"type":"HEARTBEAT"}', "é".repeat(40)];
  const encoded = stream(...records);

  it("decodes records split at every byte position", () => {
    for (let cut = 0; cut <= encoded.length; cut++) {
      expect(decodeAll(splitAt(encoded, [cut])).map(text), `cut at ${cut}`).toEqual(records);
    }
  });

  it("decodes one byte per chunk", () => {
    const chunks = Array.from(encoded, (_, i) => encoded.subarray(i, i + 1));
    expect(decodeAll(chunks).map(text)).toEqual(records);
  });

  it("decodes many records joined in one chunk", () => {
    const many = Array.from({ length: 1000 }, (_, i) => `{"n":${i}}`);
    expect(decodeAll([stream(...many)]).map(text)).toEqual(many);
  });

  it("delivers a 0-byte record as soon as its line feed arrives (the grammar allows it)", () => {
    const decoder = new RecordIODecoder();
    const got: number[] = [];
    decoder.push(bytesOf("0\n00\n3"), (r) => got.push(r.length));
    expect(got).toEqual([0, 0]);
    decoder.push(bytesOf("\nabc"), (r) => got.push(r.length));
    expect(got).toEqual([0, 0, 3]);
  });

  it("reassembles a UTF-8 character split across chunks", () => {
    const cow = bytesOf("🐄");
    const framed = encodeRecord(cow);
    for (let cut = 2; cut < framed.length; cut++) {
      expect(decodeAll(splitAt(framed, [cut])).map(text)).toEqual(["🐄"]);
    }
  });

  it("hands out a record within one chunk as a view, and copies a split record once", () => {
    const chunk = stream("hello", "world");
    const decoder = new RecordIODecoder();
    const seen: Uint8Array[] = [];
    decoder.push(chunk, (r) => seen.push(r));
    expect(seen.map((r) => r.buffer === chunk.buffer)).toEqual([true, true]);
    const [a, b] = splitAt(stream("hello"), [4]);
    decoder.push(a!, (r) => seen.push(r));
    decoder.push(b!, (r) => seen.push(r));
    expect(text(seen[2]!)).toBe("hello");
    expect(seen[2]!.buffer === a!.buffer).toBe(false);
  });

  it.each<[string, string, RecordIOViolation, number]>([
    ["a letter", "abc\n", "not_a_digit", 0],
    ["a sign", "+5\nhello", "not_a_digit", 0],
    ["a minus", "-5\nhello", "not_a_digit", 0],
    ["a leading space", " 5\nhello", "not_a_digit", 0],
    ["a carriage return", "5\r\nhello", "not_a_digit", 1],
    ["a decimal point", "5.0\nhello", "not_a_digit", 1],
    ["no digits", "\nhello", "empty_length", 0],
    ["garbage after a record", "5\nhellox", "not_a_digit", 7],
    ["eleven zeros", "00000000000\n", "too_many_digits", 10],
    ["leading zeros past ten digits", "000000000005\nhello", "too_many_digits", 10],
  ])("fails on %s in the length prefix", (_name, input, violation, offset) => {
    const { err } = failure([bytesOf(input)]);
    expect(err).toBeInstanceOf(RecordIOError);
    expect(err).toBeInstanceOf(SchedulerError);
    expect(err).toMatchObject({ code: "unavailable", violation, offset });
    expect(err.message).toContain(`at byte ${offset}`);
  });

  it("counts offsets across chunks", () => {
    const { err } = failure([bytesOf("5\nhel"), bytesOf("lo1"), bytesOf("2x")]);
    expect(err).toMatchObject({ violation: "not_a_digit", offset: 9 });
  });

  it("delivers the records before a bad byte, then fails", () => {
    const { err, records } = failure([bytesOf("2\nok3\nyes?")]);
    expect(records).toEqual(["ok", "yes"]);
    expect(err.violation).toBe("not_a_digit");
  });

  it("fails on a record over the maximum before buffering any of it", () => {
    const small = { maxRecordBytes: 16 };
    expect(decodeAll([stream("sixteen bytes ok")], small).map(text)).toEqual(["sixteen bytes ok"]);
    const tooBig = failure([bytesOf("17\n")], small).err;
    expect(tooBig).toMatchObject({ violation: "too_large", offset: 1 });
    const over = String(DEFAULT_MAX_RECORD_BYTES + 1);
    const { err } = failure([bytesOf(over)]);
    expect(err).toMatchObject({ violation: "too_large", offset: over.length - 1 });
    expect(err.message).toContain(`${DEFAULT_MAX_RECORD_BYTES}-byte maximum`);
  });

  it("fails on digits without end as soon as they pass the maximum", () => {
    const { err } = failure([bytesOf("9".repeat(50))]);
    expect(err).toMatchObject({ violation: "too_large", offset: 7 });
  });

  it("refuses input after an error, naming the first error", () => {
    const { err, decoder } = failure([bytesOf("x")]);
    let refused: unknown;
    try {
      decoder.push(bytesOf("5\nhello"), () => expect.unreachable());
    } catch (e) {
      refused = e;
    }
    expect(refused).toMatchObject({ violation: "closed", offset: 0, cause: err });
  });

  it("refuses input after its end, and after a callback that threw", () => {
    const ended = new RecordIODecoder();
    ended.end();
    const refused = /input after the stream failed or ended/;
    expect(() => ended.push(bytesOf("0\n"), () => {})).toThrow(refused);
    const decoder = new RecordIODecoder();
    const boom = new Error("handler failed");
    expect(() =>
      decoder.push(bytesOf("1\na1\nb"), () => {
        throw boom;
      }),
    ).toThrow(boom);
    const closed = expect.objectContaining({ violation: "closed", cause: boom });
    expect(() => decoder.push(bytesOf("1\nc"), () => {})).toThrow(closed);
  });

  it.each([
    ["inside a length prefix", "5\nhello12", "inside a length prefix"],
    ["inside a payload", "5\nhello5\nwor", "inside a 5-byte record, 2 bytes short"],
  ])("fails when the stream ends %s", (_name, input, where) => {
    const { err, records } = failure([bytesOf(input)]);
    expect(records).toEqual(["hello"]);
    expect(err).toMatchObject({ violation: "truncated", offset: bytesOf(input).length });
    expect(err.message).toContain(where);
  });

  it("rejects a maximum that is not a whole number of bytes", () => {
    expect(() => new RecordIODecoder({ maxRecordBytes: -1 })).toThrow(SchedulerError);
    expect(() => new RecordIODecoder({ maxRecordBytes: 1.5 })).toThrow(/maxRecordBytes/);
  });
});

describe("readRecords", () => {
  it("reads records from a Node Readable of arbitrary chunks", async () => {
    const records = ["one", "tâche 🐄", "", "three"];
    const chunks = splitRandomly(stream(...records), seeded(7), 3);
    expect(await collect(Readable.from(chunks))).toEqual(records);
  });

  it("reads records from a web ReadableStream", async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of splitAt(stream("a", "bc"), [1, 4])) controller.enqueue(chunk);
        controller.close();
      },
    });
    expect(await collect(body)).toEqual(["a", "bc"]);
  });

  it("yields the records before a bad byte, then throws", async () => {
    const out: string[] = [];
    const read = async () => {
      for await (const r of readRecords(Readable.from([bytesOf("2\nok?")]))) out.push(text(r));
    };
    await expect(read()).rejects.toMatchObject({ violation: "not_a_digit", offset: 4 });
    expect(out).toEqual(["ok"]);
  });

  it("throws when the stream ends inside a record", async () => {
    const read = collect(Readable.from([bytesOf("5\nhel")]));
    await expect(read).rejects.toMatchObject({ violation: "truncated" });
  });

  it("refuses a body read as text", async () => {
    const body = Readable.from([Buffer.from(stream("hello"))]).setEncoding("utf8");
    await expect(collect(body)).rejects.toMatchObject({ violation: "text_chunk", offset: 0 });
  });

  it("closes the source when the reader stops early", async () => {
    const body = Readable.from([stream("a"), stream("b")]);
    for await (const record of readRecords(body)) {
      expect(text(record)).toBe("a");
      break;
    }
    expect(body.destroyed).toBe(true);
  });
});

describe("encodeRecord", () => {
  it("prefixes the byte count, not the character count", () => {
    expect(text(encodeRecord(bytesOf("hello")))).toBe("5\nhello");
    expect(text(encodeRecord(bytesOf("é🐄")))).toBe("6\né🐄");
    expect(text(encodeRecord(new Uint8Array(0)))).toBe("0\n");
  });
});

describe("splitAt and splitRandomly", () => {
  const bytes = bytesOf("0123456789");

  it("cut a stream into chunks that concatenate back to it", () => {
    expect(splitAt(bytes, [0, 3, 3, 10]).map(text)).toEqual(["", "012", "", "3456789", ""]);
    const chunks = splitRandomly(bytes, seeded(1), 4);
    expect(text(concat(chunks))).toBe("0123456789");
    expect(chunks.every((c) => c.length >= 1 && c.length <= 4)).toBe(true);
  });

  it("reject cuts out of order or out of range, and a chunk size under 1", () => {
    expect(() => splitAt(bytes, [5, 4])).toThrow(/cuts/);
    expect(() => splitAt(bytes, [11])).toThrow(/cuts/);
    expect(() => splitRandomly(bytes, seeded(1), 0)).toThrow(/maxChunkBytes/);
  });
});

describe("any split of any records", () => {
  const splitStream = fc
    .record({
      records: fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 20 }),
      cuts: fc.array(fc.nat(), { maxLength: 30 }),
    })
    .map(({ records, cuts }) => {
      const encoded = concat(records.map(encodeRecord));
      const offsets = cuts.map((n) => n % (encoded.length + 1)).sort((a, b) => a - b);
      return { records, chunks: splitAt(encoded, offsets) };
    });

  it("decodes to the same records", () => {
    fc.assert(
      fc.property(splitStream, ({ records, chunks }) => {
        expect(decodeAll(chunks)).toEqual(records);
      }),
    );
  });

  it("decodes text records to the same text, through readRecords", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: "binary", maxLength: 40 }), { maxLength: 10 }),
        fc.integer({ min: 1, max: 16 }),
        fc.integer(),
        async (records, maxChunkBytes, seed) => {
          const chunks = splitRandomly(stream(...records), seeded(seed), maxChunkBytes);
          expect(await collect(Readable.from(chunks))).toEqual(records);
        },
      ),
    );
  });
});

/** A small seeded generator (mulberry32), so a chaos split is repeatable. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

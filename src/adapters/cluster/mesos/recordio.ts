/**
 * RecordIO, the framing of the Mesos v1 event stream (mesos-v1-api.md §3): each record is its
 * payload size in bytes as ASCII decimal digits, a line feed, then the payload; nothing between
 * records. The decoder works on raw bytes because HTTP chunk boundaries mean nothing: a chunk may
 * end inside a length prefix or inside a multi-byte UTF-8 character, or hold many records.
 */
import { SchedulerError } from "../../../domain/errors.js";

/** Largest record the decoder accepts unless told otherwise: 64 MiB (§3 "absurdly large"). */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Most digits a length prefix may have; more is hostile input even when they are zeros. */
export const MAX_LENGTH_DIGITS = 10;

const LF = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const EMPTY = new Uint8Array(0);

/** Receives each decoded record, in stream order. */
export type OnRecord = (record: Uint8Array) => void;

export interface RecordIODecoderOptions {
  /**
   * Largest payload accepted, in bytes; a longer length prefix fails the stream before any of
   * its payload is buffered.
   * @default DEFAULT_MAX_RECORD_BYTES (64 MiB)
   */
  readonly maxRecordBytes?: number;
}

/**
 * What was wrong with the stream:
 * - `not_a_digit`: a length prefix byte that is neither 0-9 nor the line feed ending it;
 * - `empty_length`: a line feed with no digit before it (the grammar is `1*DIGIT LF`);
 * - `too_many_digits`: a length prefix longer than MAX_LENGTH_DIGITS;
 * - `too_large`: a length over `maxRecordBytes`;
 * - `truncated`: the stream ended inside a length prefix or a payload;
 * - `text_chunk`: a chunk arrived as a string (the body stream was given a text encoding);
 * - `closed`: input after an error or after the end; the first error is the cause.
 */
export type RecordIOViolation =
  | "not_a_digit"
  | "empty_length"
  | "too_many_digits"
  | "too_large"
  | "truncated"
  | "text_chunk"
  | "closed";

/**
 * A RecordIO protocol error. The connection it came from must be dropped (§3: drop and
 * resubscribe), hence `unavailable`. `offset` is the stream offset, in bytes from the first byte
 * of the stream, of the byte at which the problem was found.
 */
export class RecordIOError extends SchedulerError {
  readonly violation: RecordIOViolation;
  readonly offset: number;

  constructor(violation: RecordIOViolation, offset: number, message: string, cause?: unknown) {
    const text = `RecordIO stream at byte ${offset}: ${message}`;
    super("unavailable", text, cause === undefined ? {} : { cause });
    this.violation = violation;
    this.offset = offset;
  }
}

/**
 * A streaming RecordIO decoder: `push` the stream's chunks in order, records come out of
 * `onRecord` as soon as their last byte arrives; `end` when the stream ends. After any error it
 * refuses further input, since the framing is lost.
 *
 * A record lying within one chunk is handed out as a view of that chunk (no copy); a record
 * spanning chunks is copied once. So a caller must not reuse a chunk's memory after pushing it.
 */
export class RecordIODecoder {
  private readonly maxRecordBytes: number;
  /** Stream offset of the first byte of the chunk being read. */
  private chunkOffset = 0;
  private readingPayload = false;
  private lengthDigits = 0;
  private length = 0;
  /** Pieces of a payload that spans chunks, and their total size. */
  private readonly parts: Uint8Array[] = [];
  private partsBytes = 0;
  private closedBy: unknown = undefined;
  private closed = false;

  constructor(options: RecordIODecoderOptions = {}) {
    const max = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) {
      const reason = `must be a whole number of bytes, got ${max}`;
      throw SchedulerError.invalid([{ field: "maxRecordBytes", reason }]);
    }
    this.maxRecordBytes = max;
  }

  /**
   * Reads the next chunk of the stream, calling `onRecord` for each record it completes. Throws a
   * RecordIOError on hostile input, after the records that came before the bad byte. If
   * `onRecord` throws, the rest of the chunk is unread, so the decoder closes too.
   */
  push(chunk: Uint8Array, onRecord: OnRecord): void {
    if (this.closed) {
      const at = this.closedBy instanceof RecordIOError ? this.closedBy.offset : this.chunkOffset;
      const what = "input after the stream failed or ended";
      throw new RecordIOError("closed", at, what, this.closedBy);
    }
    try {
      let at = 0;
      while (at < chunk.length) {
        at = this.readingPayload
          ? this.readPayload(chunk, at, onRecord)
          : this.readLength(chunk, at, onRecord);
      }
    } catch (err) {
      this.closed = true;
      this.closedBy = err;
      throw err;
    }
    this.chunkOffset += chunk.length;
  }

  /** Marks the end of the stream; throws `truncated` when it ends inside a record. */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.readingPayload || this.lengthDigits > 0) {
      const where = this.readingPayload
        ? `inside a ${this.length}-byte record, ${this.length - this.partsBytes} bytes short`
        : "inside a length prefix";
      this.closedBy = new RecordIOError("truncated", this.chunkOffset, `the stream ended ${where}`);
      throw this.closedBy;
    }
  }

  /** Reads length-prefix bytes from `at`; returns where the payload (or next prefix) starts. */
  private readLength(chunk: Uint8Array, at: number, onRecord: OnRecord): number {
    for (let i = at; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === LF) return this.startPayload(i, onRecord);
      if (byte < DIGIT_0 || byte > DIGIT_9) {
        const what = `length prefix byte ${describeByte(byte)} is not a decimal digit`;
        throw this.violation("not_a_digit", i, what);
      }
      if (++this.lengthDigits > MAX_LENGTH_DIGITS) {
        const what = `length prefix longer than ${MAX_LENGTH_DIGITS} digits`;
        throw this.violation("too_many_digits", i, what);
      }
      this.length = this.length * 10 + (byte - DIGIT_0);
      // Checked per digit: a run of digits with no line feed fails as soon as it is too big.
      if (this.length > this.maxRecordBytes) {
        const what = `record length over the ${this.maxRecordBytes}-byte maximum`;
        throw this.violation("too_large", i, what);
      }
    }
    return chunk.length;
  }

  /**
   * The line feed at `lf` ends the prefix. Mesos never sends a 0-byte record, but the grammar
   * (`1*DIGIT`) and its own decoder (stout recordio.hpp) accept one, so we do too.
   */
  private startPayload(lf: number, onRecord: OnRecord): number {
    if (this.lengthDigits === 0) {
      throw this.violation("empty_length", lf, "a line feed with no length before it");
    }
    this.lengthDigits = 0;
    if (this.length === 0) {
      onRecord(EMPTY);
    } else {
      this.readingPayload = true;
    }
    return lf + 1;
  }

  /** Reads payload bytes from `at`; returns where the next length prefix starts. */
  private readPayload(chunk: Uint8Array, at: number, onRecord: OnRecord): number {
    const missing = this.length - this.partsBytes;
    const available = chunk.length - at;
    if (available < missing) {
      this.parts.push(chunk.subarray(at));
      this.partsBytes += available;
      return chunk.length;
    }
    const end = at + missing;
    const tail = chunk.subarray(at, end);
    const record = this.parts.length === 0 ? tail : this.joinParts(tail);
    this.readingPayload = false;
    this.length = 0;
    onRecord(record);
    return end;
  }

  /** The one copy of a record that spans chunks. */
  private joinParts(last: Uint8Array): Uint8Array {
    const record = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      record.set(part, at);
      at += part.length;
    }
    record.set(last, at);
    this.parts.length = 0;
    this.partsBytes = 0;
    return record;
  }

  private violation(kind: RecordIOViolation, indexInChunk: number, what: string): RecordIOError {
    return new RecordIOError(kind, this.chunkOffset + indexInChunk, what);
  }
}

/**
 * The records of a byte stream — a Node Readable (without a text encoding set), a web
 * ReadableStream, or any async iterable of chunks — in order. It ends when the stream ends
 * between records (which the Mesos driver treats as a disconnection, §3) and throws a
 * RecordIOError on hostile input or a stream that ends inside a record. Records completed before
 * a bad byte are yielded first. Breaking out of the loop returns (closes) the source.
 */
export async function* readRecords(
  source: AsyncIterable<Uint8Array | string>,
  options: RecordIODecoderOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const decoder = new RecordIODecoder(options);
  const ready: Uint8Array[] = [];
  const collect = (record: Uint8Array): void => {
    ready.push(record);
  };
  let offset = 0;
  for await (const chunk of source) {
    if (typeof chunk === "string") {
      const what = "a chunk arrived as text; read the body as bytes, with no encoding set";
      throw new RecordIOError("text_chunk", offset, what);
    }
    let failure: unknown = undefined;
    try {
      decoder.push(chunk, collect);
    } catch (err) {
      failure = err;
    }
    offset += chunk.length;
    for (let i = 0; i < ready.length; i++) yield ready[i]!;
    ready.length = 0;
    if (failure !== undefined) throw failure;
  }
  decoder.end();
}

/** One record framed for the stream: its length in decimal, a line feed, then its bytes. */
export function encodeRecord(record: Uint8Array): Uint8Array {
  const prefix = `${record.length}\n`;
  const framed = new Uint8Array(prefix.length + record.length);
  for (let i = 0; i < prefix.length; i++) framed[i] = prefix.charCodeAt(i);
  framed.set(record, prefix.length);
  return framed;
}

/**
 * `bytes` cut at the given offsets (ascending, each within 0..bytes.length) into views of it;
 * an offset repeated, or at either end, gives an empty chunk.
 */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    if (!Number.isInteger(cut) || cut < start || cut > bytes.length) {
      const reason = `${cut} is not ascending within 0..${bytes.length}`;
      throw SchedulerError.invalid([{ field: "cuts", reason }]);
    }
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/**
 * `bytes` cut at random into chunks of 1..maxChunkBytes bytes, for the split-records chaos knob:
 * `random` returns numbers in [0, 1) (a seeded generator makes a run repeatable). Concatenating
 * several encoded records first gives chunks that join records as well as split them.
 */
export function splitRandomly(
  bytes: Uint8Array,
  random: () => number,
  maxChunkBytes = 64,
): Uint8Array[] {
  if (!Number.isSafeInteger(maxChunkBytes) || maxChunkBytes < 1) {
    const reason = `must be at least 1, got ${maxChunkBytes}`;
    throw SchedulerError.invalid([{ field: "maxChunkBytes", reason }]);
  }
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; ) {
    const end = Math.min(bytes.length, start + 1 + Math.floor(random() * maxChunkBytes));
    chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks;
}

function describeByte(byte: number): string {
  const hex = `0x${byte.toString(16).padStart(2, "0")}`;
  return byte >= 0x20 && byte < 0x7f ? `${hex} ('${String.fromCharCode(byte)}')` : hex;
}

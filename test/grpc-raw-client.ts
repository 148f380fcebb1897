/**
 * Test helpers for hand-made gRPC bodies: a protobuf wire writer, grpc-js calls with a
 * pass-through serializer (raw Buffers in and out), and a bare node:http2 call that returns the
 * header blocks exactly as received, to measure the trailers as they were on the wire.
 */
import * as http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";

/** Protobuf wire pieces as byte arrays; concatenate with `body(...)`. */
export const pb = {
  varint(value: number | bigint): number[] {
    let v = BigInt(value);
    const out: number[] = [];
    do {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v === 0n ? b : b | 0x80);
    } while (v !== 0n);
    return out;
  },
  tag(no: number, wt: number): number[] {
    return pb.varint(BigInt(no) * 8n + BigInt(wt));
  },
  /** A length-delimited field: string (UTF-8), raw bytes, or an encoded sub-message. */
  len(no: number, value: string | Uint8Array | number[]): number[] {
    const bytes = typeof value === "string" ? [...Buffer.from(value, "utf8")] : [...value];
    return [...pb.tag(no, 2), ...pb.varint(bytes.length), ...bytes];
  },
};

export const body = (...parts: number[][]): Buffer => Buffer.from(parts.flat());

const identity = (b: Buffer): Buffer => b;

export interface RawResult {
  readonly status: grpc.StatusObject;
  readonly messages: Buffer[];
}

/** A unary call of `path` with `request` as the exact message bytes. */
export function rawUnary(client: grpc.Client, path: string, request: Buffer, metadata = new grpc.Metadata()): Promise<RawResult> {
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    const call = client.makeUnaryRequest(path, identity, identity, request, metadata, { deadline: Date.now() + 20_000 }, (_err, value) => {
      if (value !== undefined) messages.push(value);
    });
    call.on("status", (status: grpc.StatusObject) => setImmediate(() => resolve({ status, messages })));
  });
}

/** A server-streaming call of `path` with `request` as the exact message bytes. */
export function rawStream(client: grpc.Client, path: string, request: Buffer, metadata = new grpc.Metadata()): Promise<RawResult> {
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    const call = client.makeServerStreamRequest(path, identity, identity, request, metadata, { deadline: Date.now() + 20_000 });
    call.on("data", (m: Buffer) => messages.push(m));
    call.on("error", () => {});
    call.on("status", (status: grpc.StatusObject) => resolve({ status, messages }));
  });
}

export interface WireReply {
  /** The header block that carried grpc-status (the trailers, or the headers of a trailers-only reply). */
  readonly statusBlock: http2.IncomingHttpHeaders;
  /** Its size as HPACK counts it: name + value bytes + 32 per field (RFC 7541 §4.1). */
  readonly statusBlockBytes: number;
}

/** One gRPC call over bare HTTP/2, returning the block with grpc-status exactly as received. */
export function http2Call(
  address: string,
  path: string,
  message: Buffer,
  headers: Record<string, string> = {},
): Promise<WireReply> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${address}`);
    session.on("error", reject);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc+proto",
      te: "trailers",
      ...headers,
    });
    let block: http2.IncomingHttpHeaders | undefined;
    const done = (h: http2.IncomingHttpHeaders): void => {
      if (h["grpc-status"] !== undefined) block = h;
    };
    stream.on("response", done);
    stream.on("trailers", done);
    stream.on("data", () => {});
    stream.on("error", reject);
    stream.on("close", () => {
      session.close();
      if (block === undefined) return reject(new Error("no grpc-status received"));
      resolve({ statusBlock: block, statusBlockBytes: headerBlockBytes(block) });
    });
    stream.end(frame);
  });
}

/** HPACK size of a received header block; Node's own bookkeeping keys are left out. */
export function headerBlockBytes(block: http2.IncomingHttpHeaders): number {
  let total = 0;
  for (const [name, value] of Object.entries(block)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) total += name.length + Buffer.byteLength(String(v)) + 32;
  }
  return total;
}

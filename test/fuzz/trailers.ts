/**
 * The encoded size of an error's trailers, rebuilt from what a grpc-js client received: what a
 * C-core client (Python, Ruby, C++, C#) or grpc-java weighs against its metadata limit (8 KiB by
 * default). grpc-js has no client-side limit, so the fuzz measures instead of relying on one.
 *
 * - `grpc-status` and its decimal value;
 * - `grpc-message` as grpc-js puts it on the wire: `encodeURI(details)` (server-interceptors.js);
 * - every other trailer, key + value: strings as sent (ASCII), `-bin` values base64 encoded;
 * - plus 32 bytes per entry: the HPACK entry size (RFC 7541 §4.1), which is what C-core counts.
 */
import type * as grpc from "@grpc/grpc-js";

/** Issue 10: the trailers of every error stay under this many encoded bytes. */
export const TRAILER_LIMIT_BYTES = 4096;

const HPACK_ENTRY = 32;

/** `details` as grpc-js sends it in `grpc-message`. */
export function wireGrpcMessage(details: string): string {
  try {
    return encodeURI(details);
  } catch {
    // A lone surrogate (grpc-js would throw while sending): count every UTF-16 unit as %XX%XX%XX.
    return "%XX%XX%XX".repeat(details.length);
  }
}

export function encodedTrailerBytes(code: number, details: string, metadata: grpc.Metadata | undefined): number {
  let bytes = HPACK_ENTRY + "grpc-status".length + String(code).length;
  if (details !== "") bytes += HPACK_ENTRY + "grpc-message".length + wireGrpcMessage(details).length;
  for (const [key, value] of Object.entries(metadata?.getMap() ?? {})) {
    const values = metadata!.get(key);
    for (const v of values.length > 0 ? values : [value]) {
      bytes += HPACK_ENTRY + key.length + (typeof v === "string" ? Buffer.byteLength(v) : v.toString("base64").length);
    }
  }
  return bytes;
}

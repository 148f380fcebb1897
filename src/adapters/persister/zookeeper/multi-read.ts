/**
 * ZooKeeper's multiRead (opcode 22, server ≥ 3.6), which node-zookeeper-client 1.1.3 lacks:
 * many getData / getChildren in ONE request and one reply, instead of a request each.
 *
 * Wire format (zookeeper.jute; MultiOperationRecord / MultiResponse):
 *   request  RequestHeader{xid, type=22}
 *            then per op: MultiHeader{type=4 getData | 8 getChildren, done=false, err=-1}
 *                         GetDataRequest / GetChildrenRequest {path: ustring, watch: boolean}
 *            then MultiHeader{type=-1, done=true, err=-1}
 *   reply    ReplyHeader{xid, zxid, err}
 *            then per op: MultiHeader{type, done=false, err}
 *                         type 4:  GetDataResponse{data: buffer, stat: Stat}
 *                         type 8:  GetChildrenResponse{children: vector<ustring>}
 *                         type -1: ErrorResponse{err: int}   (e.g. NO_NODE for that op alone)
 *            then MultiHeader{type=-1, done=true, err=-1}
 * The ops are read one after the other on the server, not as a snapshot (unlike a write multi).
 *
 * The request goes through the library's own queue (so it gets an xid and its place in the
 * pending queue, and fails with CONNECTION_LOSS like any call when the connection drops); its
 * reply is taken off the socket by the data handler in guard.ts (`takeMultiReadReply`), before
 * the library's parser, which would drop the connection on an opcode it does not know.
 * No chroot support (the persister never gives the library one; it prefixes paths itself).
 */
import zookeeper from "node-zookeeper-client";
import type { Client } from "node-zookeeper-client";

export const OP_MULTI_READ = 22;
export const ZK_NO_NODE = -101;
export const ZK_UNIMPLEMENTED = -6;
const OP_GET_DATA = 4;
const OP_GET_CHILDREN = 8;
const OP_ERROR = -1;
/** Stat: 4 longs, 3 ints, 1 long, 2 ints, 1 long. */
const STAT_BYTES = 68;
/** Offset of Stat.version (after czxid, mzxid, ctime, mtime). */
const STAT_VERSION_AT = 32;
/** ConnectionManager's CONNECTING state: replies then are connect responses, without an xid. */
const STATE_CONNECTING = 1;

export type ReadOp = { readonly kind: "data"; readonly path: string } | { readonly kind: "children"; readonly path: string };

/** One op's answer: its data and version, its children, or its own error code (NO_NODE …). */
export type ReadResult =
  | { readonly data: Uint8Array; readonly version: number }
  | { readonly children: string[] }
  | { readonly err: number };

type Callback = (err: unknown, results?: ReadResult[]) => void;

/** Shaped like the library's jute.Request: `header.xid` is assigned when it is sent. */
export class MultiReadRequest {
  readonly header = { xid: 0, type: OP_MULTI_READ };
  readonly payload = null;

  constructor(readonly ops: readonly ReadOp[]) {}

  toBuffer(): Buffer {
    const paths = this.ops.map((op) => Buffer.from(op.path, "utf8"));
    // frame length + RequestHeader + per op (MultiHeader + path + watch) + the closing MultiHeader
    const size = 8 + paths.reduce((n, p) => n + 9 + 4 + p.length + 1, 0) + 9;
    const buf = Buffer.allocUnsafe(4 + size);
    let o = buf.writeInt32BE(size, 0);
    o = buf.writeInt32BE(this.header.xid, o);
    o = buf.writeInt32BE(OP_MULTI_READ, o);
    this.ops.forEach((op, i) => {
      o = multiHeader(buf, o, op.kind === "data" ? OP_GET_DATA : OP_GET_CHILDREN, false);
      const path = paths[i]!;
      o = buf.writeInt32BE(path.length, o);
      o += path.copy(buf, o);
      o = buf.writeUInt8(0, o); // watch = false
    });
    o = multiHeader(buf, o, -1, true);
    if (o !== buf.length) throw new Error(`multiRead request: wrote ${o} of ${buf.length} bytes`);
    return buf;
  }
}

function multiHeader(buf: Buffer, o: number, type: number, done: boolean): number {
  o = buf.writeInt32BE(type, o);
  o = buf.writeUInt8(done ? 1 : 0, o);
  return buf.writeInt32BE(-1, o);
}

/** Queues one multiRead on `client`; `callback` gets the results in op order, or the call's error. */
export function sendMultiRead(client: Client, ops: readonly ReadOp[], callback: Callback): void {
  const manager = (client as unknown as { connectionManager?: { queue(request: unknown, cb: Callback): void } })
    .connectionManager;
  if (!manager) throw new Error("node-zookeeper-client layout changed: no connectionManager");
  manager.queue(new MultiReadRequest(ops), callback);
}

/** What guard.ts needs of the library's ConnectionManager. */
export interface ReplyTaker {
  state?: number;
  zxid?: Buffer;
  pendingQueue?: { request: unknown; callback?: Callback }[];
}

/**
 * If `buf` starts with the whole reply to a multiRead at the head of the pending queue, takes
 * it: settles that request and returns the bytes after the reply (null when none). Returns
 * false when the reply is anything else (or incomplete): the library's parser handles it.
 */
export function takeMultiReadReply(cm: ReplyTaker, buf: Buffer): Buffer | null | false {
  if (buf.length < 8 || cm.state === STATE_CONNECTING) return false;
  const size = buf.readInt32BE(0);
  if (size < 16 || buf.length < size + 4) return false;
  const head = cm.pendingQueue?.[0];
  const request = head?.request;
  if (!(request instanceof MultiReadRequest) || buf.readInt32BE(4) !== request.header.xid) return false;
  cm.pendingQueue!.shift();
  const reply = buf.subarray(4, 4 + size);
  // As the library does for every reply: remember the last zxid seen (sent on reconnect).
  cm.zxid = Buffer.from(reply.subarray(4, 12));
  const err = reply.readInt32BE(12);
  let results: ReadResult[] | undefined;
  let failure: unknown;
  if (err !== 0) {
    failure = zkException(err);
  } else {
    try {
      results = decodeResults(reply, 16, request.ops.length);
    } catch (e) {
      failure = e;
    }
  }
  head!.callback?.(failure ?? null, results);
  return buf.length > size + 4 ? buf.subarray(size + 4) : null;
}

/** The per-op results of a multiRead reply, from `o` (after the ReplyHeader). */
export function decodeResults(reply: Buffer, o: number, expected: number): ReadResult[] {
  const out: ReadResult[] = [];
  const need = (n: number): void => {
    if (n < 0 || o + n > reply.length) throw new Error(`multiRead reply truncated at byte ${o} of ${reply.length}`);
  };
  for (;;) {
    need(9);
    const type = reply.readInt32BE(o);
    const done = reply[o + 4] !== 0;
    o += 9;
    if (done) break;
    if (type === OP_GET_DATA) {
      need(4);
      const len = reply.readInt32BE(o);
      o += 4;
      const n = Math.max(len, 0); // -1: a null buffer
      need(n + STAT_BYTES);
      const data = new Uint8Array(reply.subarray(o, o + n)); // a copy: the socket's buffer is not ours
      o += n;
      out.push({ data, version: reply.readInt32BE(o + STAT_VERSION_AT) });
      o += STAT_BYTES;
    } else if (type === OP_GET_CHILDREN) {
      need(4);
      const count = reply.readInt32BE(o);
      o += 4;
      const children: string[] = [];
      for (let i = 0; i < count; i++) {
        need(4);
        const len = reply.readInt32BE(o);
        o += 4;
        need(len);
        children.push(reply.toString("utf8", o, o + len));
        o += len;
      }
      out.push({ children });
    } else if (type === OP_ERROR) {
      need(4);
      out.push({ err: reply.readInt32BE(o) });
      o += 4;
    } else {
      throw new Error(`multiRead reply: unexpected result type ${type}`);
    }
  }
  if (out.length !== expected) throw new Error(`multiRead reply: ${out.length} results for ${expected} ops`);
  return out;
}

/** The library's Exception for `code`; its `create` throws on codes it does not know. */
function zkException(code: number): unknown {
  try {
    return (zookeeper.Exception as unknown as { create(code: number): unknown }).create(code);
  } catch {
    return Object.assign(new Error(`zookeeper error code ${code}`), { code });
  }
}

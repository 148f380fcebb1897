/**
 * Patches to node-zookeeper-client 1.1.3's ConnectionManager, installed once per process:
 *
 * 1. Guard. The library parses server replies inside the socket's "data" handler and can throw
 *    from there (e.g. `Exception.create` on an unknown code after a frozen server thaws with
 *    replies for a connection it already gave up on). A throw there is an uncaught exception
 *    that would take the whole scheduler down. A parse failure drops the connection instead,
 *    which the library treats as a lost connection (pending calls fail with CONNECTION_LOSS and
 *    it reconnects or, when closing, stops).
 *
 * 2. No quadratic copying of pipelined replies. The handler parses ONE reply, then calls itself
 *    with an empty buffer for the rest, and each call starts with
 *    `Buffer.concat([pending, empty])` — a copy of everything not parsed yet. A 64 KiB read
 *    holding 800 small replies copied ~25 MB and recursed 800 deep. Here the recursive call
 *    returns at once and a loop feeds the rest (a zero-copy slice) to the original parser,
 *    one complete reply at a time, exactly as the recursion did.
 *
 * 3. One write per turn. The library writes each request to the socket on its own (a syscall
 *    each). The socket is corked at the first request of a turn of the event loop and uncorked
 *    at the next tick, so requests issued together (pipelined reads, concurrent multis) leave
 *    in one writev. Order is unchanged; a request waits at most until the current turn ends.
 *
 * 4. multiRead replies (multi-read.ts). The library's parser knows only ZooKeeper 3.4's
 *    opcodes and drops the connection on any other reply. Before each reply reaches it, the
 *    loop below hands it to `takeMultiReadReply`, which takes the replies to our multiRead
 *    requests and leaves everything else (and incomplete data) to the library.
 *
 * 5. A fresh connection starts with no half-received reply. The library keeps the unparsed
 *    tail of the old socket in `pendingBuffer` across reconnects; a connection lost in the
 *    middle of a large reply would have the next connect response parsed behind those bytes.
 *
 * 6. A large reply is joined once. The library concatenates what it holds with every chunk
 *    the socket delivers, so a reply of n chunks (a multiRead reply of ~150 KiB arrives in 64 KiB
 *    reads) was copied about n²/2 times over. Chunks of a reply whose length is known are kept
 *    in a list until it is complete, then joined in one copy.
 */
import { createRequire } from "node:module";
import { takeMultiReadReply } from "./multi-read.js";
import type { ReplyTaker } from "./multi-read.js";

interface Socket {
  destroy(): void;
  cork(): void;
  uncork(): void;
  destroyed?: boolean;
}

/** The chunks of one incomplete reply, `need` bytes in all (with its length prefix). */
interface PartialReply {
  readonly chunks: Buffer[];
  size: number;
  readonly need: number;
}

interface ConnectionManagerLike extends ReplyTaker {
  socket?: Socket;
  pendingBuffer?: Buffer | null;
  __corralPartial?: PartialReply | undefined;
  __corralParsing?: boolean;
  __corralMore?: boolean;
  __corralCorked?: Socket | undefined;
}

interface ConnectionManagerProto {
  onSocketData(this: ConnectionManagerLike, buffer: Buffer): void;
  onPacketQueueReadable(this: ConnectionManagerLike): void;
  onSocketConnected(this: ConnectionManagerLike): void;
  __corralGuarded?: true;
}

let installed = false;

/** Whether `buf` holds at least one whole length-prefixed reply. */
function holdsReply(buf: Buffer | null | undefined): buf is Buffer {
  return !!buf && buf.length >= 4 && buf.length >= buf.readInt32BE(0) + 4;
}

export function installSocketDataGuard(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const ctor = require("node-zookeeper-client/lib/ConnectionManager.js") as { prototype: ConnectionManagerProto };
  const proto = ctor.prototype;
  if (proto.__corralGuarded) return;
  const parse = proto.onSocketData;
  proto.onSocketData = function guarded(this: ConnectionManagerLike, buffer: Buffer): void {
    if (this.__corralParsing) {
      // The original's "process the rest" self-call: the loop below does it.
      this.__corralMore = true;
      return;
    }
    const partial = this.__corralPartial;
    if (partial) {
      partial.chunks.push(buffer);
      partial.size += buffer.length;
      if (partial.size < partial.need) return;
      this.__corralPartial = undefined;
      buffer = Buffer.concat(partial.chunks, partial.size);
    }
    this.__corralParsing = true;
    try {
      // The original would prepend the pending bytes itself; done here so that a multiRead
      // reply can be recognised before the original sees it.
      let buf: Buffer | null = this.pendingBuffer ? Buffer.concat([this.pendingBuffer, buffer]) : buffer;
      this.pendingBuffer = null;
      while (buf) {
        const rest = takeMultiReadReply(this, buf);
        if (rest !== false) {
          buf = rest;
          continue;
        }
        this.__corralMore = false;
        parse.call(this, buf);
        buf = null;
        // Only when the original asked to go on (it returns early, e.g. after dropping the
        // socket on an out-of-order reply, without asking).
        if (this.__corralMore && holdsReply(this.pendingBuffer)) {
          buf = this.pendingBuffer;
          this.pendingBuffer = null;
        }
      }
      const rest = this.pendingBuffer as Buffer | null | undefined; // set by the original parser
      const need = rest && rest.length >= 4 ? rest.readInt32BE(0) + 4 : 0;
      if (rest && rest.length < need) {
        this.__corralPartial = { chunks: [rest], size: rest.length, need };
        this.pendingBuffer = null;
      }
    } catch {
      this.pendingBuffer = null;
      this.__corralPartial = undefined;
      this.socket?.destroy();
    } finally {
      this.__corralParsing = false;
      this.__corralMore = false;
    }
  };
  const flush = proto.onPacketQueueReadable;
  proto.onPacketQueueReadable = function corked(this: ConnectionManagerLike): void {
    const socket = this.socket;
    if (socket && !socket.destroyed && this.__corralCorked !== socket) {
      this.__corralCorked = socket;
      socket.cork();
      process.nextTick(() => {
        if (this.__corralCorked === socket) this.__corralCorked = undefined;
        socket.uncork();
      });
    }
    flush.call(this);
  };
  const connected = proto.onSocketConnected;
  proto.onSocketConnected = function fresh(this: ConnectionManagerLike): void {
    this.pendingBuffer = null;
    this.__corralPartial = undefined;
    connected.call(this);
  };
  proto.__corralGuarded = true;
}

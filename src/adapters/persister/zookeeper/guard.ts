/**
 * node-zookeeper-client 1.1.3 parses server replies inside the socket's "data" handler and can
 * throw from there (e.g. `Exception.create` on an unknown code after a frozen server thaws with
 * replies for a connection it already gave up on). A throw there is an uncaught exception that
 * would take the whole scheduler down. This wraps the handler once: a parse failure drops the
 * connection instead, which the library treats as a lost connection (pending calls fail with
 * CONNECTION_LOSS and it reconnects or, when closing, stops).
 */
import { createRequire } from "node:module";

interface ConnectionManagerProto {
  onSocketData(this: ConnectionManagerLike, buffer: Buffer): void;
  __corralGuarded?: true;
}
interface ConnectionManagerLike {
  socket?: { destroy(): void };
  pendingBuffer?: Buffer | null;
}

let installed = false;

export function installSocketDataGuard(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const ctor = require("node-zookeeper-client/lib/ConnectionManager.js") as { prototype: ConnectionManagerProto };
  const proto = ctor.prototype;
  if (proto.__corralGuarded) return;
  const original = proto.onSocketData;
  proto.onSocketData = function guarded(this: ConnectionManagerLike, buffer: Buffer): void {
    try {
      original.call(this, buffer);
    } catch {
      this.pendingBuffer = null;
      this.socket?.destroy();
    }
  };
  proto.__corralGuarded = true;
}

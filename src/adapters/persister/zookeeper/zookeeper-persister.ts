/**
 * `Persister` on ZooKeeper (node-zookeeper-client 1.1.3), rooted at a chroot node:
 *
 *   const p = await ZooKeeperPersister.open("127.0.0.1:2181,10.0.0.2:2181/corral/prod");
 *
 * Relative path "a/b" is znode "/corral/prod/a/b". Every multi is ONE ZooKeeper transaction
 * (plan.ts adds the parent creates and subtree deletes); version 0 is kept as version 0
 * (upstream bug #67, see calls.ts). Values over 1 MiB − 64 KiB are rejected before sending, as
 * is a multi whose values add up to more: ZooKeeper's jute.maxbuffer bounds the whole request.
 */
import type { Transaction } from "node-zookeeper-client";
import { SchedulerError } from "../../../domain/errors.js";
import type { Persister, PersisterOp, Versioned } from "../../../engine/ports.js";
import { parsePersisterPath } from "../memory-persister.js";
import { pushVersioned } from "./calls.js";
import { planMulti } from "./plan.js";
import type { ZkOp } from "./plan.js";
import { ZkSession } from "./session.js";
import type { ZkSessionEvent } from "./session.js";

/** 1 MiB − 64 KiB: leaves room for paths and framing under jute.maxbuffer (0xfffff). */
export const ZK_MAX_VALUE_BYTES = 1024 * 1024 - 64 * 1024;

export interface ZooKeeperPersisterOptions {
  /** @default 10_000 */
  readonly sessionTimeoutMs?: number;
  /** Deadline of every ZooKeeper call. @default 10_000 */
  readonly callTimeoutMs?: number;
  /** @default sessionTimeoutMs / 3 */
  readonly probeIntervalMs?: number;
  readonly onEvent?: (event: ZkSessionEvent) => void;
}

/** Splits "host:port[,host:port]/chroot" into hosts and an absolute root ("/" when none). */
export function parseZkConnect(connect: string): { hosts: string; root: string } {
  const s = connect.startsWith("zk://") ? connect.slice("zk://".length) : connect;
  const slash = s.indexOf("/");
  const hosts = slash < 0 ? s : s.slice(0, slash);
  const root = slash < 0 ? "/" : s.slice(slash).replace(/\/+$/, "") || "/";
  const segments = root === "/" ? [] : root.slice(1).split("/");
  if (hosts === "" || segments.some((x) => x === "" || x === "." || x === "..")) {
    throw SchedulerError.invalid([
      { field: "store", reason: `malformed ZooKeeper address '${connect}': want host:port[,host:port][/chroot]` },
    ]);
  }
  return { hosts, root };
}

export class ZooKeeperPersister implements Persister {
  private closed = false;

  private constructor(
    private readonly session: ZkSession,
    /** Absolute znode path of the root ("/" or "/a/b"). */
    readonly root: string,
  ) {}

  /** Connects and creates the root node (and its parents) when missing. */
  static async open(connect: string, options: ZooKeeperPersisterOptions = {}): Promise<ZooKeeperPersister> {
    const { hosts, root } = parseZkConnect(connect);
    const session = await ZkSession.open({ hosts, ...options });
    try {
      if (root !== "/") await session.calls.mkdirp(root);
    } catch (err) {
      session.close();
      throw err;
    }
    return new ZooKeeperPersister(session, root);
  }

  /** The session, for its connection state (a lock built on it watches `isConnected`). */
  get zkSession(): ZkSession {
    return this.session;
  }

  async get(path: string): Promise<Versioned | undefined> {
    const zkPath = this.abs(path);
    this.ensureOpen();
    const got = await this.session.calls.getData(zkPath);
    return got && { data: new Uint8Array(got.data), version: got.stat.version };
  }

  async children(path: string): Promise<string[]> {
    const zkPath = this.abs(path);
    this.ensureOpen();
    return (await this.session.calls.getChildren(zkPath)).sort();
  }

  async multi(ops: readonly PersisterOp[]): Promise<void> {
    let total = 0;
    ops.forEach((op, index) => {
      parsePersisterPath(op.path);
      if (op.kind !== "set" && op.kind !== "create") return;
      total += op.data.byteLength;
      if (op.data.byteLength > ZK_MAX_VALUE_BYTES) {
        throw tooLarge(`op ${index} (${op.kind} ${op.path}): value is ${op.data.byteLength} bytes`);
      }
    });
    if (total > ZK_MAX_VALUE_BYTES) throw tooLarge(`the multi's values add up to ${total} bytes`);
    this.ensureOpen();
    if (ops.length === 0) return;

    const calls = this.session.calls;
    const reader = {
      exists: async (p: string) => (await calls.exists(p)) !== null,
      getChildren: (p: string) => calls.getChildren(p),
    };
    for (let attempt = 0; ; attempt++) {
      const planned = await planMulti(this.root, ops, (p) => this.abs(p), reader);
      if (planned.length === 0) return;
      const failure = await calls.commit((tx) => planned.forEach((op) => addOp(tx, op)), `multi of ${ops.length} ops`);
      if (!failure) return;
      // A failing op chosen from what we read means the tree changed under us: plan again, once.
      const failed = planned[failure.index];
      if (attempt === 0 && failed?.fromRead) continue;
      throw failure.error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.session.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new SchedulerError("unavailable", "zookeeper persister is closed");
  }

  /** Validates a relative path and makes it an absolute znode path under the root. */
  private abs(path: string): string {
    parsePersisterPath(path);
    return this.root === "/" ? `/${path}` : `${this.root}/${path}`;
  }
}

function tooLarge(reason: string): SchedulerError {
  return SchedulerError.invalid([{ field: "data", reason: `${reason}, limit is ${ZK_MAX_VALUE_BYTES}` }]);
}

function addOp(tx: Transaction, op: ZkOp): void {
  switch (op.type) {
    case "create":
      tx.create(op.path, op.data);
      return;
    case "setData":
      pushVersioned(tx, (t) => t.setData(op.path, op.data, op.version), op.version);
      return;
    case "remove":
      tx.remove(op.path, -1);
      return;
    case "check":
      pushVersioned(tx, (t) => t.check(op.path, op.version), op.version);
      return;
  }
}

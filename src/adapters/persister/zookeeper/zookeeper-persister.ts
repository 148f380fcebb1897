/**
 * `Persister` on ZooKeeper (node-zookeeper-client 1.1.3), rooted at a chroot node:
 *
 *   const p = await ZooKeeperPersister.open("127.0.0.1:2181,10.0.0.2:2181/corral/prod");
 *
 * Relative path "a/b" is znode "/corral/prod/a/b". Every multi is ONE ZooKeeper transaction
 * (plan.ts adds the parent creates and subtree deletes); version 0 is kept as version 0
 * (upstream bug #67, see calls.ts). Values over 1 MiB − 64 KiB are rejected before sending, as
 * is a multi whose values add up to more: ZooKeeper's jute.maxbuffer bounds the whole request.
 *
 * Write fence: once a lock keeper guards the persister (`guardWrites`, zk-lock-keeper.ts), every
 * multi is refused while the lock is not held, and its transaction starts with a check of the
 * lock node taken when the multi was called. The node is ephemeral: if our session ended (and
 * another scheduler may have taken the lock since), the check fails on the server and nothing
 * of the write lands — also for a write that was planned in one session and sent in the next.
 */
import type { Transaction } from "node-zookeeper-client";
import { SchedulerError } from "../../../domain/errors.js";
import type { Persister, PersisterOp, Versioned } from "../../../engine/ports.js";
import { OP_OVERHEAD_BYTES } from "../../../engine/store/tree.js";
import { parsePersisterPath } from "../memory-persister.js";
import { mapZkError, pushVersioned, zkErrorCode } from "./calls.js";
import { KnownPaths } from "./known-paths.js";
import { ZK_NO_NODE, ZK_UNIMPLEMENTED } from "./multi-read.js";
import { planMulti } from "./plan.js";
import type { ZkOp } from "./plan.js";
import { ZkSession } from "./session.js";
import type { ZkSessionEvent } from "./session.js";

/** 1 MiB − 64 KiB: leaves room for paths and framing under jute.maxbuffer (0xfffff). */
export const ZK_MAX_VALUE_BYTES = 1024 * 1024 - 64 * 1024;

/**
 * Paths per multiRead request. ZooKeeper's jute.maxbuffer (1 MiB) bounds what its own clients
 * accept in one reply; ours reads any size, but a reply is parsed in one piece, so keep it in
 * the hundreds of KiB for recovery's values (TaskInfos ~3 KB, contexts ~1–3 KB).
 */
export const ZK_MAX_READ_PATHS = 128;

/**
 * What a multi of the migration, its restore or a wipe may add up to on the wire: half of
 * jute.maxbuffer (1 MiB), the rest left for the ancestors and subtrees the plan adds (plan.ts).
 */
export const ZK_MULTI_WIRE_BYTES = 512 * 1024;

/** A create's fixed cost on the wire: multi header 9, path length 4, data length 4, ACL (world:anyone) 31, flags 4. */
const ZK_CREATE_FIXED_BYTES = 52;

/**
 * The store's `maxMultiBytes` for a root: tree.ts `opBytes` counts OP_OVERHEAD_BYTES per op for
 * the framing and the root prefix, and the path relative to the root; each op costs at most
 * ZK_CREATE_FIXED_BYTES + the absolute path + its value, so a long root scales the budget down
 * by the worst ratio of the two (an op with an empty path and value).
 */
export function zkMaxMultiBytes(root: string): number {
  const prefix = root === "/" ? 1 : Buffer.byteLength(root) + 1;
  const worst = Math.max(OP_OVERHEAD_BYTES, ZK_CREATE_FIXED_BYTES + prefix);
  return Math.floor((ZK_MULTI_WIRE_BYTES * OP_OVERHEAD_BYTES) / worst);
}

/** Which lock node writes must find: the one this scheduler holds the lock with, if it does. */
export interface ZkWriteGuard {
  /** The absolute path of our lock node while we hold the lock, else undefined. */
  lockNode(): string | undefined;
  /** A write found `node` gone: we no longer hold the lock with it. */
  lockLost(node: string): void;
}

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
  /** Set when the server answered a multiRead with UNIMPLEMENTED (ZooKeeper < 3.6). */
  private noMultiRead = false;
  /** children() calls of this tick, sent together by flushListing. */
  private listing: { path: string; resolve: (names: string[]) => void; reject: (err: unknown) => void }[] = [];
  private guard: ZkWriteGuard | undefined;
  /** The largest multi the store layer packs (counted as tree.ts `opBytes`): one ZooKeeper request stays under jute.maxbuffer. */
  readonly maxMultiBytes: number;

  private constructor(
    private readonly session: ZkSession,
    /** Absolute znode path of the root ("/" or "/a/b"). */
    readonly root: string,
    /** Paths known to exist (known-paths.ts): cleared on every session event. */
    readonly known: KnownPaths,
  ) {
    this.maxMultiBytes = zkMaxMultiBytes(root);
  }

  /** Connects and creates the root node (and its parents) when missing. */
  static async open(connect: string, options: ZooKeeperPersisterOptions = {}): Promise<ZooKeeperPersister> {
    const { hosts, root } = parseZkConnect(connect);
    const known = new KnownPaths(root);
    const onEvent = (event: ZkSessionEvent): void => {
      known.clear(); // another writer may have changed the tree while we were not looking
      options.onEvent?.(event);
    };
    const session = await ZkSession.open({ hosts, ...options, onEvent });
    try {
      if (root !== "/") await session.calls.mkdirp(root);
    } catch (err) {
      session.close();
      throw err;
    }
    return new ZooKeeperPersister(session, root, known);
  }

  /** From now on every multi must find the guard's lock node (see the file comment). */
  guardWrites(guard: ZkWriteGuard): void {
    this.guard = guard;
  }

  /** The session, for its connection state (a lock built on it watches `isConnected`). */
  get zkSession(): ZkSession {
    return this.session;
  }

  async get(path: string): Promise<Versioned | undefined> {
    const zkPath = this.abs(path);
    this.ensureOpen();
    const epoch = this.known.epoch;
    const got = await this.session.calls.getData(zkPath);
    if (got) this.known.add(zkPath, epoch);
    return got && { data: new Uint8Array(got.data), version: got.stat.version };
  }

  /** ≤ ZK_MAX_READ_PATHS paths per multiRead request, all requests issued at once (pipelined). */
  async getMany(paths: readonly string[]): Promise<(Versioned | undefined)[]> {
    const zkPaths = paths.map((p) => this.abs(p));
    this.ensureOpen();
    if (zkPaths.length === 0) return [];
    if (this.noMultiRead) return Promise.all(paths.map((p) => this.get(p)));
    const calls = this.session.calls;
    const epoch = this.known.epoch;
    const batches: Promise<(Versioned | undefined)[]>[] = [];
    for (let i = 0; i < zkPaths.length; i += ZK_MAX_READ_PATHS) {
      const slice = zkPaths.slice(i, i + ZK_MAX_READ_PATHS);
      batches.push(
        calls.multiRead(slice.map((path) => ({ kind: "data", path }))).then((results) =>
          results.map((r, j) => {
            if ("data" in r) {
              this.known.add(slice[j]!, epoch);
              return { data: r.data, version: r.version };
            }
            if ("err" in r && r.err === ZK_NO_NODE) return undefined;
            const code = "err" in r ? r.err : undefined;
            throw mapZkError(Object.assign(new Error(`code ${code ?? "none"}`), { code }), `getData ${slice[j]!}`);
          }),
        ),
      );
    }
    try {
      return (await Promise.all(batches)).flat();
    } catch (err) {
      // A server before 3.6 has no multiRead: read node by node from then on.
      if (zkErrorCode(err instanceof Error ? err.cause : undefined) !== ZK_UNIMPLEMENTED) throw err;
      this.noMultiRead = true;
      return Promise.all(paths.map((p) => this.get(p)));
    }
  }

  /**
   * Calls made in the same tick (recovery lists the tasks of a whole batch of services at once)
   * go in one multiRead of getChildren ops, ≤ ZK_MAX_READ_PATHS each; a lone call is a plain
   * getChildren. Deferred to process.nextTick, i.e. before any promise continuation, so a call
   * still leaves before anything its caller does after it.
   */
  async children(path: string): Promise<string[]> {
    const zkPath = this.abs(path);
    this.ensureOpen();
    const epoch = this.known.epoch;
    const names = this.noMultiRead
      ? await this.session.calls.getChildren(zkPath)
      : await new Promise<string[]>((resolve, reject) => {
          this.listing.push({ path: zkPath, resolve, reject });
          if (this.listing.length === 1) process.nextTick(() => this.flushListing());
        });
    // A missing node lists as []: only names prove existence.
    for (const n of names) this.known.add(`${zkPath}/${n}`, epoch);
    return names.sort();
  }

  private flushListing(): void {
    const all = this.listing;
    this.listing = [];
    const calls = this.session.calls;
    if (all.length === 1) {
      const [one] = all;
      calls.getChildren(one!.path).then(one!.resolve, one!.reject);
      return;
    }
    for (let i = 0; i < all.length; i += ZK_MAX_READ_PATHS) {
      const slice = all.slice(i, i + ZK_MAX_READ_PATHS);
      calls.multiRead(slice.map(({ path }) => ({ kind: "children", path }))).then(
        (results) =>
          results.forEach((r, j) => {
            const { path, resolve, reject } = slice[j]!;
            if ("children" in r) resolve(r.children);
            else if ("err" in r && r.err === ZK_NO_NODE) resolve([]);
            else {
              const code = "err" in r ? r.err : undefined;
              reject(mapZkError(Object.assign(new Error(`code ${code ?? "none"}`), { code }), `getChildren ${path}`));
            }
          }),
        (err: unknown) => {
          if (zkErrorCode(err instanceof Error ? err.cause : undefined) !== ZK_UNIMPLEMENTED) {
            for (const c of slice) c.reject(err);
            return;
          }
          this.noMultiRead = true;
          for (const c of slice) calls.getChildren(c.path).then(c.resolve, c.reject);
        },
      );
    }
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
    // The tenure this write belongs to: if the lock is lost after this, the write must fail.
    const lockNode = this.guard ? this.guard.lockNode() : undefined;
    if (this.guard && lockNode === undefined) {
      throw new SchedulerError("unavailable", "this scheduler does not hold its ZooKeeper lock right now; the write was refused");
    }
    if (ops.length === 0) return;

    const calls = this.session.calls;
    const known = this.known;
    const reader = {
      exists: async (p: string) => {
        const epoch = known.epoch;
        const there = (await calls.exists(p)) !== null;
        if (there) known.add(p, epoch);
        return there;
      },
      getChildren: (p: string) => calls.getChildren(p),
      known: (p: string) => known.has(p),
    };
    for (let attempt = 0; ; attempt++) {
      const planned = await planMulti(this.root, ops, (p) => this.abs(p), reader);
      if (planned.length === 0) return;
      const epoch = known.epoch;
      const fenced = lockNode !== undefined ? 1 : 0;
      let failure;
      try {
        failure = await calls.commit((tx) => {
          if (lockNode !== undefined) tx.check(lockNode, -1); // exists, at any version
          planned.forEach((op) => addOp(tx, op));
        }, `multi of ${ops.length} ops`);
      } catch (err) {
        known.clear(); // unknown outcome: some of our deletes may have happened
        throw err;
      }
      if (!failure) {
        for (const op of planned) {
          if (op.type === "remove") known.drop(op.path);
          else known.add(op.path, epoch);
        }
        return;
      }
      // The cache may be what misled the plan: start again from what the server says.
      known.clear();
      if (lockNode !== undefined && failure.index === 0) {
        this.guard?.lockLost(lockNode);
        throw new SchedulerError(
          "unavailable",
          `zookeeper lock node ${lockNode} is gone: this scheduler's session ended and another scheduler may hold the lock; the write was refused`,
          { cause: failure.error },
        );
      }
      // A failing op chosen from what we read (or knew) means the tree changed under us: plan
      // again, once. A create failing with NO_NODE had its parent planned as existing.
      const failed = planned[failure.index - fenced];
      const replan = failed?.fromRead || (failed?.type === "create" && failure.zkCode === ZK_NO_NODE);
      if (attempt === 0 && replan) continue;
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

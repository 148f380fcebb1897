/**
 * Promise wrappers over node-zookeeper-client 1.1.3's callback API, each with a deadline
 * (`zookeeper/deadline.ts`, shared with the Mesos master detector). Nothing here knows about
 * the Persister.
 */
import zookeeper from "node-zookeeper-client";
import type { Client, Stat, Transaction } from "node-zookeeper-client";
import { SchedulerError } from "../../../domain/errors.js";
import { sendMultiRead } from "./multi-read.js";
import type { ReadOp, ReadResult } from "./multi-read.js";

const { Exception } = zookeeper;

export { codeFor, mapZkError, withDeadline, zkErrorCode } from "../../zookeeper/deadline.js";
import { mapZkError, withDeadline, zkCode } from "../../zookeeper/deadline.js";

/** One operation result of a failed transaction: which op failed, with which ZooKeeper code. */
export interface MultiFailure {
  readonly index: number;
  readonly zkCode: number;
  readonly error: SchedulerError;
}

/** The per-call promise API the persister uses; `client` may be swapped by the session. */
export class ZkCalls {
  constructor(
    private readonly client: () => Client,
    private readonly timeoutMs: number,
  ) {}

  exists(path: string, timeoutMs = this.timeoutMs): Promise<Stat | null> {
    return withDeadline(`exists ${path}`, timeoutMs, (done) =>
      this.client().exists(path, (err, stat) => done(err, stat ?? null)),
    );
  }

  /**
   * exists() with a one-shot watch: `onChange` is called once when the node is created, changed
   * or deleted. Upstream registers the watcher only after a reply (none on a failed or timed-out
   * call, yet possibly after our deadline passed), de-duplicates the same function per path, and
   * a watch set on a client that is then replaced never fires: callers reuse one function per
   * path until it fired (else unfired ones pile up), and re-check on session events.
   */
  watchExists(path: string, onChange: () => void): Promise<Stat | null> {
    return withDeadline(`exists ${path} (watch)`, this.timeoutMs, (done) =>
      this.client().exists(path, onChange, (err, stat) => done(err, stat ?? null)),
    );
  }

  getData(path: string): Promise<{ data: Buffer; stat: Stat } | undefined> {
    return withDeadline(`getData ${path}`, this.timeoutMs, (done) =>
      this.client().getData(path, (err, data, stat) => {
        if (err && zkCode(err) === Exception.NO_NODE) done(null, undefined);
        else done(err, { data: data ?? Buffer.alloc(0), stat });
      }),
    );
  }

  /**
   * One multiRead request (multi-read.ts): each op's result in op order, a missing node as
   * its own NO_NODE result. Transport failures (connection loss, deadline) reject the call.
   */
  multiRead(ops: readonly ReadOp[]): Promise<ReadResult[]> {
    return withDeadline(`multiRead of ${ops.length} paths (${ops[0]?.path ?? ""} …)`, this.timeoutMs, (done) =>
      sendMultiRead(this.client(), ops, done),
    );
  }

  /** Children names, unsorted; [] when the node is missing. */
  getChildren(path: string): Promise<string[]> {
    return withDeadline(`getChildren ${path}`, this.timeoutMs, (done) =>
      this.client().getChildren(path, (err, children) => {
        if (err && zkCode(err) === Exception.NO_NODE) done(null, []);
        else done(err, children);
      }),
    );
  }

  /** Creates an EPHEMERAL_SEQUENTIAL node; resolves its full path (with the sequence suffix). */
  createEphemeralSequential(prefix: string, data: Buffer): Promise<string> {
    return withDeadline(`create ${prefix}`, this.timeoutMs, (done) =>
      this.client().create(prefix, data, zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, (err, path) => done(err, path)),
    );
  }

  /** Deletes a node at any version; a missing node is fine. */
  remove(path: string): Promise<void> {
    return withDeadline(`remove ${path}`, this.timeoutMs, (done) =>
      this.client().remove(path, -1, (err) => done(err && zkCode(err) === Exception.NO_NODE ? null : err)),
    );
  }

  mkdirp(path: string): Promise<void> {
    return withDeadline(`mkdirp ${path}`, this.timeoutMs, (done) => this.client().mkdirp(path, (err) => done(err)));
  }

  /**
   * Commits a transaction built by `build`. Resolves undefined on success; on an op failure
   * resolves the first failing op (so the caller can decide to retry); rejects on transport errors.
   */
  commit(build: (tx: Transaction) => void, what: string): Promise<MultiFailure | undefined> {
    return withDeadline<MultiFailure | undefined>(what, this.timeoutMs, (done) => {
      const tx = this.client().transaction();
      build(tx);
      tx.commit((err, results: unknown) => {
        if (!err) return done(null, undefined);
        const list = Array.isArray(results) ? (results as { err?: unknown }[]) : undefined;
        if (!list) return done(err);
        // Ops before the failing one report OK (0), later ones RUNTIME_INCONSISTENCY (-2).
        const index = list.findIndex(
          (r) => typeof r.err === "number" && r.err !== 0 && r.err !== Exception.RUNTIME_INCONSISTENCY,
        );
        const code = zkCode(err) ?? (index >= 0 ? (list[index]!.err as number) : undefined);
        if (code === undefined) return done(err);
        done(null, { index, zkCode: code, error: mapZkError(err, what) });
      });
    });
  }
}

/**
 * Adds a versioned op to a transaction, working around upstream #67: the library's
 * `check/setData/remove` do `version = version || -1`, turning version 0 into "any version".
 * The op objects are serialized field by field (lib/jute TransactionRequest), so the pushed
 * op's version is set back to what was asked.
 */
export function pushVersioned(
  tx: Transaction,
  add: (tx: Transaction) => void,
  version: number,
): void {
  add(tx);
  const ops = (tx as unknown as { ops: { version?: number }[] }).ops;
  const op = ops[ops.length - 1];
  if (!op || !("version" in op)) throw new SchedulerError("internal", "zookeeper transaction layout changed");
  op.version = version;
}

/**
 * Embedded SQLite `Persister` (better-sqlite3): the default store for one machine. Same
 * semantics and error codes as the reference `MemoryPersister`, checked by the shared contract
 * suite (`test/contract/persister-contract.ts`).
 *
 * One table holds the whole tree, a row per node keyed by its full path:
 *
 *   nodes(path TEXT PRIMARY KEY, parent TEXT NOT NULL, data BLOB NOT NULL, version INTEGER NOT NULL)
 *
 * `parent` is the path without its last segment ("" for a top-level node), indexed so
 * `children` is one index range. A subtree is `path = p OR p/ < path < p0`: every descendant
 * of `p` sorts between "p/" and "p0" ('0' follows '/' in ASCII), so a recursive delete is one
 * range of the primary-key index. (A `LIKE 'p/%'` would need `%`/`_` escaping and, worse,
 * is ASCII case-insensitive in SQLite, so deleting "a/B" would also delete "a/b/x"; it also
 * cannot use the index.)
 *
 * A multi's ops run in order against the database (later ops see earlier ones) and the first
 * failing op throws, which rolls that multi back.
 *
 * Group commit: multis called in the same turn of the event loop are queued and applied
 * together at the next `setImmediate`, in call order, in ONE transaction. Each multi runs in
 * its own SAVEPOINT inside it, so a multi whose op fails is rolled back alone and rejects alone;
 * the others land. If the COMMIT itself fails (disk full, I/O error), nothing of the batch
 * landed and every multi of it rejects.
 *
 * Durability: a multi resolves only once its commit is on disk — after an fsync of the WAL that
 * started after the COMMIT (wal-sync.ts). The fsync runs on libuv's thread pool, not inside
 * COMMIT on the event loop, and commits made meanwhile share the next one. A read returns only
 * once what it saw is on disk too, so nothing reaches a caller that a power cut could take back.
 *
 * better-sqlite3 is synchronous; a batch blocks the event loop while its ops and COMMIT run
 * (page-cache writes only).
 *
 * The file must have a single writer: the caller holds the data-directory lock
 * (`file-lock.ts`) before opening it, and passes it as `fence`: every write transaction asks it,
 * just before it commits, whether this process still holds the lock, and rolls back when not.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { SchedulerError } from "../../domain/errors.js";
import type { Persister, PersisterOp, Versioned } from "../../engine/ports.js";
import type { StoreWriteFence } from "../file-lock.js";
import { DEFAULT_MAX_VALUE_BYTES, parsePersisterPath } from "./memory-persister.js";
import { WalSync } from "./wal-sync.js";
import type { FsyncFn } from "./wal-sync.js";

export interface SqlitePersisterOptions {
  /** Largest value accepted by set/create, in bytes. @default 1_048_576 (1 MiB, as the memory persister) */
  readonly maxValueBytes?: number;
  /** Asked inside every write transaction before it commits (the data-directory lock). */
  readonly fence?: StoreWriteFence;
  /** How the WAL is fsynced. @default fs.fsync (tests pass a slow or failing one) */
  readonly fsync?: FsyncFn;
}

/** Bumped (with a migration) whenever the table layout changes; stored as `PRAGMA user_version`. */
const SCHEMA_VERSION = 1;

const EMPTY = Buffer.alloc(0);

interface Row {
  data: Buffer;
  version: number;
}

/** A multi waiting for the next group commit. */
interface Queued {
  readonly ops: readonly PersisterOp[];
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Errors from SQLite itself that mean "the store cannot be used right now", not a bug. */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY|PROTOCOL|NOTADB|CORRUPT)/;

function fromSqlite(err: unknown, what: string): SchedulerError {
  if (err instanceof SchedulerError) return err;
  if (err instanceof Database.SqliteError) {
    const code = UNAVAILABLE_CODES.test(err.code) ? "unavailable" : "internal";
    return new SchedulerError(code, `sqlite persister: ${what}: ${err.code}: ${err.message}`, {
      cause: err,
    });
  }
  return SchedulerError.from(err);
}

/** A fresh Uint8Array over `buf`'s bytes; copies only when `buf` is a view into a larger buffer. */
function toBytes(buf: Buffer): Uint8Array {
  if (buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength) {
    return new Uint8Array(buf.buffer, 0, buf.byteLength);
  }
  return new Uint8Array(buf);
}

/** `data` as a Buffer without copying (SQLite copies bound blobs). */
function toBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function parentOf(segments: readonly string[], depth = segments.length): string {
  return segments.slice(0, depth - 1).join("/");
}

function conflict(what: string, expected: number, actual: number): SchedulerError {
  return new SchedulerError("aborted", `${what}: expected version ${expected}, node is at ${actual}`);
}

export class SqlitePersister implements Persister {
  private closed = false;
  private readonly maxValueBytes: number;
  private readonly stmt: {
    readonly get: Database.Statement<[string], Row>;
    readonly version: Database.Statement<[string], number>;
    readonly children: Database.Statement<[string], string>;
    readonly insertIfMissing: Database.Statement<[string, string, Buffer]>;
    readonly insert: Database.Statement<[string, string, Buffer]>;
    readonly update: Database.Statement<[Buffer, string]>;
    readonly deleteTree: Database.Statement<[string, string, string]>;
  };
  private readonly runMulti: (ops: readonly PersisterOp[]) => void;
  private readonly runOne: (ops: readonly PersisterOp[]) => void;
  private readonly runBatch: (batch: readonly Queued[], failed: Map<Queued, unknown>) => void;
  private queued: Queued[] = [];
  private flushScheduled = false;
  /** Transactions committed (one per group commit); for tests and benchmarks. */
  commits = 0;
  /** Confirms commits on disk; none for ":memory:". */
  readonly wal: WalSync | undefined;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    options: SqlitePersisterOptions,
  ) {
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    this.wal = file === ":memory:" ? undefined : new WalSync(`${file}-wal`, options.fsync);
    this.stmt = {
      get: db.prepare<[string], Row>("SELECT data, version FROM nodes WHERE path = ?"),
      version: db.prepare<[string], number>("SELECT version FROM nodes WHERE path = ?").pluck(),
      children: db.prepare<[string], string>("SELECT path FROM nodes WHERE parent = ?").pluck(),
      insertIfMissing: db.prepare(
        "INSERT OR IGNORE INTO nodes (path, parent, data, version) VALUES (?, ?, ?, 0)",
      ),
      insert: db.prepare("INSERT INTO nodes (path, parent, data, version) VALUES (?, ?, ?, 0)"),
      update: db.prepare("UPDATE nodes SET data = ?, version = version + 1 WHERE path = ?"),
      deleteTree: db.prepare("DELETE FROM nodes WHERE path = ? OR (path > ? AND path < ?)"),
    };
    // Called inside runBatch's transaction, better-sqlite3 makes this a SAVEPOINT that is
    // rolled back (alone) when an op throws.
    this.runMulti = db.transaction((ops: readonly PersisterOp[]) => {
      ops.forEach((op, index) => this.apply(op, `op ${index} (${op.kind} ${op.path})`));
    });
    const fence = options.fence;
    this.runOne = db.transaction((ops: readonly PersisterOp[]) => {
      ops.forEach((op, index) => this.apply(op, `op ${index} (${op.kind} ${op.path})`));
      fence?.assertHeld();
    });
    this.runBatch = db.transaction((batch: readonly Queued[], failed: Map<Queued, unknown>) => {
      for (const q of batch) {
        try {
          this.runMulti(q.ops);
        } catch (err) {
          // Some errors (SQLITE_FULL, SQLITE_IOERR, …) make SQLite roll back the whole
          // transaction: then nothing of the batch is left to commit, so fail all of it.
          if (!this.db.inTransaction) throw err;
          failed.set(q, err);
        }
      }
      fence?.assertHeld();
    });
  }

  /**
   * Opens (creating when missing) the database at `file`, and its directory. The caller must
   * hold the data-directory lock: SQLite's own locking does not keep a second scheduler out.
   */
  static open(file: string, options: SqlitePersisterOptions = {}): SqlitePersister {
    let db: Database.Database | undefined;
    try {
      if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
      db = new Database(file);
      // WAL: readers never block the writer and a commit appends to the log instead of
      // rewriting pages through a rollback journal.
      db.pragma("journal_mode = WAL");
      // Corral acts on a write once it returns (answers PutService, acknowledges a task status
      // to the cluster), so a returned multi must survive the machine going down. NORMAL skips
      // the fsync at each commit; WalSync does it instead, off the event loop, before a multi
      // returns. (A file opened by anything else than this persister gets no such fsync.)
      db.pragma(file === ":memory:" ? "synchronous = FULL" : "synchronous = NORMAL");
      // The data-directory lock makes this process the only writer, but a reader (a backup,
      // the sqlite3 shell) may briefly hold a lock during a checkpoint.
      db.pragma("busy_timeout = 5000");
      // Reads (recovery reads every node) go through a memory map instead of a read() per
      // page, and 64 MiB of page cache instead of 2 MiB keep the upper b-tree levels hot.
      db.pragma("mmap_size = 1073741824");
      db.pragma("cache_size = -65536");
      db.pragma("foreign_keys = OFF");
      const found = db.pragma("user_version", { simple: true }) as number;
      if (found > SCHEMA_VERSION) {
        throw new SchedulerError(
          "failed_precondition",
          `${file} has schema version ${found}; this Corral understands up to ${SCHEMA_VERSION}`,
        );
      }
      db.exec(`
        CREATE TABLE IF NOT EXISTS nodes (
          path    TEXT PRIMARY KEY,
          parent  TEXT NOT NULL,
          data    BLOB NOT NULL,
          version INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS nodes_parent ON nodes (parent);
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
      return new SqlitePersister(db, file, options);
    } catch (err) {
      db?.close();
      throw fromSqlite(err, `open ${file}`);
    }
  }

  async get(path: string): Promise<Versioned | undefined> {
    this.ensureOpen();
    parsePersisterPath(path);
    try {
      const row = this.stmt.get.get(path);
      const out = row && { data: toBytes(row.data), version: row.version };
      await this.seenOnDisk();
      return out;
    } catch (err) {
      throw fromSqlite(err, `get ${path}`);
    }
  }

  /** One indexed lookup per path, all in this turn (better-sqlite3 is synchronous). */
  async getMany(paths: readonly string[]): Promise<(Versioned | undefined)[]> {
    this.ensureOpen();
    paths.forEach((p) => parsePersisterPath(p));
    const out: (Versioned | undefined)[] = [];
    for (const path of paths) {
      try {
        const row = this.stmt.get.get(path);
        out.push(row && { data: toBytes(row.data), version: row.version });
      } catch (err) {
        throw fromSqlite(err, `get ${path}`);
      }
    }
    await this.seenOnDisk();
    return out;
  }

  async children(path: string): Promise<string[]> {
    this.ensureOpen();
    parsePersisterPath(path);
    try {
      const skip = path.length + 1;
      // Sorted in JS, as the memory persister does, so both agree on the order exactly.
      const names = this.stmt.children
        .all(path)
        .map((p) => p.slice(skip))
        .sort();
      await this.seenOnDisk();
      return names;
    } catch (err) {
      throw fromSqlite(err, `children ${path}`);
    }
  }

  /** Queued for the next group commit; settles once that commit is on disk. */
  multi(ops: readonly PersisterOp[]): Promise<void> {
    try {
      this.ensureOpen();
      if (this.wal?.failed) throw this.wal.failed;
    } catch (err) {
      return Promise.reject(err);
    }
    if (ops.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ ops, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flush(); // what was called before close still lands
    this.closed = true;
    await this.wal?.close();
    this.db.close();
  }

  /** Resolves once every commit a read made now may have seen is on disk. */
  private seenOnDisk(): Promise<void> {
    return this.wal ? this.wal.until(this.wal.last) : Promise.resolve();
  }

  /** After a COMMIT returned: resolves once it is on disk. */
  private onDisk(): Promise<void> {
    return this.wal ? this.wal.until(this.wal.commit()) : Promise.resolve();
  }

  /** Applies every queued multi in one transaction; each settles once it is on disk (or failed). */
  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    const refused = this.closed ? new SchedulerError("unavailable", "sqlite persister is closed") : this.wal?.failed;
    if (refused) {
      for (const q of batch) q.reject(refused);
      return;
    }
    if (batch.length === 1) {
      const q = batch[0]!;
      try {
        this.runOne(q.ops);
        this.commits++;
      } catch (err) {
        q.reject(fromSqlite(err, "multi"));
        return;
      }
      this.onDisk().then(q.resolve, q.reject);
      return;
    }
    const failed = new Map<Queued, unknown>();
    try {
      this.runBatch(batch, failed);
      this.commits++;
    } catch (err) {
      const all = fromSqlite(err, `group commit of ${batch.length} multis`);
      for (const q of batch) q.reject(failed.has(q) ? fromSqlite(failed.get(q), "multi") : all);
      return;
    }
    const onDisk = this.onDisk();
    for (const q of batch) {
      if (failed.has(q)) q.reject(fromSqlite(failed.get(q), "multi"));
      else onDisk.then(q.resolve, q.reject);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw new SchedulerError("unavailable", "sqlite persister is closed");
  }

  /** Applies one op inside the multi's transaction; throws to roll the whole multi back. */
  private apply(op: PersisterOp, what: string): void {
    const segments = parsePersisterPath(op.path);
    const path = op.path;
    switch (op.kind) {
      case "check": {
        const version = this.stmt.version.get(path);
        if (version === undefined) throw new SchedulerError("not_found", `${what}: node does not exist`);
        if (version !== op.version) throw conflict(what, op.version, version);
        return;
      }
      case "delete":
        this.stmt.deleteTree.run(path, `${path}/`, `${path}0`);
        return;
      case "create": {
        if (this.stmt.version.get(path) !== undefined) {
          throw new SchedulerError("already_exists", `${what}: node exists`);
        }
        this.insert(segments, this.checkValue(op.data, what));
        return;
      }
      case "set": {
        const version = this.stmt.version.get(path);
        if (op.version !== undefined && version === undefined) {
          throw new SchedulerError("not_found", `${what}: node does not exist`);
        }
        if (op.version !== undefined && version !== undefined && version !== op.version) {
          throw conflict(what, op.version, version);
        }
        const data = this.checkValue(op.data, what);
        if (version === undefined) this.insert(segments, data);
        else this.stmt.update.run(data, path);
        return;
      }
    }
  }

  /**
   * Inserts a node that does not exist, creating its missing ancestors empty at version 0. A
   * node exists only under existing parents, so the ancestors are looked up nearest first and
   * the first one found ends the search: usually one lookup (the parent) instead of an insert
   * attempt per level.
   */
  private insert(segments: readonly string[], data: Buffer): void {
    let depth = segments.length - 1;
    while (depth >= 1 && this.stmt.version.get(segments.slice(0, depth).join("/")) === undefined) depth--;
    for (depth++; depth < segments.length; depth++) {
      this.stmt.insertIfMissing.run(segments.slice(0, depth).join("/"), parentOf(segments, depth), EMPTY);
    }
    this.stmt.insert.run(segments.join("/"), parentOf(segments), data);
  }

  private checkValue(data: Uint8Array, what: string): Buffer {
    if (data.byteLength > this.maxValueBytes) {
      throw SchedulerError.invalid([
        {
          field: "data",
          reason: `${what}: value is ${data.byteLength} bytes, limit is ${this.maxValueBytes}`,
        },
      ]);
    }
    return toBuffer(data);
  }
}

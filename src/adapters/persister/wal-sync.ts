/**
 * Durability of the SQLite store's commits, off the event loop. The database runs in WAL mode
 * with synchronous=NORMAL, so a COMMIT writes its frames to the `-wal` file (write(2), into the
 * page cache) and returns without an fsync; this class then fsyncs that file on libuv's thread
 * pool, and a commit counts as done only once an fsync that started after it has returned. The
 * guarantee is synchronous=FULL's — a settled write survives a power cut — but the event loop is
 * not blocked for the fsync (with FULL, better-sqlite3 waits for it inside COMMIT, which kept
 * the loop busy ~40 % of the time under deploy load). Commits that land while an fsync runs are
 * covered together by the next one (group commit).
 *
 * SQLite itself fsyncs the WAL before each checkpoint and the database after it (NORMAL), and
 * never locks the `-wal` file, so holding our own descriptor of it is safe (file-lock.ts explains
 * why a descriptor of a locked file would not be). The file is the same inode for the life of
 * the connection; it is looked up again should it ever be replaced, and its directory is fsynced
 * when it is first seen, as SQLite does for a new journal.
 *
 * An fsync that fails leaves it unknown what is on disk (the kernel may have dropped the dirty
 * pages): every commit not yet confirmed fails, and so does everything after — restart.
 */
import { closeSync, fstatSync, fsync, fsyncSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { SchedulerError } from "../../domain/errors.js";

/** fs.fsync's shape; tests pass a slow or failing one. */
export type FsyncFn = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;

interface Waiter {
  readonly upTo: number;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

export class WalSync {
  /** Commits made so far (a commit's number is the count after it). */
  private committed = 0;
  private durable = 0;
  private waiters: Waiter[] = [];
  private running: Promise<void> | undefined;
  private fd: number | undefined;
  private ino = -1;
  private failure: SchedulerError | undefined;
  private closed = false;
  /** fsyncs done; for tests and benchmarks. */
  syncs = 0;

  constructor(
    private readonly walPath: string,
    private readonly fsyncFn: FsyncFn = fsync,
  ) {}

  /** Why the store may not be written any more, once an fsync failed. */
  get failed(): SchedulerError | undefined {
    return this.failure;
  }

  /** Call right after a COMMIT returned; the number to wait for with `until`. */
  commit(): number {
    return ++this.committed;
  }

  /** The number of the last commit: what a read made now may have seen. */
  get last(): number {
    return this.committed;
  }

  /** Resolves once commit `upTo` and all before it are on disk. */
  until(upTo: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (upTo <= this.durable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
      this.start();
    });
  }

  /** Waits for a running fsync, syncs what is left here and now, and lets go of the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.running) await this.running;
    this.closed = true;
    if (!this.failure && this.committed > this.durable) {
      try {
        fsyncSync(this.walFd());
        this.confirm(this.committed);
      } catch (err) {
        this.fail(err);
      }
    }
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private start(): void {
    if (this.running || this.failure || this.closed) return;
    const upTo = this.committed;
    let fd: number;
    try {
      fd = this.walFd();
    } catch (err) {
      this.fail(err);
      return;
    }
    let settled = (): void => undefined;
    this.running = new Promise<void>((resolve) => (settled = resolve));
    this.fsyncFn(fd, (err) => {
      this.running = undefined;
      this.syncs++;
      if (err) this.fail(err);
      else this.confirm(upTo);
      settled();
      if (this.waiters.length > 0) this.start();
    });
  }

  private confirm(upTo: number): void {
    this.durable = Math.max(this.durable, upTo);
    const ready = this.waiters.filter((w) => w.upTo <= this.durable);
    this.waiters = this.waiters.filter((w) => w.upTo > this.durable);
    for (const w of ready) w.resolve();
  }

  private fail(err: unknown): void {
    const why = err instanceof Error ? err.message : String(err);
    this.failure ??= new SchedulerError(
      "unavailable",
      `sqlite persister: fsync of ${this.walPath} failed (${why}): recent writes may be lost; the store takes no more writes (restart the scheduler)`,
      { cause: err },
    );
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(this.failure);
  }

  /** Our descriptor of the `-wal` file, (re)opened when missing or replaced. */
  private walFd(): number {
    const ino = statSync(this.walPath).ino;
    if (this.fd !== undefined && ino === this.ino) return this.fd;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.walPath, "r+");
    this.ino = fstatSync(this.fd).ino;
    // A new file's name must be on disk too.
    const dir = openSync(dirname(this.walPath), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    return this.fd;
  }
}

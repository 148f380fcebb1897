/**
 * The single-writer lock of a data directory: an exclusive OS-level lock on
 * `<dataDir>/corral.lock`, held for the life of the scheduler.
 *
 * Node has no flock(2), so the lock is taken through SQLite (better-sqlite3, already a
 * dependency): `corral.lock` is opened as an (empty) SQLite database with
 * `locking_mode=EXCLUSIVE` and a `BEGIN EXCLUSIVE` transaction is begun and never finished.
 * SQLite implements that with POSIX fcntl() locks on the file, which
 *   - exclude every other process (their `BEGIN EXCLUSIVE` fails at once with SQLITE_BUSY), and
 *     every other connection in this process (SQLite tracks its locks per inode);
 *   - are dropped by the kernel when the holding process dies, however it dies (SIGKILL too),
 *     so a crashed scheduler never leaves a stale lock behind.
 *
 * Replicas on a ZooKeeper store share a data directory and hold it shared instead
 * (`acquireSharedDataDirLock`: an open read transaction, a shared fcntl lock): they coexist, and
 * exclude, and are excluded by, the exclusive lock.
 *
 * The holder's pid goes to a side file, `corral.lock.pid`, only to name it in the refusal.
 * Never open `corral.lock` itself with `fs` in the holding process: closing any descriptor
 * of a file releases all of the process's fcntl locks on it.
 *
 * The lock is also the SQLite store's write fence. An fcntl lock belongs to an inode, not to a
 * name: once `corral.lock` is removed, another process creates a new one and locks it while we
 * still lock the old inode, and two schedulers would write the same store. So the lock
 * remembers its file's inode, and `assertHeld()` (called by the SQLite persister inside each
 * write transaction, before it commits: one stat(2), a few µs) finds the name still on that
 * inode; once it does not, the lock is lost for good — every later write fails "unavailable"
 * and `holds()` says false (`watch` listeners hear it; a timer looks every `recheckMs` while
 * someone listens).
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { SchedulerError } from "../domain/errors.js";
import type { Cancel, WriteFence } from "../engine/ports.js";

export const LOCK_FILE = "corral.lock";
const PID_FILE = `${LOCK_FILE}.pid`;

/** What the SQLite persister asks before each write transaction commits. */
export interface StoreWriteFence {
  /** Throws SchedulerError "unavailable" when this process may no longer write the store. */
  assertHeld(): void;
}

export interface DataDirLock extends WriteFence, StoreWriteFence {
  /** Absolute path of the lock file. */
  readonly path: string;
  /** Releases the lock (idempotent). The OS also releases it when the process exits. */
  release(): Promise<void>;
  /** Tells `listener` false once, when the lock is lost or released (it is never regained). */
  watch(listener: (holds: boolean) => void): Cancel;
}

/** How often a watched lock looks at its file when nothing writes. */
const RECHECK_MS = 1000;
/** `holds()` looks again after this long (the write itself always looks: `assertHeld`). */
const HOLDS_FRESH_MS = 100;

export interface AcquireOptions {
  /**
   * How long to keep retrying while another process holds the lock (`--wait-for-lock`).
   * @default 0 (refuse at once)
   */
  readonly waitMs?: number;
  /** Delay between retries while waiting. @default 250 */
  readonly pollMs?: number;
  /** Stops the wait: the promise rejects with `signal.reason`, holding nothing. */
  readonly signal?: AbortSignal;
}

function isBusy(err: unknown): boolean {
  return err instanceof Database.SqliteError && /^SQLITE_(BUSY|LOCKED)/.test(err.code);
}

function holderPid(pidFile: string): string {
  try {
    const text = readFileSync(pidFile, "utf8").trim();
    return /^\d+$/.test(text) ? text : "unknown";
  } catch {
    return "unknown";
  }
}

/** One attempt: the held lock, or undefined when another holder has it. */
function tryAcquire(lockPath: string, pidFile: string): DataDirLock | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(lockPath, { timeout: 0 });
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    db?.close();
    if (isBusy(err)) return undefined;
    throw new SchedulerError(
      "failed_precondition",
      `cannot lock ${lockPath}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const pid = String(process.pid);
  writeFileSync(pidFile, `${pid}\n`);
  return new HeldLock(db, lockPath, pidFile, statSync(lockPath));
}

class HeldLock implements DataDirLock {
  private released = false;
  /** Why the lock is lost (the name no longer leads to our inode), once it is. */
  private lost: string | undefined;
  private readonly listeners = new Set<(holds: boolean) => void>();
  private timer: NodeJS.Timeout | undefined;
  private lookedAt = 0;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly pidFile: string,
    private readonly inode: { readonly dev: number; readonly ino: number },
  ) {}

  /** Asked before every write by the engine's fenced writer: a stat at most every HOLDS_FRESH_MS. */
  holds(): boolean {
    if (this.released || this.lost !== undefined) return false;
    if (performance.now() - this.lookedAt < HOLDS_FRESH_MS) return true;
    return this.look() === undefined;
  }

  assertHeld(): void {
    if (this.released) throw new SchedulerError("unavailable", `the data-directory lock ${this.path} was released; not writing`);
    const lost = this.look();
    if (lost !== undefined) throw new SchedulerError("unavailable", lost);
  }

  watch(listener: (holds: boolean) => void): Cancel {
    this.listeners.add(listener);
    if (!this.timer && this.lost === undefined && !this.released) {
      this.timer = setInterval(() => this.look(), RECHECK_MS);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopTimer();
    };
  }

  async release(): Promise<void> {
    if (this.released) return;
    const held = this.lost === undefined;
    this.released = true;
    this.stopTimer();
    // Remove the pid file first, while still holding the lock, so it never names a successor.
    if (held && holderPid(this.pidFile) === String(process.pid)) rmSync(this.pidFile, { force: true });
    this.db.close(); // an open transaction is rolled back; the fcntl lock goes with the descriptor
    if (held) this.tell(false);
  }

  /** Why the lock is lost, or undefined while `path` still names our locked inode. */
  private look(): string | undefined {
    if (this.lost !== undefined || this.released) return this.lost;
    const now = statSync(this.path, { throwIfNoEntry: false });
    if (now && now.ino === this.inode.ino && now.dev === this.inode.dev) {
      this.lookedAt = performance.now();
      return undefined;
    }
    const other = holderPid(this.pidFile);
    const by = !now ? "removed" : other === String(process.pid) || other === "unknown" ? "replaced" : `replaced (now held by pid ${other})`;
    this.lost = `the data-directory lock ${this.path} was ${by}: this scheduler no longer holds it and does not write any more (restart it)`;
    this.stopTimer();
    this.tell(false);
    return this.lost;
  }

  private tell(holds: boolean): void {
    for (const listener of [...this.listeners]) listener(holds);
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * Takes the exclusive lock of `dataDir` (created when missing). Throws failed_precondition
 * "another Corral scheduler holds <path> (pid N)" when another process (or another holder in
 * this process) has it, or "… replicas … share …" when replicas hold it shared, and `waitMs` runs
 * out; with `signal.reason` once `signal` aborts.
 */
export function acquireDataDirLock(dataDir: string, options: AcquireOptions = {}): Promise<DataDirLock> {
  return retrying(dataDir, options, tryAcquire, (lockPath, pidFile) => {
    const shared = trySharedAcquire(lockPath);
    if (shared === undefined) return `another Corral scheduler holds ${lockPath} (pid ${holderPid(pidFile)})`;
    void shared.release();
    return `Corral replicas on a ZooKeeper store share ${dirname(lockPath)}; a scheduler with a store of its own needs a data directory of its own (--data-dir)`;
  });
}

/**
 * A replica's hold on a data directory it shares (ZooKeeper store, store-open.ts): any number of
 * replicas hold it at once, while no scheduler with a store of its own (SQLite, or memory on the
 * local cluster) may take the exclusive lock, nor a replica start beside such a scheduler: both
 * would drive one local agent as different frameworks. Not a fence (ZooKeeper's lock node is).
 */
export interface SharedDataDirLock {
  readonly path: string;
  /** Releases the hold (idempotent). The OS also releases it when the process exits. */
  release(): Promise<void>;
}

/**
 * Takes a shared hold on `dataDir` (created when missing): an SQLite read transaction on the lock
 * file, left open, is a shared fcntl lock that every `BEGIN EXCLUSIVE` of `tryAcquire` is refused
 * by, and that fails while one is held. Throws failed_precondition naming the exclusive holder.
 */
export function acquireSharedDataDirLock(dataDir: string, options: AcquireOptions = {}): Promise<SharedDataDirLock> {
  return retrying(dataDir, options, trySharedAcquire, (lockPath, pidFile) =>
    `a Corral scheduler with a store of its own holds ${lockPath} (pid ${holderPid(pidFile)}); replicas on a ZooKeeper store need a data directory it does not use (--data-dir)`,
  );
}

function trySharedAcquire(lockPath: string): SharedDataDirLock | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(lockPath, { timeout: 0 });
    db.exec("BEGIN");
    db.prepare("SELECT count(*) FROM sqlite_master").get();
  } catch (err) {
    db?.close();
    if (isBusy(err)) return undefined;
    throw new SchedulerError("failed_precondition", `cannot lock ${lockPath}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const held = db;
  return {
    path: lockPath,
    release: async () => {
      if (held.open) held.close(); // the open transaction is rolled back; the shared lock goes with it
    },
  };
}

/** One attempt after another until `attempt` holds or `waitMs` runs out (then `refusal` says why). */
async function retrying<L>(
  dataDir: string,
  options: AcquireOptions,
  attempt: (lockPath: string, pidFile: string) => L | undefined,
  refusal: (lockPath: string, pidFile: string) => string,
): Promise<L> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, LOCK_FILE);
  const pidFile = join(dir, PID_FILE);
  const deadline = Date.now() + (options.waitMs ?? 0);
  const pollMs = options.pollMs ?? 250;
  const { signal } = options;
  for (;;) {
    signal?.throwIfAborted();
    const lock = attempt(lockPath, pidFile);
    if (lock) return lock;
    if (Date.now() >= deadline) throw new SchedulerError("failed_precondition", refusal(lockPath, pidFile));
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
  }
}

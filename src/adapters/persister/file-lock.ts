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
 * The holder's pid goes to a side file, `corral.lock.pid`, only to name it in the refusal.
 * Never open `corral.lock` itself with `fs` in the holding process: closing any descriptor
 * of a file releases all of the process's fcntl locks on it.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import { SchedulerError } from "../../domain/errors.js";

export const LOCK_FILE = "corral.lock";
const PID_FILE = `${LOCK_FILE}.pid`;

export interface DataDirLock {
  /** Absolute path of the lock file. */
  readonly path: string;
  /** Releases the lock (idempotent). The OS also releases it when the process exits. */
  release(): Promise<void>;
}

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
  const held = db;
  const pid = String(process.pid);
  writeFileSync(pidFile, `${pid}\n`);
  let released = false;
  return {
    path: lockPath,
    release: async () => {
      if (released) return;
      released = true;
      // Remove the pid file first, while still holding the lock, so it never names a successor.
      if (holderPid(pidFile) === pid) rmSync(pidFile, { force: true });
      held.close(); // an open transaction is rolled back; the fcntl lock goes with the descriptor
    },
  };
}

/**
 * Takes the exclusive lock of `dataDir` (created when missing). Throws failed_precondition
 * "another Corral scheduler holds <path> (pid N)" when another process (or another holder in
 * this process) has it and `waitMs` runs out; with `signal.reason` once `signal` aborts.
 */
export async function acquireDataDirLock(
  dataDir: string,
  options: AcquireOptions = {},
): Promise<DataDirLock> {
  const dir = resolve(dataDir);
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, LOCK_FILE);
  const pidFile = join(dir, PID_FILE);
  const deadline = Date.now() + (options.waitMs ?? 0);
  const pollMs = options.pollMs ?? 250;
  const { signal } = options;
  for (;;) {
    signal?.throwIfAborted();
    const lock = tryAcquire(lockPath, pidFile);
    if (lock) return lock;
    if (Date.now() >= deadline) {
      throw new SchedulerError(
        "failed_precondition",
        `another Corral scheduler holds ${lockPath} (pid ${holderPid(pidFile)})`,
      );
    }
    await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
  }
}

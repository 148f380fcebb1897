/**
 * The engine's only seams. Adapters implement these; tests plug in the simulated cluster,
 * the memory persister and a fake clock.
 */
import type { Filters, Offer, Operation, TaskStatus } from "../domain/cluster.js";

// ---------------------------------------------------------------------------------------------
// Persister: a hierarchical key/value store (ZooKeeper-shaped). Paths are "/"-separated and
// relative to the scheduler's root, e.g. "ServiceList/test1/Context". No leading slash.

/** A stored value and its version (0 after create, +1 on every set). */
export interface Versioned {
  readonly data: Uint8Array;
  readonly version: number;
}

/** One operation of an atomic multi-operation. */
export type PersisterOp =
  /** Create or overwrite; parents are created as needed. With `version`, the node must exist at it. */
  | { readonly kind: "set"; readonly path: string; readonly data: Uint8Array; readonly version?: number }
  /** Create; fails with already_exists when the node exists. Parents are created as needed. */
  | { readonly kind: "create"; readonly path: string; readonly data: Uint8Array }
  /** Delete the node and everything below it; a missing node is not an error. */
  | { readonly kind: "delete"; readonly path: string }
  /** Abort the whole multi unless the node exists at `version`. */
  | { readonly kind: "check"; readonly path: string; readonly version: number };

/**
 * Durable state. Errors are SchedulerErrors: not_found, already_exists, aborted (version
 * conflict), unavailable (store unreachable), invalid_argument (value too large).
 */
export interface Persister {
  /** The value at `path`, or undefined when there is none. */
  get(path: string): Promise<Versioned | undefined>;
  /**
   * The values at `paths`, in input order; undefined for a missing node (never an error for
   * one). Any number of paths: a remote store splits them into bounded requests (ZooKeeper: a
   * multiRead per ≤ 128 paths), which is what makes recovery cheap there. Optional: use
   * `getMany` from `store/read-many.ts`, which falls back to one `get` per path.
   */
  getMany?(paths: readonly string[]): Promise<(Versioned | undefined)[]>;
  /** Names of the direct children of `path`, sorted; [] when the node is missing. */
  children(path: string): Promise<string[]>;
  /** Applies every op or none. */
  multi(ops: readonly PersisterOp[]): Promise<void>;
  /**
   * The largest multi this store takes at once, counted as store/tree.ts `opBytes` does (a fixed
   * overhead per op, the path's and value's UTF-8 bytes); absent: no limit.
   */
  readonly maxMultiBytes?: number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// ClusterDriver: the Mesos v1 scheduler API as a port (mesos-v1-api.md §6, §7).

/** What the cluster tells the scheduler. Handlers only enqueue; they never re-enter the driver synchronously. */
export interface ClusterEvents {
  subscribed(frameworkId: string): void;
  offers(offers: readonly Offer[]): void;
  rescind(offerId: string): void;
  /** Must be acknowledged with `acknowledge` once persisted when `status.uuid` is set. */
  update(status: TaskStatus): void;
  /** The subscription was lost; the driver resubscribes by itself. */
  disconnected(reason: string): void;
  /**
   * The cluster will not serve this framework any more: it was removed (torn down, or failed
   * over past its timeout) or another scheduler took over its framework ID. The driver stops
   * resubscribing; the scheduler must stop, because registering anew would orphan the
   * framework's reservations. Optional for drivers that cannot lose a framework.
   */
  fatal?(message: string): void;
}

export interface FrameworkInfo {
  readonly name: string;
  readonly role: string;
  readonly principal: string;
  /** Set when re-registering after a scheduler restart. */
  readonly frameworkId?: string;
  readonly failoverTimeoutS: number;
}

export interface ClusterDriver {
  subscribe(framework: FrameworkInfo, events: ClusterEvents): Promise<void>;
  accept(offerIds: readonly string[], operations: readonly Operation[], filters?: Filters): Promise<void>;
  decline(offerIds: readonly string[], filters?: Filters): Promise<void>;
  kill(taskId: string, agentId?: string): Promise<void>;
  acknowledge(agentId: string, taskId: string, uuid: string): Promise<void>;
  /** Explicit reconciliation of the given tasks; empty = implicit (all tasks). */
  reconcile(tasks: readonly { taskId: string; agentId?: string }[]): Promise<void>;
  revive(): Promise<void>;
  suppress(): Promise<void>;
  /** Removes the framework from the cluster: all its tasks are killed. */
  teardown(): Promise<void>;
  close(): Promise<void>;
  /** Optional: the task files its agents serve (ListTasks' pid and sandbox, TaskLog). */
  readonly taskFiles?: TaskFiles;
}

// ---------------------------------------------------------------------------------------------
// TaskFiles: a task's sandbox and output files, shaped like what a Mesos agent serves (the
// executor directory from the agent's state, `/files/read?path=…&offset=…&length=…`). A driver
// that cannot serve files leaves `ClusterDriver.taskFiles` unset.
//
// Callers pass only task IDs taken from the scheduler's own task records; the driver accepts
// only a task ID it knows, resolves the sandbox path itself, and never follows a path out of it.

/** The two output files of a task's sandbox. */
export type TaskFileName = "stdout" | "stderr";

/** Where a task runs on its agent. */
export interface TaskSandbox {
  /** The sandbox (Mesos: the executor directory), absolute on the agent. */
  readonly path: string;
  /** The task's process id on its agent, while it runs and is known. */
  readonly pid?: number;
  /** The task has ended: its files no longer grow. */
  readonly ended: boolean;
}

/** Bytes of a task file. */
export interface FileChunk {
  /** At most the `length` asked for; empty at or past the end of the file. */
  readonly data: Uint8Array;
  /** The file offset of `data[0]`. */
  readonly offset: number;
  /** The file's size when it was read, in bytes (0 when the task has not created it yet). */
  readonly size: number;
}

export interface TaskFiles {
  /** The task's sandbox, or undefined for a task ID the cluster does not know or whose sandbox is gone. */
  sandboxOf(taskId: string, agentId: string): Promise<TaskSandbox | undefined>;
  /**
   * Up to `length` bytes of `file` from `offset` (both ≥ 0, safe integers), or undefined when the
   * task is unknown or its sandbox is gone. Throws failed_precondition for a file that is not a
   * regular file (a symlink, a FIFO).
   */
  readFile(taskId: string, agentId: string, file: TaskFileName, offset: number, length: number): Promise<FileChunk | undefined>;
}

// ---------------------------------------------------------------------------------------------
// Clock and randomness are inputs so engine tests run without real time.

export type Cancel = () => void;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` once after `delayMs`. */
  setTimer(delayMs: number, fn: () => void): Cancel;
}

export interface Random {
  /** An RFC 4122 v4 UUID string. */
  uuid(): string;
}

/** The subset of pino's Logger the engine uses. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

// ---------------------------------------------------------------------------------------------
// WriteFence: whether this scheduler may act. A scheduler that lost its store lock (its
// ZooKeeper session) must not accept offers, acknowledge updates or write, because another
// scheduler may hold the lock by now.

export interface WriteFence {
  holds(): boolean;
  /**
   * Tells `listener` each time `holds()` changes. After the lock was lost and is held again,
   * another scheduler may have written meanwhile: the engine reloads its state from the store
   * instead of resuming with what it remembers. Optional: a fence that never changes needs none.
   */
  watch?(listener: (holds: boolean) => void): Cancel;
}

// ---------------------------------------------------------------------------------------------
// SecretStore: named secrets that tasks reference (`secrets.<k>.secret`). Values go to the agent
// that resolves them and to no log, no status and no GetService answer.

export interface SecretEntry {
  readonly name: string;
  readonly sizeBytes: number;
  /** Epoch milliseconds of the last put. */
  readonly updatedMs: number;
}

export interface SecretStore {
  /** Creates or replaces. @throws SchedulerError invalid_argument for a bad name or value. */
  put(name: string, value: Uint8Array): Promise<void>;
  /** Names and sizes, sorted by name; never values. */
  list(): Promise<readonly SecretEntry[]>;
  /** @returns whether it existed. */
  delete(name: string): Promise<boolean>;
}

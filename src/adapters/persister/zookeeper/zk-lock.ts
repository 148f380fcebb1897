/**
 * The single-writer lock on a scheduler's ZooKeeper root (the reference's Curator mutex at
 * `<root>/lock`), which is also the replicas' leader election: an EPHEMERAL_SEQUENTIAL `lock-`
 * node; the lowest sequence holds the lock (leads). The node dies with the session, so a crashed
 * holder frees the lock after its session timeout.
 *
 * A waiter watches only its immediate predecessor (no herd: a holder's end wakes one waiter),
 * and re-checks the children when that node changes. The node's data names its holder:
 * JSON {pid, host, address}, `address` being where clients reach it (a standby's `corral-leader`).
 */
import { hostname } from "node:os";
import { SchedulerError } from "../../../domain/errors.js";
import type { ZkCalls } from "./calls.js";
import type { ZooKeeperPersister } from "./zookeeper-persister.js";

export interface ZkLockOptions {
  /** How long to wait for the current holder to go. @default 0 (refuse at once) */
  readonly waitMs?: number;
  /**
   * While waiting, the children are read again this often even without a watch event: a watch
   * set on a client the session then replaced never fires. @default 5000
   */
  readonly pollMs?: number;
  /** Stops the wait: our node is removed and the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** "host:port" clients reach this scheduler at, stored in the node's data. */
  readonly address?: string;
  /** Told the holder each time a waiter reads the line (the holder may have changed). */
  readonly onHolder?: (holder: LockHolder | undefined) => void;
}

/** Who holds the lock, from its node's data (fields absent when a holder did not write them). */
export interface LockHolder {
  readonly node: string;
  readonly pid?: number;
  readonly host?: string;
  readonly address?: string;
}

export interface ZkLock {
  /** Absolute path of our lock node. */
  readonly node: string;
  release(): Promise<void>;
}

/** `<root>/lock`. */
export function lockDir(root: string): string {
  return `${root === "/" ? "" : root}/lock`;
}

export async function acquireZkLock(store: ZooKeeperPersister, options: ZkLockOptions = {}): Promise<ZkLock> {
  const { signal } = options;
  signal?.throwIfAborted();
  const calls = store.zkSession.calls;
  const dir = lockDir(store.root);
  await calls.mkdirp(dir);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), ...(options.address !== undefined ? { address: options.address } : {}) });
  const node = await calls.createEphemeralSequential(`${dir}/lock-`, Buffer.from(me));
  const mine = node.slice(dir.length + 1);
  const deadline = Date.now() + (options.waitMs ?? 0);
  const watch = new PredecessorWatch();
  try {
    for (;;) {
      const line = await lockLine(calls, dir);
      const at = line.indexOf(mine);
      // Our session ended while we waited (the node went with it): this place in line is lost.
      if (at < 0) throw new SchedulerError("unavailable", `our zookeeper lock node ${node} is gone (the session ended)`);
      if (at === 0) return { node, release: () => calls.remove(node) };
      const holder = await readHolder(calls, dir, line[0]!);
      options.onHolder?.(holder);
      signal?.throwIfAborted();
      if (Date.now() >= deadline) {
        const who = holder ? JSON.stringify({ pid: holder.pid, host: holder.host, address: holder.address }) : "unknown";
        throw new SchedulerError("failed_precondition", `another Corral scheduler holds ${dir} (${who})`);
      }
      await watch.gone(calls, `${dir}/${line[at - 1]!}`, Math.min(options.pollMs ?? 5000, deadline - Date.now()), signal);
    }
  } catch (err) {
    // Else it goes with the session, which may outlive us for long (an offline command's refusal).
    await calls.remove(node).catch(() => undefined);
    throw err;
  }
}

/** The lock's line: node names in sequence order (suffixes are zero-padded, so name order is creation order). */
export async function lockLine(calls: ZkCalls, dir: string): Promise<string[]> {
  return (await calls.getChildren(dir)).filter((c) => c.startsWith("lock-")).sort();
}

/** The current holder (the lowest node) and what its data says, or undefined when none holds. */
export async function currentHolder(store: ZooKeeperPersister): Promise<LockHolder | undefined> {
  const calls = store.zkSession.calls;
  const dir = lockDir(store.root);
  for (let attempt = 0; attempt < 3; attempt++) {
    const [first] = await lockLine(calls, dir);
    if (first === undefined) return undefined;
    const holder = await readHolder(calls, dir, first);
    if (holder) return holder; // else it went between the two reads: read the line again
  }
  return undefined;
}

async function readHolder(calls: ZkCalls, dir: string, name: string): Promise<LockHolder | undefined> {
  const got = await calls.getData(`${dir}/${name}`);
  if (!got) return undefined;
  const node = `${dir}/${name}`;
  try {
    const data = JSON.parse(got.data.toString()) as { pid?: unknown; host?: unknown; address?: unknown };
    return {
      node,
      ...(typeof data.pid === "number" ? { pid: data.pid } : {}),
      ...(typeof data.host === "string" ? { host: data.host } : {}),
      ...(typeof data.address === "string" ? { address: data.address } : {}),
    };
  } catch {
    return { node }; // not ours to read: still a holder
  }
}

/**
 * The exists-watch on our predecessor. One watcher function per predecessor until it fires:
 * upstream keeps each registered function until its event (and de-duplicates the same function
 * per path), so a fresh function per fallback re-check would pile up on a long wait.
 */
class PredecessorWatch {
  private path: string | undefined;
  private fired = true;
  private wake = (): void => undefined;
  private woken: Promise<void> = Promise.resolve();
  private readonly watcher = (): void => {
    this.fired = true;
    this.wake();
  };

  /**
   * Resolves when `predecessor` is gone or changed (its watch fired), after `maxMs` (the
   * fallback re-check), or when `signal` aborts (the caller then throws its reason).
   */
  async gone(calls: ZkCalls, predecessor: string, maxMs: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.fired || this.path !== predecessor) {
      this.path = predecessor;
      this.fired = false;
      this.woken = new Promise<void>((resolve) => (this.wake = resolve));
    }
    const stat = await calls.watchExists(predecessor, this.watcher);
    if (stat === null) return; // gone before the watch was set: read the line again
    if (signal?.aborted === true) return; // aborted meanwhile: a listener added now would never fire
    let timer: NodeJS.Timeout | undefined;
    let stop = (): void => undefined;
    const aborted = new Promise<void>((resolve) => (stop = resolve));
    signal?.addEventListener("abort", stop, { once: true });
    try {
      await Promise.race([this.woken, aborted, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(1, maxMs))))]);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
    }
  }
}

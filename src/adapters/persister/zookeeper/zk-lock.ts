/**
 * The single-writer lock on a scheduler's ZooKeeper root (the reference's Curator mutex at
 * `<root>/lock`): an EPHEMERAL_SEQUENTIAL `lock-` node; the lowest sequence holds the lock. The
 * node dies with the session, so a crashed holder frees the lock after its session timeout.
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { SchedulerError } from "../../../domain/errors.js";
import type { ZooKeeperPersister } from "./zookeeper-persister.js";

export interface ZkLockOptions {
  /** How long to wait for the current holder to go. @default 0 (refuse at once) */
  readonly waitMs?: number;
  /** @default 200 */
  readonly pollMs?: number;
  /** Stops the wait: our node is removed and the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

export interface ZkLock {
  /** Absolute path of our lock node. */
  readonly node: string;
  release(): Promise<void>;
}

export async function acquireZkLock(store: ZooKeeperPersister, options: ZkLockOptions = {}): Promise<ZkLock> {
  const { signal } = options;
  signal?.throwIfAborted();
  const calls = store.zkSession.calls;
  const dir = `${store.root === "/" ? "" : store.root}/lock`;
  await calls.mkdirp(dir);
  const me = JSON.stringify({ pid: process.pid, host: hostname() });
  const node = await calls.createEphemeralSequential(`${dir}/lock-`, Buffer.from(me));
  const mine = node.slice(dir.length + 1);
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    // Sequence suffixes are zero-padded, so name order is creation order.
    const [first] = (await calls.getChildren(dir)).sort();
    if (first === mine) return { node, release: () => calls.remove(node) };
    if (signal?.aborted) {
      await calls.remove(node).catch(() => undefined); // else it goes with the session
      signal.throwIfAborted();
    }
    if (Date.now() >= deadline) {
      await calls.remove(node);
      const holder = first === undefined ? undefined : await calls.getData(`${dir}/${first}`);
      const who = holder ? holder.data.toString() : "unknown";
      throw new SchedulerError("failed_precondition", `another Corral scheduler holds ${dir} (${who})`);
    }
    await sleep(options.pollMs ?? 200, undefined, { signal }).catch(() => undefined);
  }
}

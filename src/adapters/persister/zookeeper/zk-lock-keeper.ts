/**
 * Holds the single-writer lock across ZooKeeper trouble and answers "may we act?". A lost
 * connection or a missed liveness probe fences the scheduler at once (another scheduler may get
 * the lock once our session expires); a new session re-acquires the lock, waiting behind any
 * scheduler that took it meanwhile.
 */
import type { Logger, WriteFence } from "../../../engine/ports.js";
import type { ZkSessionEvent } from "./session.js";
import type { ZkLock, ZkLockOptions } from "./zk-lock.js";
import { acquireZkLock } from "./zk-lock.js";
import type { ZooKeeperPersister } from "./zookeeper-persister.js";

export class ZkLockKeeper implements WriteFence {
  private lock: ZkLock | undefined;
  private held = false;
  private regaining = false;
  private closed = false;

  private constructor(
    private readonly store: ZooKeeperPersister,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  /** Takes the lock now (refusing or waiting per `options`); then keeps it. */
  static async acquire(store: ZooKeeperPersister, log: Logger, options: ZkLockOptions = {}): Promise<ZkLockKeeper> {
    const keeper = new ZkLockKeeper(store, log, options.pollMs ?? 200);
    keeper.lock = await acquireZkLock(store, options);
    keeper.held = true;
    return keeper;
  }

  holds(): boolean {
    return this.held && !this.closed;
  }

  /** Feed the store's session events here. */
  onSessionEvent(event: ZkSessionEvent): void {
    if (event.kind === "session") {
      void this.regain();
      return;
    }
    if (this.held) this.log.warn({ event }, "zookeeper trouble: fencing until the lock is held again");
    this.held = false;
  }

  private async regain(): Promise<void> {
    if (this.regaining || this.closed || this.held) return;
    this.regaining = true;
    try {
      const calls = this.store.zkSession.calls;
      // After a short cut the session (and our ephemeral node) survived; after expiry it did not.
      const alive = this.lock !== undefined && (await calls.exists(this.lock.node)) !== null;
      if (!alive) this.lock = await acquireZkLock(this.store, { waitMs: Number.POSITIVE_INFINITY, pollMs: this.pollMs });
      if (!this.closed) {
        this.held = true;
        this.log.info({ node: this.lock?.node }, "zookeeper lock held again");
      }
    } catch (err) {
      this.log.warn({ err }, "could not re-acquire the zookeeper lock; will retry on the next session");
    } finally {
      this.regaining = false;
    }
  }

  async release(): Promise<void> {
    this.closed = true;
    this.held = false;
    await this.lock?.release().catch(() => undefined);
  }
}

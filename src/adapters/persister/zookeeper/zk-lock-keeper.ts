/**
 * Holds the single-writer lock across ZooKeeper trouble and answers "may we act?". A lost
 * connection or a missed liveness probe fences the scheduler at once (another scheduler may get
 * the lock once our session expires); a new session re-acquires the lock, waiting behind any
 * scheduler that took it meanwhile.
 *
 * It also guards the persister's writes (`ZooKeeperPersister.guardWrites`): every multi checks
 * the lock node held when it was called, so a write of a deposed scheduler fails on the server.
 */
import type { Cancel, Logger, WriteFence } from "../../../engine/ports.js";
import type { ZkSessionEvent } from "./session.js";
import type { ZkLock, ZkLockOptions } from "./zk-lock.js";
import { acquireZkLock } from "./zk-lock.js";
import type { ZkWriteGuard, ZooKeeperPersister } from "./zookeeper-persister.js";

export class ZkLockKeeper implements WriteFence, ZkWriteGuard {
  private lock: ZkLock | undefined;
  private held = false;
  private regaining = false;
  private closed = false;
  /** Stops a re-acquire still waiting in line when the keeper is released. */
  private readonly stopping = new AbortController();
  private readonly listeners = new Set<(holds: boolean) => void>();

  private constructor(
    private readonly store: ZooKeeperPersister,
    private readonly log: Logger,
    private readonly pollMs: number,
  ) {}

  /** Takes the lock now (refusing or waiting per `options`); then keeps it and guards the store's writes. */
  static async acquire(store: ZooKeeperPersister, log: Logger, options: ZkLockOptions = {}): Promise<ZkLockKeeper> {
    const keeper = new ZkLockKeeper(store, log, options.pollMs ?? 200);
    keeper.lock = await acquireZkLock(store, options);
    keeper.held = true;
    store.guardWrites(keeper);
    return keeper;
  }

  holds(): boolean {
    return this.held && !this.closed;
  }

  watch(listener: (holds: boolean) => void): Cancel {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  lockNode(): string | undefined {
    return this.holds() ? this.lock?.node : undefined;
  }

  lockLost(node: string): void {
    if (this.lock?.node !== node) return;
    this.log.warn({ node }, "our zookeeper lock node is gone: fencing until the lock is held again");
    this.lock = undefined;
    this.setHeld(false);
    // The session may be fine (the node was deleted under us): take a place in line again.
    void this.regain();
  }

  /** Feed the store's session events here. */
  onSessionEvent(event: ZkSessionEvent): void {
    if (event.kind === "session") {
      void this.regain();
      return;
    }
    if (this.held) this.log.warn({ event }, "zookeeper trouble: fencing until the lock is held again");
    this.setHeld(false);
  }

  private async regain(): Promise<void> {
    if (this.regaining || this.closed || this.held) return;
    this.regaining = true;
    try {
      const calls = this.store.zkSession.calls;
      // After a short cut the session (and our ephemeral node) survived; after expiry it did not.
      const alive = this.lock !== undefined && (await calls.exists(this.lock.node)) !== null;
      if (!alive) this.lock = await acquireZkLock(this.store, {
          waitMs: Number.POSITIVE_INFINITY,
          pollMs: this.pollMs,
          signal: this.stopping.signal,
        });
      if (!this.closed) {
        this.setHeld(true);
        this.log.info({ node: this.lock?.node }, "zookeeper lock held again");
      }
    } catch (err) {
      if (this.closed) return;
      this.log.warn({ err }, "could not re-acquire the zookeeper lock; will retry on the next session");
    } finally {
      this.regaining = false;
    }
  }

  async release(): Promise<void> {
    this.setHeld(false);
    this.closed = true;
    this.stopping.abort(new Error("the zookeeper lock keeper was released"));
    await this.lock?.release().catch(() => undefined);
  }

  private setHeld(held: boolean): void {
    const before = this.holds();
    this.held = held;
    const now = this.holds();
    if (now === before) return;
    for (const listener of [...this.listeners]) {
      try {
        listener(now);
      } catch (err) {
        this.log.error({ err }, "a write-fence listener threw");
      }
    }
  }
}

/**
 * Holds the single-writer lock across ZooKeeper trouble and answers "may we act?". A lost
 * connection or a missed liveness probe fences the scheduler at once (another scheduler may get
 * the lock once our session expires); a new session re-acquires the lock, waiting behind any
 * scheduler that took it meanwhile.
 *
 * Two ways in: `acquire` takes the lock now (refusing or waiting, for a lone scheduler and the
 * offline store commands); `campaign` joins the line and returns at once (a replica: it stands by
 * until it leads, and after any loss joins the line again with a new node, behind the others).
 *
 * It also guards the persister's writes (`ZooKeeperPersister.guardWrites`): every multi checks
 * the lock node held when it was called, so a write of a deposed scheduler fails on the server.
 */
import type { Cancel, Logger, WriteFence } from "../../../engine/ports.js";
import type { ZkSessionEvent } from "./session.js";
import type { LockHolder, ZkLock, ZkLockOptions } from "./zk-lock.js";
import { acquireZkLock, currentHolder, lockDir, lockLine } from "./zk-lock.js";
import type { ZkWriteGuard, ZooKeeperPersister } from "./zookeeper-persister.js";

/** How long a standby's idea of the leader's address is used before it is read again. */
const LEADER_CACHE_MS = 1000;
/** Pause before a replica tries again to join the line after a failed try. */
const REJOIN_RETRY_MS = 500;

export interface ZkCampaignOptions {
  /** "host:port" clients reach this replica at (stored in its lock node). */
  readonly address: string;
  /** The fallback re-check while waiting (zk-lock.ts). @default 5000 */
  readonly pollMs?: number;
}

export class ZkLockKeeper implements WriteFence, ZkWriteGuard {
  private lock: ZkLock | undefined;
  private held = false;
  private regaining = false;
  private closed = false;
  /** Stops a re-acquire still waiting in line when the keeper is released. */
  private readonly stopping = new AbortController();
  /** A replica's current try to get in line; aborted when its session is replaced under it. */
  private attempt: AbortController | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<(holds: boolean) => void>();
  private holder: { address: string | undefined; readAt: number } = { address: undefined, readAt: 0 };
  private readingHolder = false;
  /** The session's client generation (session.ts), as last told, and the one our lock node was made in. */
  private generation = 0;
  private lockGeneration = 0;
  private markFirstTurn = (): void => undefined;
  /** Settles once a replica's first try has either taken the lock or found its place behind a holder (or failed). */
  readonly firstTurn = new Promise<void>((resolve) => (this.markFirstTurn = resolve));

  private constructor(
    private readonly store: ZooKeeperPersister,
    private readonly log: Logger,
    private readonly pollMs: number | undefined,
    /** Set for a replica (campaign). */
    private readonly address: string | undefined,
  ) {}

  /** Takes the lock now (refusing or waiting per `options`); then keeps it and guards the store's writes. */
  static async acquire(store: ZooKeeperPersister, log: Logger, options: ZkLockOptions = {}): Promise<ZkLockKeeper> {
    const keeper = new ZkLockKeeper(store, log, options.pollMs, options.address);
    keeper.lock = await acquireZkLock(store, options);
    keeper.held = true;
    store.guardWrites(keeper);
    return keeper;
  }

  /**
   * Joins the election and returns at once: `holds()` turns true (and `watch` listeners hear it)
   * when this replica leads; until then, and after any loss until it leads again, it stands by.
   */
  static campaign(store: ZooKeeperPersister, log: Logger, options: ZkCampaignOptions): ZkLockKeeper {
    const keeper = new ZkLockKeeper(store, log, options.pollMs, options.address);
    store.guardWrites(keeper);
    void keeper.regain();
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

  /**
   * The leader's "host:port" as far as this replica knows (its own while it leads); undefined
   * while none is known. Read again in the background when older than a second.
   */
  leader(): string | undefined {
    if (this.holds()) return this.address;
    if (Date.now() - this.holder.readAt > LEADER_CACHE_MS) void this.readLeader();
    return this.holder.address;
  }

  /** Reads the leader's address now (a standby's "standing by" line names it). */
  async readLeader(): Promise<string | undefined> {
    if (this.holds()) return this.address;
    if (this.readingHolder) return this.holder.address;
    this.readingHolder = true;
    try {
      this.noteHolder(await currentHolder(this.store));
    } catch {
      // the store is unreachable: keep what we knew
    } finally {
      this.readingHolder = false;
    }
    return this.holder.address;
  }

  lockLost(node: string): void {
    if (this.closed || this.lock?.node !== node) return;
    this.log.warn({ node }, "our zookeeper lock node is gone: fencing until the lock is held again");
    this.lock = undefined;
    this.setHeld(false, `lock node ${node} is gone`);
    // The session may be fine (the node was deleted under us): take a place in line again.
    void this.regain();
  }

  /** Feed the store's session events here. */
  onSessionEvent(event: ZkSessionEvent): void {
    if (event.kind === "session") {
      this.generation = event.generation;
      // A replica's try in flight may be waiting on a watch of the replaced client: start over.
      this.attempt?.abort(new Error("a new zookeeper session"));
      void this.regain();
      return;
    }
    if (this.held) this.log.warn({ event }, "zookeeper trouble: fencing until the lock is held again");
    this.setHeld(false, event.kind === "unavailable" ? event.reason : "zookeeper connection lost");
  }

  private async regain(): Promise<void> {
    if (this.regaining || this.closed || this.held) return;
    this.regaining = true;
    const attempt = new AbortController();
    this.attempt = attempt;
    let retry = false;
    try {
      const calls = this.store.zkSession.calls;
      const replica = this.address !== undefined;
      // A node that survived a short cut (same session) keeps its place: nobody led meanwhile,
      // since it stayed the lowest. A node of a replaced client is dropped (its session is dead
      // to us; deleting it frees the line before that session expires) and a new one queues.
      let alive = false;
      if (this.lock) {
        alive = this.lockGeneration === this.generation && (await calls.exists(this.lock.node)) !== null;
        if (!alive) {
          const old = this.lock;
          this.lock = undefined;
          await old.release().catch(() => undefined);
        }
      }
      const generation = this.generation;
      if (!alive) {
        this.lock = await acquireZkLock(this.store, {
          waitMs: Number.POSITIVE_INFINITY,
          ...(this.pollMs !== undefined ? { pollMs: this.pollMs } : {}),
          signal: AbortSignal.any([this.stopping.signal, attempt.signal]),
          ...(replica ? { address: this.address, onHolder: (h) => { this.noteHolder(h); this.markFirstTurn(); } } : {}),
        });
        // Made in a session replaced while we waited (a watch or read of the old client said
        // "lowest"): that node is no place in line. Drop it and queue again.
        if (attempt.signal.aborted || this.generation !== generation) {
          const stale = this.lock;
          this.lock = undefined;
          await stale.release().catch(() => undefined);
          throw new Error("the zookeeper session was replaced while we queued");
        }
        this.lockGeneration = generation;
      }
      if (!this.closed) {
        this.setHeld(true);
        this.log.info({ node: this.lock?.node }, "zookeeper lock held");
        if (replica && this.lock) void this.watchOwnNode(this.lock.node);
      }
    } catch (err) {
      if (this.closed) return;
      // A replica keeps trying; so does any keeper whose wait a new session cut short.
      if (this.address !== undefined || attempt.signal.aborted) retry = true;
      else this.log.warn({ err }, "could not re-acquire the zookeeper lock; will retry on the next session");
    } finally {
      this.markFirstTurn();
      this.regaining = false;
      if (this.attempt === attempt) this.attempt = undefined;
    }
    // Try again to get in line (a new session aborts the wait and starts over).
    if (retry && !this.closed && !this.held) {
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => void this.regain(), REJOIN_RETRY_MS);
    }
  }

  /**
   * Gives the lead up (this replica could not start leading): its node goes, so the next in
   * line leads, and it queues again after `pauseMs` (alone, it then leads again).
   */
  stepAside(reason: string, pauseMs: number): void {
    const lock = this.lock;
    if (!this.holds() || !lock || this.address === undefined) return;
    this.lock = undefined;
    this.setHeld(false, reason);
    void lock.release().catch(() => undefined);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.regain(), pauseMs);
  }

  /**
   * Reads the line again, now, through the current session: true while our node exists, is the
   * lowest, and was made in this session. Otherwise our lead was a stale view: we stop leading
   * (listeners hear it) and queue again. A replica checks this right before it subscribes.
   */
  async confirmLead(): Promise<boolean> {
    const lock = this.lock;
    if (!this.holds() || !lock) return false;
    const dir = lockDir(this.store.root);
    const generation = this.generation;
    const line = await lockLine(this.store.zkSession.calls, dir);
    const name = lock.node.slice(dir.length + 1);
    if (this.lockGeneration === generation && this.generation === generation && line[0] === name) return this.holds() && this.lock === lock;
    if (this.lock !== lock || !this.holds()) return false; // lost meanwhile: already told
    const why = !line.includes(name) ? `lock node ${lock.node} is gone` : line[0] !== name ? `lock node ${lock.node} is not the lowest (${line[0]} is)` : `lock node ${lock.node} is of a replaced session`;
    this.log.warn({ node: lock.node, line: line.slice(0, 3) }, `not leading after all: ${why}`);
    this.lock = undefined;
    this.setHeld(false, why);
    await lock.release().catch(() => undefined);
    void this.regain();
    return false;
  }

  /**
   * A leader learns at once that its node was deleted (by an operator, or a session that ended
   * under it), not only at its next write: a watch on its own node.
   */
  private async watchOwnNode(node: string): Promise<void> {
    try {
      const stat = await this.store.zkSession.calls.watchExists(node, () => void this.watchOwnNode(node));
      if (stat === null) this.lockLost(node);
    } catch {
      // the session is in trouble: its events fence us
    }
  }

  async release(): Promise<void> {
    this.setHeld(false, "released");
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stopping.abort(new Error("the zookeeper lock keeper was released"));
    this.markFirstTurn();
    await this.lock?.release().catch(() => undefined);
  }

  private noteHolder(holder: LockHolder | undefined): void {
    this.holder = { address: holder?.address, readAt: Date.now() };
  }

  /** Why the lock was lost last (for the "stepped down" line). */
  lastLoss: string | undefined;

  private setHeld(held: boolean, why?: string): void {
    const before = this.holds();
    this.held = held;
    const now = this.holds();
    if (now === before) return;
    if (!now) this.lastLoss = why;
    for (const listener of [...this.listeners]) {
      try {
        listener(now);
      } catch (err) {
        this.log.error({ err }, "a write-fence listener threw");
      }
    }
  }
}

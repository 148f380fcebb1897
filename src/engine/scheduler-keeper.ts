/**
 * Keeps a scheduler running on a store whose lock can be lost. After the lock was lost and is
 * held again, another scheduler may have written meanwhile: the engine is abandoned and a fresh
 * one started on the same store and driver, which reads everything again, instead of resuming
 * with what it remembers. Meanwhile the admin API answers UNAVAILABLE.
 *
 * A replica (`SchedulerKeeper.replica`) runs terms instead: it acts only while its fence holds
 * (it leads). A term opens a new cluster driver and starts a fresh engine that recovers from the
 * store; losing the fence ends the term at once — the engine is abandoned (no more writes) and
 * the driver closed, since a standby must not stay subscribed beside the new leader.
 */
import { SchedulerError } from "../domain/errors.js";
import type { AdminApi } from "./admin-api.js";
import type { Cancel, ClusterDriver, Clock, Logger, WriteFence } from "./ports.js";
import { MultiServiceScheduler } from "./scheduler.js";
import type { SchedulerDeps, SchedulerOptions } from "./scheduler-parts.js";

/** How long after a failed restart the keeper tries again (while the lock is held). */
export const RESTART_RETRY_MS = 5000;

/** How a replica's terms get and give back their cluster driver. */
export interface ReplicaTerms {
  /** A driver for a new term (not yet subscribed: the engine subscribes when it starts). */
  openDriver(): Promise<ClusterDriver>;
  /** Ends a term's driver (unsubscribes). */
  closeDriver(driver: ClusterDriver): Promise<void>;
  /** A term began (the engine serves) or ended. */
  onTerm?(serving: boolean): void;
  /**
   * A term could not start (its driver or recovery failed). A replica may give the lead up here
   * so another one tries; if it still leads, the keeper tries again after RESTART_RETRY_MS.
   */
  onTermFailed?(err: unknown): void;
  /**
   * Asks the store, fresh, whether this replica still leads, right before a term subscribes to
   * the cluster: a replica that leads on a stale view (its node already gone) would subscribe
   * and fail the real leader's framework over. False: it does not lead (the election was told).
   */
  confirmLead?(): Promise<boolean>;
  /**
   * Whether a fatal cluster error says another scheduler took the framework over. A replica's
   * term then ends and `onTermFailed` gives the lead up: the election, not the cluster, decides
   * who leads. Any other fatal stops the process, as for a lone scheduler (deps.onClusterFatal).
   */
  takenOver?(message: string): boolean;
}

type KeeperDeps = Omit<SchedulerDeps, "driver"> & { readonly driver?: ClusterDriver };

export class SchedulerKeeper {
  /** Forwards every call to the running scheduler; UNAVAILABLE while it is being replaced. */
  readonly api: AdminApi;
  private current: MultiServiceScheduler | undefined;
  private latest: MultiServiceScheduler | undefined;
  private lost = false;
  private stopped = false;
  private restarting: Promise<void> = Promise.resolve();
  private unwatch: Cancel | undefined;
  private retry: Cancel | undefined;
  private restarts = 0;
  /** A replica's current term: its number and driver. */
  private term = 0;
  private driver: ClusterDriver | undefined;
  /** Engines of ended terms (abandoned once). */
  private readonly abandoned = new WeakSet<MultiServiceScheduler>();

  constructor(
    private readonly deps: KeeperDeps,
    private readonly options: SchedulerOptions,
    private readonly terms?: ReplicaTerms,
  ) {
    if (!terms) this.latest = this.engine(deps.driver);
    this.api = new Proxy({} as AdminApi, {
      get: (_, prop) => {
        const target = this.current;
        if (target === undefined) return unavailable;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** A replica's keeper: no engine runs until the fence holds (see the file comment). */
  static replica(deps: Omit<SchedulerDeps, "driver">, options: SchedulerOptions, terms: ReplicaTerms): SchedulerKeeper {
    return new SchedulerKeeper(deps, options, terms);
  }

  /** The scheduler started last (the running one, or the one being replaced or started). */
  get scheduler(): MultiServiceScheduler {
    if (!this.latest) throw new SchedulerError("unavailable", "this replica has not led yet: it runs no scheduler");
    return this.latest;
  }

  /** The scheduler serving calls now, if any (none on a standby or while one is replaced). */
  get running(): MultiServiceScheduler | undefined {
    return this.current;
  }

  /** The running scheduler's driver (a replica's current term's). */
  get cluster(): ClusterDriver | undefined {
    return this.terms ? this.driver : this.deps.driver;
  }

  /** How many times the engine was replaced after its lock was held again (a replica: terms begun after the first). */
  get reloads(): number {
    return this.restarts;
  }

  async start(): Promise<void> {
    const fence: WriteFence | undefined = this.deps.fence;
    this.unwatch = fence?.watch?.((holds) => this.fenceChanged(holds));
    if (this.terms) {
      // A replica stands by until it leads: its start does not wait for that.
      if (fence?.holds() ?? true) this.restarting = this.restarting.then(() => this.beginTerm());
      return;
    }
    const first = this.latest!;
    await first.start();
    // Replaced meanwhile (the lock was lost and held again during start-up): the replacement serves once started.
    if (this.latest === first) this.current = first;
  }

  /** Settles once a replacement under way (if any) has finished. */
  settled(): Promise<void> {
    return this.restarting;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unwatch?.();
    this.retry?.();
    await this.restarting;
    this.current = undefined;
    if (this.latest && !this.abandoned.has(this.latest)) await this.latest.stop();
    if (this.terms && this.driver) await this.terms.closeDriver(this.driver);
    this.driver = undefined;
  }

  private engine(driver: ClusterDriver | undefined, term?: number): MultiServiceScheduler {
    if (!driver) throw new SchedulerError("internal", "a scheduler needs a cluster driver");
    if (term === undefined) return new MultiServiceScheduler({ ...this.deps, driver }, this.options);
    return new MultiServiceScheduler({ ...this.deps, driver, onClusterFatal: (message) => this.termFatal(term, message) }, this.options);
  }

  /** A term that did not begin after all: its driver goes (the keeper waits for the lead again). */
  private async dropDriver(term: number): Promise<void> {
    const driver = this.driver;
    if (term !== this.term || !driver) return;
    this.driver = undefined;
    await this.terms!.closeDriver(driver).catch((err: unknown) => this.deps.log.warn({ err }, "closing the cluster driver failed"));
  }

  /**
   * A term's driver says the cluster no longer serves the framework. Another scheduler took it
   * over: the replica steps down and campaigns again (the election decides who leads), instead
   * of stopping the process. A past term's driver is not heard: that term is over already.
   */
  private termFatal(term: number, message: string): void {
    const terms = this.terms!;
    const log: Logger = this.deps.log;
    if (this.stopped || term !== this.term) {
      log.warn({ reason: message }, "a past term's cluster driver reported the framework lost; ignored");
      return;
    }
    if (!terms.takenOver?.(message)) {
      this.deps.onClusterFatal?.(message);
      return;
    }
    log.warn({ reason: message }, "another scheduler took the framework over: giving the lead up");
    terms.onTermFailed?.(new SchedulerError("unavailable", `another scheduler took the framework over: ${message}`));
    if (term !== this.term) return; // the lead was given up: the fence ended the term
    // Still told we lead: end this term and begin a new one later (a new driver subscribes anew).
    this.endTerm();
    this.retry = this.deps.clock.setTimer(RESTART_RETRY_MS, () => {
      this.retry = undefined;
      this.restarting = this.restarting.then(() => this.beginTerm());
    });
  }

  private fenceChanged(holds: boolean): void {
    if (this.terms) {
      if (this.stopped) return;
      if (holds) this.restarting = this.restarting.then(() => this.beginTerm());
      else this.endTerm();
      return;
    }
    if (!holds) {
      this.lost = true;
      return;
    }
    if (!this.lost || this.stopped) return;
    this.lost = false;
    this.current = undefined;
    this.restarting = this.restarting.then(() => this.replace());
  }

  /** A replica leads: a new driver and a fresh engine that recovers from the store. */
  private async beginTerm(): Promise<void> {
    const terms = this.terms!;
    if (this.stopped || !(this.deps.fence?.holds() ?? true) || this.driver) return;
    const term = ++this.term;
    const log: Logger = this.deps.log;
    let engine: MultiServiceScheduler | undefined;
    try {
      const driver = await terms.openDriver();
      if (term !== this.term) {
        await terms.closeDriver(driver);
        return;
      }
      this.driver = driver;
      // The last look before subscribing (engine.start): the election's view may be stale.
      if (terms.confirmLead && !(await terms.confirmLead())) {
        if (term === this.term) await this.dropDriver(term);
        return;
      }
      if (term !== this.term) return; // ended meanwhile: endTerm closed the driver
      engine = this.engine(driver, term);
      this.latest = engine;
      await engine.start();
      if (term !== this.term) throw new SchedulerError("unavailable", "the term ended while it began");
      this.current = engine;
      if (term > 1) this.restarts++;
      terms.onTerm?.(true);
    } catch (err) {
      if (engine) this.abandoned.add(engine);
      await engine?.abandon().catch(() => undefined);
      if (term !== this.term) return; // ended by a loss: endTerm closed the driver
      log.error({ err }, "could not start leading");
      const driver = this.driver;
      this.driver = undefined;
      if (driver) await terms.closeDriver(driver).catch((e: unknown) => log.warn({ err: e }, "closing the cluster driver failed"));
      if (term !== this.term) return;
      terms.onTermFailed?.(err);
      if (term !== this.term) return; // the lead was given up
      this.retry = this.deps.clock.setTimer(RESTART_RETRY_MS, () => {
        this.retry = undefined;
        this.restarting = this.restarting.then(() => this.beginTerm());
      });
    }
  }

  /** A replica lost the lead: no more writes and no more cluster subscription, at once. */
  private endTerm(): void {
    this.term++;
    this.retry?.();
    this.retry = undefined;
    this.current = undefined;
    const engine = this.latest && !this.abandoned.has(this.latest) ? this.latest : undefined;
    if (engine) this.abandoned.add(engine);
    const driver = this.driver;
    this.driver = undefined;
    const log: Logger = this.deps.log;
    const ended = Promise.all([
      engine?.abandon().catch((err: unknown) => log.warn({ err }, "abandoning the engine failed")),
      driver ? this.terms!.closeDriver(driver).catch((err: unknown) => log.warn({ err }, "closing the cluster driver failed")) : undefined,
    ]);
    this.terms!.onTerm?.(false);
    // The next term begins after this one's engine and driver are gone.
    this.restarting = this.restarting.then(() => ended).then(() => undefined);
  }

  private async replace(): Promise<void> {
    if (this.stopped) return;
    const log: Logger = this.deps.log;
    const clock: Clock = this.deps.clock;
    log.warn({}, "store lock held again: reloading the scheduler's state from the store");
    this.current = undefined;
    await this.latest?.abandon();
    this.latest = this.engine(this.deps.driver);
    try {
      await this.latest.start();
      this.current = this.latest;
      this.restarts++;
      log.info({}, "scheduler state reloaded from the store");
    } catch (err) {
      log.error({ err }, "could not restart the scheduler after its store lock was held again; trying again");
      this.retry = clock.setTimer(RESTART_RETRY_MS, () => {
        this.retry = undefined;
        if (this.deps.fence?.holds() ?? true) this.restarting = this.restarting.then(() => this.replace());
        else this.lost = true;
      });
    }
  }
}

function unavailable(): never {
  throw new SchedulerError("unavailable", "the scheduler is reloading its state from the store; try again in a moment");
}

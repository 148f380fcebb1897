/**
 * Keeps a scheduler running on a store whose lock can be lost. After the lock was lost and is
 * held again, another scheduler may have written meanwhile: the engine is abandoned and a fresh
 * one started on the same store and driver, which reads everything again, instead of resuming
 * with what it remembers. Meanwhile the admin API answers UNAVAILABLE.
 */
import { SchedulerError } from "../domain/errors.js";
import type { AdminApi } from "./admin-api.js";
import type { Cancel, Clock, Logger, WriteFence } from "./ports.js";
import { MultiServiceScheduler } from "./scheduler.js";
import type { SchedulerDeps, SchedulerOptions } from "./scheduler-parts.js";

/** How long after a failed restart the keeper tries again (while the lock is held). */
export const RESTART_RETRY_MS = 5000;

export class SchedulerKeeper {
  /** Forwards every call to the running scheduler; UNAVAILABLE while it is being replaced. */
  readonly api: AdminApi;
  private current: MultiServiceScheduler | undefined;
  private latest: MultiServiceScheduler;
  private lost = false;
  private stopped = false;
  private restarting: Promise<void> = Promise.resolve();
  private unwatch: Cancel | undefined;
  private retry: Cancel | undefined;
  private restarts = 0;

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly options: SchedulerOptions,
  ) {
    this.latest = new MultiServiceScheduler(deps, options);
    this.api = new Proxy({} as AdminApi, {
      get: (_, prop) => {
        const target = this.current;
        if (target === undefined) return unavailable;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** The scheduler started last (the running one, or the one being replaced or started). */
  get scheduler(): MultiServiceScheduler {
    return this.latest;
  }

  /** How many times the engine was replaced after its lock was held again. */
  get reloads(): number {
    return this.restarts;
  }

  async start(): Promise<void> {
    const fence: WriteFence | undefined = this.deps.fence;
    this.unwatch = fence?.watch?.((holds) => this.fenceChanged(holds));
    const first = this.latest;
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
    await this.latest.stop();
  }

  private fenceChanged(holds: boolean): void {
    if (!holds) {
      this.lost = true;
      return;
    }
    if (!this.lost || this.stopped) return;
    this.lost = false;
    this.current = undefined;
    this.restarting = this.restarting.then(() => this.replace());
  }

  private async replace(): Promise<void> {
    if (this.stopped) return;
    const log: Logger = this.deps.log;
    const clock: Clock = this.deps.clock;
    log.warn({}, "store lock held again: reloading the scheduler's state from the store");
    this.current = undefined;
    await this.latest.abandon();
    this.latest = new MultiServiceScheduler(this.deps, this.options);
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

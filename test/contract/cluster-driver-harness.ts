/**
 * What the ClusterDriver contract runs against: a subscribed driver, a log of everything it
 * delivered, and a way to wait for what the cluster sends without sleeping. On a FakeClock the
 * harness runs due timers until the awaited event is there (and fails at once when nothing more
 * can happen); on real time it polls until a deadline. While waiting it acknowledges every update
 * that carries a uuid, as a scheduler does once it has persisted it.
 *
 * A target supplies the cluster: a driver factory (called again on a scheduler restart), the
 * clock kind, how to lose an agent and, optionally, how to break the subscription.
 */
import { userInfo } from "node:os";
import pino from "pino";
import { CryptoRandom, SystemClock } from "../../src/adapters/clock.js";
import { MesosDriver } from "../../src/adapters/cluster/mesos/driver.js";
import type { Offer, TaskStatus } from "../../src/domain/cluster.js";
import type { FakeClock } from "../../src/adapters/fake-clock.js";
import type { ClusterDriver, ClusterEvents, FrameworkInfo } from "../../src/engine/ports.js";
import { CONTRACT_FRAMEWORK } from "./cluster-driver-fixtures.js";

/** Task IDs of the reconciliation round trips `settle` uses as barriers. */
export const BARRIER_PREFIX = "contract-barrier-";

export interface ReceivedOffer {
  readonly offer: Offer;
  /** The target clock's time at receipt. */
  readonly atMs: number;
  /** The subscription it came on; an earlier one's offers are void. */
  readonly epoch: number;
  readonly seq: number;
}

export interface ReceivedUpdate {
  readonly status: TaskStatus;
  readonly atMs: number;
  readonly epoch: number;
  readonly seq: number;
}

/** Everything the current and earlier drivers delivered, in order (`seq` across kinds). */
export class EventLog {
  readonly subscriptions: string[] = [];
  readonly offers: ReceivedOffer[] = [];
  readonly rescinds: { readonly offerId: string; readonly seq: number }[] = [];
  readonly updates: ReceivedUpdate[] = [];
  /** Answers to `settle`'s barrier reconciliations (kept out of `updates`). */
  readonly barriers: TaskStatus[] = [];
  readonly disconnects: string[] = [];
  readonly fatals: string[] = [];
  /** Events a driver delivered after it was closed (a contract violation). */
  readonly stale: string[] = [];
  epoch = 0;
  seq = 0;
  private readonly spent = new Set<string>();
  private readonly listeners = new Set<() => void>();
  private generation = 0;

  constructor(private readonly now: () => number) {}

  /** The handlers for a new driver; those given to earlier drivers only record `stale`. */
  handlersForNewDriver(): ClusterEvents {
    const gen = ++this.generation;
    const live = (what: string): boolean => {
      if (gen === this.generation) return true;
      this.stale.push(what);
      return false;
    };
    return {
      subscribed: (id) => live(`subscribed ${id}`) && this.subscribed(id),
      offers: (offers) => live(`offers ${offers.length}`) && this.offered(offers),
      rescind: (id) => live(`rescind ${id}`) && this.rescinded(id),
      update: (s) => live(`update ${s.taskId} ${s.state}`) && this.updated(s),
      disconnected: (reason) => live(`disconnected ${reason}`) && this.disconnected(reason),
      fatal: (message) => live(`fatal ${message}`) && this.fatal(message),
    };
  }

  /** Stops delivering to the current driver's handlers (it is being closed). */
  retireDriver(): void {
    this.generation++;
  }

  get frameworkId(): string | undefined {
    return this.subscriptions.at(-1);
  }

  /** Calls `fn` after each event; returns the unsubscribe function. */
  onEvent(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Offers still usable: of the current subscription, neither rescinded nor accepted/declined. */
  outstanding(agentId?: string): Offer[] {
    const rescinded = new Set(this.rescinds.map((r) => r.offerId));
    return this.offers
      .filter((o) => o.epoch === this.epoch && !rescinded.has(o.offer.id) && !this.spent.has(o.offer.id))
      .filter((o) => agentId === undefined || o.offer.agentId === agentId)
      .map((o) => o.offer);
  }

  /** Marks offers as handed back to the cluster (accepted or declined). */
  spend(offerIds: readonly string[]): void {
    for (const id of offerIds) this.spent.add(id);
  }

  offersSince(seq: number, agentId?: string): ReceivedOffer[] {
    return this.offers.filter((o) => o.seq > seq && (agentId === undefined || o.offer.agentId === agentId));
  }

  updatesOf(taskId: string, sinceSeq = 0): ReceivedUpdate[] {
    return this.updates.filter((u) => u.seq > sinceSeq && u.status.taskId === taskId);
  }

  /** A short account of the last events, for failure messages. */
  tail(n = 12): string {
    const lines = [
      ...this.offers.map((o) => [o.seq, `offer ${o.offer.id} agent=${o.offer.agentId} epoch=${o.epoch}`] as const),
      ...this.updates.map((u) => [u.seq, `update ${u.status.taskId} ${u.status.state} uuid=${u.status.uuid ? "yes" : "no"} ${u.status.reason ?? ""} ${u.status.message ?? ""}`] as const),
      ...this.rescinds.map((r) => [r.seq, `rescind ${r.offerId}`] as const),
    ].sort((a, b) => a[0] - b[0]);
    const head = `subscriptions=${JSON.stringify(this.subscriptions)} disconnects=${this.disconnects.length} fatals=${JSON.stringify(this.fatals)}`;
    return [head, ...lines.slice(-n).map(([s, l]) => `  #${s} ${l}`)].join("\n");
  }

  private subscribed(id: string): boolean {
    this.epoch++;
    this.subscriptions.push(id);
    this.seq++;
    return this.notify();
  }

  private offered(offers: readonly Offer[]): boolean {
    for (const offer of offers) this.offers.push({ offer, atMs: this.now(), epoch: this.epoch, seq: ++this.seq });
    return this.notify();
  }

  private rescinded(offerId: string): boolean {
    this.rescinds.push({ offerId, seq: ++this.seq });
    return this.notify();
  }

  private updated(status: TaskStatus): boolean {
    if (status.taskId.startsWith(BARRIER_PREFIX)) this.barriers.push(status);
    else this.updates.push({ status, atMs: this.now(), epoch: this.epoch, seq: ++this.seq });
    return this.notify();
  }

  private disconnected(reason: string): boolean {
    this.epoch++; // outstanding offers are void from now on
    this.disconnects.push(reason);
    return this.notify();
  }

  private fatal(message: string): boolean {
    this.fatals.push(message);
    return this.notify();
  }

  private notify(): boolean {
    for (const fn of this.listeners) fn();
    return true;
  }
}

export type ContractTime =
  | { readonly kind: "fake"; readonly clock: FakeClock }
  /** Real time: waits poll until `timeoutMs` (default 5 s). */
  | { readonly kind: "real"; readonly timeoutMs?: number };

/** The cluster side of a harness. */
export interface HarnessTarget {
  /** A new, unsubscribed driver: at the start and on every scheduler restart. */
  newDriver(): ClusterDriver | Promise<ClusterDriver>;
  readonly time: ContractTime;
  /** Tasks are real processes: the driver serves `taskFiles` with their pids. */
  readonly realProcesses: boolean;
  /** The operator removes the agent for good (Mesos MARK_AGENT_GONE). */
  loseAgent(agentId: string): Promise<void>;
  /** Breaks the current subscription; the driver must resubscribe by itself. */
  disrupt?(): Promise<void>;
  /** Stops the cluster and removes what it made; `driver` is the current one. */
  close(driver: ClusterDriver): Promise<void>;
}

export interface UntilOptions {
  /** Acknowledge uuid-bearing updates while waiting. @default true */
  readonly ack?: boolean;
  /** Real time only. @default the target's timeoutMs */
  readonly timeoutMs?: number;
}

export interface ClusterDriverHarness {
  /** The current driver (a new one after `restartScheduler`). */
  readonly driver: ClusterDriver;
  readonly log: EventLog;
  readonly framework: FrameworkInfo;
  /** The framework ID of the first subscription. */
  readonly frameworkId: string;
  readonly realProcesses: boolean;
  /** The target clock's time. */
  now(): number;
  /** Fake clock only: moves time forward, running what falls due. */
  readonly advance: ((ms: number) => Promise<void>) | undefined;
  /** Waits until `probe` returns a value (not undefined), acknowledging updates meanwhile. */
  until<T>(what: string, probe: () => T | undefined, options?: UntilOptions): Promise<T>;
  /** Returns once the cluster has sent everything it would send for what was done so far. */
  settle(): Promise<void>;
  /** Acknowledges every uuid-bearing update received and not yet acknowledged. */
  acknowledgeAll(): Promise<void>;
  /** Closes the driver, makes a new one and subscribes it with the stored framework ID. */
  restartScheduler(): Promise<void>;
  /**
   * Like `restartScheduler`, for a framework that may be gone: "refused" when SUBSCRIBE fails or
   * the driver reports `fatal`, "subscribed" when SUBSCRIBED arrives.
   */
  trySubscribeAgain(): Promise<"subscribed" | "refused">;
  loseAgent(agentId: string): Promise<void>;
  readonly disrupt: (() => Promise<void>) | undefined;
  close(): Promise<void>;
}

export type MakeHarness = () => Promise<ClusterDriverHarness>;

/** Makes the driver, subscribes it and waits for SUBSCRIBED. */
export async function startHarness(target: HarnessTarget, framework = CONTRACT_FRAMEWORK): Promise<ClusterDriverHarness> {
  const h = new DriverHarness(target, framework, await target.newDriver());
  try {
    await h.subscribe(framework);
  } catch (err) {
    await h.close().catch(() => undefined);
    throw err;
  }
  return h;
}

class DriverHarness implements ClusterDriverHarness {
  readonly log: EventLog;
  readonly realProcesses: boolean;
  readonly advance: ((ms: number) => Promise<void>) | undefined;
  readonly disrupt: (() => Promise<void>) | undefined;
  private readonly acked = new Set<string>();
  private barrierSeq = 0;

  constructor(
    private readonly target: HarnessTarget,
    readonly framework: FrameworkInfo,
    public driver: ClusterDriver,
  ) {
    const time = target.time;
    this.log = new EventLog(() => this.now());
    this.realProcesses = target.realProcesses;
    this.advance = time.kind === "fake" ? (ms) => time.clock.advanceAsync(ms) : undefined;
    this.disrupt = target.disrupt ? () => target.disrupt!() : undefined;
  }

  get frameworkId(): string {
    const id = this.log.subscriptions[0];
    if (id === undefined) throw new Error("not subscribed yet");
    return id;
  }

  now(): number {
    return this.target.time.kind === "fake" ? this.target.time.clock.now() : Date.now();
  }

  async subscribe(framework: FrameworkInfo): Promise<void> {
    const before = this.log.subscriptions.length;
    await this.driver.subscribe(framework, this.log.handlersForNewDriver());
    await this.until("SUBSCRIBED", () => (this.log.subscriptions.length > before ? true : undefined));
  }

  async until<T>(what: string, probe: () => T | undefined, options: UntilOptions = {}): Promise<T> {
    const ack = options.ack ?? true;
    const time = this.target.time;
    if (time.kind === "fake") {
      for (let idle = 0; idle < 3; ) {
        if (ack) await this.acknowledgeAll();
        const value = probe();
        if (value !== undefined) return value;
        const [seq, due] = [this.log.seq, time.clock.nextDueMs()];
        await time.clock.advanceAsync(0);
        idle = this.log.seq === seq && (due === undefined || due > time.clock.now()) ? idle + 1 : 0;
      }
      throw new Error(`${what}: nothing more happens without time passing (now ${time.clock.now()})\n${this.log.tail()}`);
    }
    const deadline = Date.now() + (options.timeoutMs ?? time.timeoutMs ?? 5_000);
    for (;;) {
      if (ack) await this.acknowledgeAll();
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() >= deadline) throw new Error(`${what}: not seen within the deadline\n${this.log.tail()}`);
      await this.nextEventOr(5);
    }
  }

  async settle(): Promise<void> {
    const time = this.target.time;
    if (time.kind === "fake") {
      for (let i = 0; i < 5; i++) await time.clock.advanceAsync(0);
      return;
    }
    // Two reconciliation round trips: whatever the cluster had queued when the first call
    // arrived (offers after a decline, updates after a kill) is written before its answer.
    for (let round = 0; round < 2; round++) {
      const taskId = `${BARRIER_PREFIX}${++this.barrierSeq}`;
      await this.driver.reconcile([{ taskId }]);
      await this.until(`barrier ${taskId}`, () => this.log.barriers.find((s) => s.taskId === taskId), { ack: false });
    }
  }

  async acknowledgeAll(): Promise<void> {
    for (const { status, epoch } of this.log.updates) {
      if (status.uuid === undefined) continue;
      const key = `${epoch}:${status.uuid}`;
      if (this.acked.has(key)) continue;
      this.acked.add(key);
      try {
        await this.driver.acknowledge(status.agentId ?? "", status.taskId, status.uuid);
      } catch {
        this.acked.delete(key); // not subscribed right now: try again on the next look
      }
    }
  }

  async restartScheduler(): Promise<void> {
    await this.driver.close();
    this.log.retireDriver(); // from here on, anything the closed driver delivers is stale
    this.driver = await this.target.newDriver();
    await this.subscribe({ ...this.framework, frameworkId: this.frameworkId });
  }

  async trySubscribeAgain(): Promise<"subscribed" | "refused"> {
    await this.driver.close();
    this.log.retireDriver();
    this.driver = await this.target.newDriver();
    const [subscriptions, fatals] = [this.log.subscriptions.length, this.log.fatals.length];
    try {
      await this.driver.subscribe({ ...this.framework, frameworkId: this.frameworkId }, this.log.handlersForNewDriver());
    } catch {
      return "refused";
    }
    return this.until("SUBSCRIBED or fatal", () => {
      if (this.log.fatals.length > fatals) return "refused";
      return this.log.subscriptions.length > subscriptions ? "subscribed" : undefined;
    });
  }

  loseAgent(agentId: string): Promise<void> {
    return this.target.loseAgent(agentId);
  }

  async close(): Promise<void> {
    this.log.retireDriver();
    await this.target.close(this.driver);
  }

  private nextEventOr(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const off = this.log.onEvent(done);
      function done(): void {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  }
}

/** The Mesos driver on a local agent's socket, as the agent-based tests make it (quick back-off). */
export function agentDriver(socketPath: string): MesosDriver {
  return new MesosDriver({
    master: { kind: "unix", socketPath },
    user: userInfo().username,
    files: true,
    clock: new SystemClock(),
    random: new CryptoRandom(),
    log: pino({ level: "silent" }),
    backoff: { initialMs: 20, maxMs: 200 },
  });
}

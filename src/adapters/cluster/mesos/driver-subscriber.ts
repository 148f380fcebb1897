/**
 * The driver's subscription, kept alive (mesos-v1-api.md §2, §4, §5, §13, §15): SUBSCRIBE to the
 * leading master (following 307s), read the event stream, and after any loss — EOF, a socket
 * error, a silent stream, an ERROR event, a leader change — tell the engine, forget the offers
 * and SUBSCRIBE again on a new connection after an exponential back-off with jitter, with the
 * framework ID learned from SUBSCRIBED and the roles currently suppressed (what changed while that
 * SUBSCRIBE was in flight, and a REVIVE owed, go out at its SUBSCRIBED). An ERROR saying the
 * framework was removed or failed over to another scheduler ends it for good.
 */
import { SchedulerError } from "../../../domain/errors.js";
import type { Clock, ClusterEvents, FrameworkInfo, Logger, Random } from "../../../engine/ports.js";
import type { CallTarget } from "./driver-calls.js";
import { MAX_REDIRECTS } from "./driver-calls.js";
import type { Decoded } from "./json-codec.js";
import { encodeSubscribe } from "./json-codec-calls.js";
import type { MesosEvent } from "./json-codec-events.js";
import type { MasterDetector } from "./master-detector.js";
import { postSubscribe, type EventStream, type SubscribeAnswer } from "./subscription.js";
import type { Endpoint, Transport } from "./transport.js";

/** Mesos's heartbeat interval when SUBSCRIBED does not say (DEFAULT_HEARTBEAT_INTERVAL). */
const DEFAULT_HEARTBEAT_S = 15;

/** Void offer IDs remembered at most. */
const MAX_VOID_OFFERS = 100_000;

export interface SubscriptionLoopOptions {
  readonly transport: Transport;
  readonly detector: MasterDetector;
  readonly framework: FrameworkInfo;
  readonly events: ClusterEvents;
  readonly user: string;
  /** Roles beyond `framework.role`, subscribed, suppressed and revived with it. */
  readonly extraRoles?: readonly string[];
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  /** Deadline for the answer to SUBSCRIBE and for its first record. */
  readonly timeoutMs: number;
  readonly declineRejected: (offerIds: string[]) => void;
  /** Runs before every SUBSCRIBE (the local agent: start it again if it died). */
  readonly beforeSubscribe?: () => Promise<void>;
  /**
   * At SUBSCRIBED, before the engine hears of it: the REVIVE and SUPPRESS the SUBSCRIBE did not
   * carry (asked for while it was in flight, or a revive owed from while disconnected).
   */
  readonly catchUp?: (drift: OfferStateDrift) => void;
}

/** Roles to revive and to suppress so the master's offer state is the one last asked for. */
export interface OfferStateDrift {
  readonly revive: readonly string[];
  readonly suppress: readonly string[];
}

/** A call target of a live subscription. */
export interface LiveTarget extends CallTarget {
  readonly frameworkId: string;
}

/** One open subscription connection. */
interface Connection {
  readonly stream: EventStream;
  readonly endpoint: Endpoint;
  subscribed: boolean;
  /** The suppressed roles its SUBSCRIBE carried: what the master applies at SUBSCRIBED. */
  readonly suppressedSent: ReadonlySet<string>;
  /** Ends the loop's wait on this connection. */
  readonly done: () => void;
}

/**
 * An ERROR after which resubscribing is wrong: the framework ID was removed (torn down, or its
 * failover timeout passed) or another scheduler took it over. Registering anew would orphan the
 * framework's reservations, so the scheduler must stop.
 */
export function isFinalError(message: string): boolean {
  return /\bremoved\b|failed over/i.test(message);
}

export class SubscriptionLoop {
  /** Every role we subscribe with, the main one first. */
  readonly roles: readonly string[];
  private frameworkId: string | undefined;
  private readonly suppressedRoles = new Set<string>();
  /**
   * A REVIVE was asked for and not delivered (disconnected, or the call failed): the next
   * SUBSCRIBED sends it, since a SUBSCRIBE un-suppresses but clears no offer filters.
   */
  private reviveOwed = false;
  private conn: Connection | undefined;
  /** Offers of the current subscription not yet answered. */
  private readonly offers = new Set<string>();
  /**
   * Offers still unanswered when their subscription ended: the master forgot them (§15), so
   * answering them is a no-op. Any other offer ID goes to the master, which judges it (an offer
   * used twice gets its tasks TASK_DROPPED).
   */
  private voidOffers = new Set<string>();
  private redirectedTo: Endpoint | undefined;
  private lastEndpoint: Endpoint | undefined;
  private attempt = 0;
  /** The stream just lost had been subscribed. */
  private lostLive = false;
  /** Bumped at each leader change: a SUBSCRIBE answered by the old leader is dropped. */
  private leaderEpoch = 0;
  private running = true;
  /** Aborts a SUBSCRIBE still waiting for its answer when the loop stops. */
  private readonly stopping = new AbortController();
  private first: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  private wake: (() => void) | undefined;
  private disconnectedAtMs: number | undefined;
  private readonly counters = { subscriptions: 0, offersReceived: 0, lastResubscribeMs: undefined as number | undefined };
  private readonly log: Logger;

  constructor(private readonly o: SubscriptionLoopOptions) {
    this.roles = [...new Set([o.framework.role, ...(o.extraRoles ?? [])])];
    this.frameworkId = o.framework.frameworkId;
    this.log = o.log;
  }

  get stats(): { subscriptions: number; offersReceived: number; lastResubscribeMs: number | undefined } {
    return { ...this.counters };
  }

  /** Starts subscribing; resolves at the first SUBSCRIBED, rejects on a final ERROR before it or on stop. */
  start(): Promise<void> {
    const first = new Promise<void>((resolve, reject) => {
      this.first = { resolve, reject };
    });
    this.o.detector.onChange(() => {
      this.leaderEpoch++;
      this.redirectedTo = undefined;
      if (this.conn !== undefined) this.conn.stream.fail("the leading master changed");
      else this.wake?.();
    });
    void this.run();
    return first;
  }

  /** Where calls go while subscribed; undefined while not. */
  target(): LiveTarget | undefined {
    const c = this.conn;
    if (c === undefined || !c.subscribed || this.frameworkId === undefined) return undefined;
    return { endpoint: c.endpoint, streamId: c.stream.streamId, frameworkId: this.frameworkId };
  }

  /** Where the task files are served: the master last talked to, and our framework ID. */
  fileTarget(): { endpoint: Endpoint; frameworkId: string } | undefined {
    const endpoint = this.conn?.endpoint ?? this.lastEndpoint;
    return endpoint !== undefined && this.frameworkId !== undefined ? { endpoint, frameworkId: this.frameworkId } : undefined;
  }

  /** Marks the offers answered; returns those of an earlier subscription (void). */
  takeOffers(offerIds: readonly string[]): string[] {
    const stale = offerIds.filter((id) => this.voidOffers.has(id));
    for (const id of offerIds) {
      this.offers.delete(id);
      this.voidOffers.delete(id);
    }
    return stale;
  }

  setSuppressed(suppressed: boolean): void {
    for (const role of this.roles) {
      if (suppressed) this.suppressedRoles.add(role);
      else this.suppressedRoles.delete(role);
    }
    if (suppressed) this.reviveOwed = false;
  }

  /** A REVIVE could not be sent now: it goes out after the next SUBSCRIBED (unless a suppress comes first). */
  oweRevive(): void {
    this.reviveOwed = true;
  }

  /** Whether a REVIVE is owed (asked for, not delivered, no suppress since). */
  owesRevive(): boolean {
    return this.reviveOwed;
  }

  /** The owed REVIVE goes out now (if it fails, it is owed again). */
  reviveSent(): void {
    this.reviveOwed = false;
  }

  /** Stops for good: the stream is closed without a disconnection event and nothing resubscribes. */
  stop(reason: string): void {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    this.log.info({ reason }, "Mesos subscription stopped");
    const c = this.conn;
    this.conn = undefined;
    this.offers.clear();
    this.voidOffers.clear();
    c?.stream.close();
    c?.done();
    this.wake?.();
    this.o.detector.close();
    this.first?.reject(new SchedulerError("unavailable", `the Mesos driver stopped before SUBSCRIBED (${reason})`));
    this.first = undefined;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.subscribeOnce();
      if (!this.running) return;
      await this.backOff();
    }
  }

  /** One SUBSCRIBE and, if it is accepted, the life of its stream. */
  private async subscribeOnce(): Promise<void> {
    const epoch = this.leaderEpoch;
    let endpoint: Endpoint;
    try {
      await this.o.beforeSubscribe?.();
      endpoint = this.redirectedTo ?? (await this.o.detector.leader());
    } catch (err) {
      if (this.running) this.log.warn({ err }, "no leading Mesos master known");
      return;
    }
    for (let hops = 0; this.running; hops++) {
      let answer: SubscribeAnswer;
      // Suppression asked for from now on, until SUBSCRIBED, is not in this body: see catchUp.
      const suppressedSent = new Set(this.suppressedRoles);
      try {
        answer = await postSubscribe({ ...this.o, endpoint, body: this.subscribeBody(suppressedSent), signal: this.stopping.signal });
      } catch (err) {
        this.redirectedTo = undefined;
        if (this.running) this.log.warn({ err, master: this.o.transport.describe(endpoint, "") }, "SUBSCRIBE failed");
        return;
      }
      if (!this.running || epoch !== this.leaderEpoch) {
        if (answer.kind === "stream") answer.stream.close();
        return;
      }
      if (answer.kind === "redirect") {
        if (hops >= MAX_REDIRECTS) {
          this.redirectedTo = undefined;
          this.log.warn({ hops }, "SUBSCRIBE redirected too many times");
          return;
        }
        this.log.info({ to: this.o.transport.describe(answer.to, "") }, "SUBSCRIBE redirected to the leading master");
        endpoint = answer.to;
        this.redirectedTo = answer.to;
        continue;
      }
      if (answer.kind === "refused") {
        this.redirectedTo = undefined;
        this.logRefusal(answer.status, answer.message);
        return;
      }
      this.lastEndpoint = endpoint;
      await this.follow(answer.stream, endpoint, suppressedSent);
      return;
    }
  }

  private subscribeBody(suppressedRoles: ReadonlySet<string>): string {
    const f = this.o.framework;
    const framework: FrameworkInfo = {
      name: f.name,
      role: f.role,
      principal: f.principal,
      failoverTimeoutS: f.failoverTimeoutS,
      ...(this.frameworkId !== undefined ? { frameworkId: this.frameworkId } : {}),
    };
    return JSON.stringify(encodeSubscribe(framework, { user: this.o.user, suppressedRoles: [...suppressedRoles], roles: this.roles }));
  }

  private logRefusal(status: number, message: string): void {
    if (status === 401) {
      const principal = this.o.framework.principal;
      this.log.error({ status, principal, message }, `the Mesos master refused authentication as principal ${JSON.stringify(principal)} (401); check --mesos-secret-file; retrying`);
    } else if (status === 503) {
      this.log.info({ status, message }, "the Mesos master is not ready (no leader, or recovering); retrying");
    } else {
      this.log.warn({ status, message }, "the Mesos master refused SUBSCRIBE; retrying");
    }
  }

  /** Reads the stream until it ends (or is ended). */
  private follow(stream: EventStream, endpoint: Endpoint, suppressedSent: ReadonlySet<string>): Promise<void> {
    return new Promise<void>((resolve) => {
      const conn: Connection = { stream, endpoint, subscribed: false, suppressedSent, done: resolve };
      this.conn = conn;
      stream.start({
        onEvent: (event) => this.onEvent(conn, event),
        onClose: (reason) => {
          this.lost(conn, reason);
          resolve();
        },
      });
    });
  }

  private lost(conn: Connection, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.forgetOffers();
    if (!conn.subscribed) {
      this.log.warn({ reason }, "the SUBSCRIBE stream ended before SUBSCRIBED");
      return;
    }
    this.disconnectedAtMs = this.o.clock.now();
    this.lostLive = true;
    this.log.warn({ reason }, "lost the Mesos subscription; resubscribing");
    this.notify("disconnected", () => this.o.events.disconnected(reason));
  }

  /** The current subscription's unanswered offers become void; the set is bounded (the engine answers offers promptly). */
  private forgetOffers(): void {
    if (this.voidOffers.size + this.offers.size > MAX_VOID_OFFERS) this.voidOffers.clear();
    for (const id of this.offers) this.voidOffers.add(id);
    this.offers.clear();
  }

  private onEvent(conn: Connection, decoded: Decoded<MesosEvent>): void {
    if (this.conn !== conn) return;
    // The first record is SUBSCRIBED or ERROR (§2 step 3); anything else (say, heartbeats of a
    // stream whose SUBSCRIBED was lost) would keep a useless stream alive.
    if (!conn.subscribed && !(decoded.ok && (decoded.value.kind === "subscribed" || decoded.value.kind === "error"))) {
      conn.stream.fail(`the stream began with ${decoded.ok ? decoded.value.kind : "an undecodable event"}, not SUBSCRIBED`);
      return;
    }
    if (!decoded.ok) {
      this.log.error({ err: decoded.error }, "an event from the Mesos master did not decode; it is ignored");
      return;
    }
    const e = decoded.value;
    switch (e.kind) {
      case "subscribed":
        return this.onSubscribed(conn, e.frameworkId, e.heartbeatIntervalS ?? DEFAULT_HEARTBEAT_S);
      case "offers": {
        for (const offer of e.offers) this.offers.add(offer.id);
        this.counters.offersReceived += e.offers.length;
        if (e.offers.length > 0) this.notify("offers", () => this.o.events.offers(e.offers));
        const ids: string[] = [];
        for (const r of e.rejected) {
          this.log.warn({ offerId: r.offerId, err: r.error }, "an offer did not decode; declining it");
          if (r.offerId !== undefined) {
            this.offers.add(r.offerId);
            ids.push(r.offerId);
          }
        }
        if (ids.length > 0) this.o.declineRejected(ids);
        return;
      }
      case "rescind":
        return this.notify("rescind", () => this.o.events.rescind(e.offerId));
      case "update":
        return this.notify("update", () => this.o.events.update(e.status));
      case "heartbeat":
        return; // the stream's watchdog was reset by the record itself
      case "error":
        return this.onError(conn, e.message);
      case "failure":
        return this.log.warn({ agentId: e.agentId, executorId: e.executorId, status: e.status }, "Mesos reported an agent or executor failure");
      case "message":
        return this.log.debug({ agentId: e.agentId, executorId: e.executorId }, "executor message ignored");
      case "operationStatus":
        return this.log.info({ operation: e.status }, "operation status update");
      case "ignored":
        return this.log.debug({ type: e.type }, "event ignored");
    }
  }

  private onSubscribed(conn: Connection, frameworkId: string, heartbeatS: number): void {
    conn.subscribed = true;
    conn.stream.setHeartbeatInterval(heartbeatS);
    this.frameworkId = frameworkId;
    this.attempt = 0;
    this.counters.subscriptions++;
    if (this.disconnectedAtMs !== undefined) {
      this.counters.lastResubscribeMs = this.o.clock.now() - this.disconnectedAtMs;
      this.disconnectedAtMs = undefined;
    }
    this.log.info({ frameworkId, heartbeatS, master: this.o.transport.describe(conn.endpoint, "") }, "subscribed to Mesos");
    const drift = this.drift(conn.suppressedSent);
    if (drift.revive.length > 0 || drift.suppress.length > 0) this.notify("catchUp", () => this.o.catchUp?.(drift));
    this.notify("subscribed", () => this.o.events.subscribed(frameworkId));
    this.first?.resolve();
    this.first = undefined;
  }

  /** What the master's offer state (as the SUBSCRIBE set it) lacks of the one last asked for. */
  private drift(sent: ReadonlySet<string>): OfferStateDrift {
    const revive = this.roles.filter((r) => !this.suppressedRoles.has(r) && (this.reviveOwed || sent.has(r)));
    const suppress = this.roles.filter((r) => this.suppressedRoles.has(r) && !sent.has(r));
    this.reviveOwed = false;
    return { revive, suppress };
  }

  private onError(conn: Connection, message: string): void {
    if (!isFinalError(message)) {
      this.log.error({ message }, "the Mesos master sent ERROR; resubscribing");
      conn.stream.fail(`ERROR event: ${message}`);
      return;
    }
    const who = this.frameworkId !== undefined ? `framework ${this.frameworkId}` : `framework ${this.o.framework.name}`;
    const text =
      `the Mesos master ended ${who}: ${message}. Registering anew would orphan its reservations, so the scheduler stops; ` +
      "if the framework was removed on purpose, reset the scheduler's state before starting it again";
    this.log.error({ message }, text);
    const first = this.first;
    this.first = undefined;
    this.stop(message);
    if (first !== undefined) first.reject(new SchedulerError("failed_precondition", text));
    else this.notify("fatal", () => this.o.events.fatal?.(text));
  }

  /** Waits the back-off: exponential from initialMs to maxMs, each delay jittered to 50–100 %. */
  private backOff(): Promise<void> {
    const { initialMs, maxMs } = this.o.backoff;
    // A subscription that was up is tried again at once: a dropped stream is the usual case
    // (a restarted agent or master), and offers wait meanwhile. Failures back off from there.
    const first = this.attempt === 0 && this.lostLive;
    this.lostLive = false;
    const base = first ? 0 : Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const delayMs = Math.round(base * (0.5 + 0.5 * this.jitter()));
    this.log.debug({ delayMs, attempt: this.attempt }, "resubscribing after a back-off");
    return new Promise<void>((resolve) => {
      const cancel = this.o.clock.setTimer(delayMs, () => {
        this.wake = undefined;
        resolve();
      });
      this.wake = () => {
        this.wake = undefined;
        cancel();
        resolve();
      };
    });
  }

  /** A number in [0, 1) from the injected Random (its UUID's first 32 bits). */
  private jitter(): number {
    return parseInt(this.o.random.uuid().slice(0, 8), 16) / 2 ** 32;
  }

  /** Runs an engine handler; a throw there is the engine's bug and must not kill the stream. */
  private notify(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, handler: what }, "a cluster event handler threw");
    }
  }
}

/**
 * The Mesos driver: the one production ClusterDriver, against a Mesos master or the local agent
 * (mesos-v1-api.md). It keeps one subscription alive — SUBSCRIBE, the event stream, resubscribing
 * with back-off and the learned framework ID after any loss — and sends every other call on
 * pooled connections with the subscription's stream ID. Offers live as long as the subscription
 * that brought them; an ERROR saying the framework is gone stops it for good (`events.fatal`).
 */
import { SchedulerError } from "../../../domain/errors.js";
import type { Filters, Operation } from "../../../domain/cluster.js";
import type { Cancel, Clock, ClusterDriver, ClusterEvents, FrameworkInfo, Logger, Random, TaskFiles } from "../../../engine/ports.js";
import type { MasterAddress } from "./driver-address.js";
import { postCall } from "./driver-calls.js";
import { MesosTaskFiles } from "./driver-files.js";
import { SubscriptionLoop, type OfferStateDrift } from "./driver-subscriber.js";
import {
  encodeAccept,
  encodeAcknowledge,
  encodeDecline,
  encodeKill,
  encodeReconcile,
  encodeRevive,
  encodeSuppress,
  encodeTeardown,
} from "./json-codec-calls.js";
import type { JsonObject } from "./json-codec.js";
import { createDetector } from "./master-detector.js";
import { Transport } from "./transport.js";
import { crashPoint } from "../test-crash.js";

export { parseMasterAddress, type MasterAddress } from "./driver-address.js";

export interface MesosDriverOptions {
  readonly master: MasterAddress;
  /** FrameworkInfo.user: the Unix user tasks run as unless their spec names one. */
  readonly user: string;
  /** HTTP basic authentication as the framework's principal. */
  readonly credential?: { readonly principal: string; readonly secret: string };
  /** CA bundle (PEM) for an https master. */
  readonly caFile?: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** Resubscription back-off with jitter. @default { initialMs: 200, maxMs: 15_000 } */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Per-request timeout of non-subscribe calls. @default 75_000 */
  readonly requestTimeoutMs?: number;
  /** Runs before every SUBSCRIBE: the local agent's daemon is started again when it died. */
  readonly beforeSubscribe?: () => Promise<void>;
  /** Serve `taskFiles` through the master's `/files` and operator API (the local agent is master and agent in one). */
  readonly files?: boolean;
  /**
   * Roles to subscribe with beside `FrameworkInfo.role` (MULTI_ROLE), e.g. `slave_public/svc-role`
   * for a pre-reserved role; SUPPRESS and REVIVE cover them all. @default [] (the main role only)
   */
  readonly roles?: readonly string[];
}

/** What the driver has seen (benchmarks, diagnostics). */
export interface MesosDriverStats {
  readonly subscriptions: number;
  /** Milliseconds from the last lost subscription to the SUBSCRIBED that followed it. */
  readonly lastResubscribeMs?: number;
  readonly offersReceived: number;
  readonly callsSent: number;
}

export const DEFAULT_BACKOFF = { initialMs: 200, maxMs: 15_000 } as const;
/** A REVIVE owed while the subscription stays up is sent again after 1 s, doubling up to 30 s. */
export const REVIVE_RETRY = { initialMs: 1000, maxMs: 30_000 } as const;
export const DEFAULT_REQUEST_TIMEOUT_MS = 75_000;

export class MesosDriver implements ClusterDriver {
  readonly taskFiles?: TaskFiles;
  private readonly transport: Transport;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private loop: SubscriptionLoop | undefined;
  private callsSent = 0;
  private closed = false;
  /** REVIVE and SUPPRESS go out one after the other: on separate connections a later one could overtake. */
  private offerStateCalls: Promise<void> = Promise.resolve();
  /** The timer that sends an owed REVIVE again, while one is armed. */
  private reviveRetry: Cancel | undefined;

  constructor(readonly options: MesosDriverOptions) {
    this.log = options.log;
    this.transport = new Transport({
      clock: options.clock,
      ...(options.credential !== undefined ? { credential: options.credential } : {}),
      ...(options.caFile !== undefined ? { caFile: options.caFile } : {}),
    });
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (options.files === true) {
      this.taskFiles = new MesosTaskFiles({
        transport: this.transport,
        timeoutMs: this.timeoutMs,
        target: () => {
          const t = this.loop?.fileTarget();
          if (t === undefined) throw new SchedulerError("unavailable", "task files: not subscribed to the Mesos master yet");
          return t;
        },
      });
    }
  }

  get stats(): MesosDriverStats {
    const s = this.loop?.stats;
    return {
      subscriptions: s?.subscriptions ?? 0,
      ...(s?.lastResubscribeMs !== undefined ? { lastResubscribeMs: s.lastResubscribeMs } : {}),
      offersReceived: s?.offersReceived ?? 0,
      callsSent: this.callsSent,
    };
  }

  /** Resolves at the first SUBSCRIBED; rejects failed_precondition when the master refuses the framework for good. */
  subscribe(framework: FrameworkInfo, events: ClusterEvents): Promise<void> {
    crashPoint("startup");
    if (this.closed) return Promise.reject(new SchedulerError("failed_precondition", "the Mesos driver is closed"));
    if (this.loop !== undefined) return Promise.reject(new SchedulerError("failed_precondition", "the Mesos driver is already subscribed"));
    const o = this.options;
    const detector = createDetector(o.master, { log: this.log, scheme: o.caFile !== undefined ? "https:" : "http:" });
    this.loop = new SubscriptionLoop({
      transport: this.transport,
      detector,
      framework,
      events,
      user: o.user,
      extraRoles: o.roles ?? [],
      clock: o.clock,
      random: o.random,
      log: this.log,
      backoff: o.backoff ?? DEFAULT_BACKOFF,
      timeoutMs: this.timeoutMs,
      // Offers that failed to decode are declined by id: an unanswered offer holds its resources.
      ...(o.beforeSubscribe ? { beforeSubscribe: o.beforeSubscribe } : {}),
      catchUp: (drift) => this.catchUp(drift),
      declineRejected: (ids) => void this.decline(ids).catch((err: unknown) => this.log.warn({ err, offers: ids }, "declining undecodable offers failed")),
    });
    return this.loop.start();
  }

  /** Offers of an earlier subscription are void: answering them is a no-op (the master forgot them). */
  async accept(offerIds: readonly string[], operations: readonly Operation[], filters?: Filters): Promise<void> {
    const loop = this.started("ACCEPT");
    const stale = loop.takeOffers(offerIds);
    if (stale.length > 0) {
      // The master forgot these offers when the subscription that brought them ended.
      this.log.debug({ offers: stale }, "ACCEPT of offers from an earlier subscription skipped");
      const live = offerIds.filter((id) => !stale.includes(id));
      if (live.length > 0) await this.call(loop, (fid) => encodeDecline(fid, live, filters));
      return;
    }
    crashPoint("after-task-record", launchedTaskIds(operations));
    await this.call(loop, (fid) => encodeAccept(fid, offerIds, operations, filters));
  }

  async decline(offerIds: readonly string[], filters?: Filters): Promise<void> {
    const loop = this.started("DECLINE");
    const stale = loop.takeOffers(offerIds);
    if (stale.length > 0) this.log.debug({ offers: stale }, "DECLINE of offers from an earlier subscription skipped");
    const live = offerIds.filter((id) => !stale.includes(id));
    if (live.length > 0) await this.call(loop, (fid) => encodeDecline(fid, live, filters));
  }

  async kill(taskId: string, agentId?: string): Promise<void> {
    await this.call(this.subscribed("KILL"), (fid) => encodeKill(fid, taskId, agentId));
  }

  /** `uuid` is the status's base64 text as decoded, echoed exactly (§12). */
  async acknowledge(agentId: string, taskId: string, uuid: string): Promise<void> {
    await this.call(this.subscribed("ACKNOWLEDGE"), (fid) => encodeAcknowledge(fid, agentId, taskId, uuid));
  }

  async reconcile(tasks: readonly { taskId: string; agentId?: string }[]): Promise<void> {
    await this.call(this.subscribed("RECONCILE"), (fid) => encodeReconcile(fid, tasks));
  }

  /**
   * Un-suppresses our roles and clears their filters. While not subscribed it is owed: the next
   * SUBSCRIBE leaves the roles out of suppressed_roles and the REVIVE follows its SUBSCRIBED
   * (also when that SUBSCRIBE was already on its way, still suppressed).
   */
  async revive(): Promise<void> {
    const loop = this.started("REVIVE");
    loop.setSuppressed(false);
    if (loop.target() === undefined) {
      loop.oweRevive();
      return;
    }
    try {
      await this.offerStateCall(loop, (fid) => encodeRevive(fid, loop.roles));
    } catch (err) {
      this.owe(loop);
      throw err;
    }
  }

  /** Suppresses our roles; kept in suppressed_roles on every resubscription (§13), sent after a SUBSCRIBED that missed it. */
  async suppress(): Promise<void> {
    const loop = this.started("SUPPRESS");
    loop.setSuppressed(true);
    if (loop.target() === undefined) return;
    await this.offerStateCall(loop, (fid) => encodeSuppress(fid, loop.roles));
  }

  /** At SUBSCRIBED: what its SUBSCRIBE did not carry of the revives and suppresses asked for. */
  private catchUp(drift: OfferStateDrift): void {
    const loop = this.loop;
    if (loop === undefined) return;
    this.log.info({ revive: drift.revive, suppress: drift.suppress }, "resubscribed: sending the revive/suppress the SUBSCRIBE did not carry");
    if (drift.suppress.length > 0) {
      this.offerStateCall(loop, (fid) => encodeSuppress(fid, drift.suppress)).catch((err: unknown) =>
        this.log.warn({ err }, "SUPPRESS after SUBSCRIBED failed; the next SUBSCRIBE carries it"),
      );
    }
    if (drift.revive.length > 0) {
      this.offerStateCall(loop, (fid) => encodeRevive(fid, drift.revive)).catch((err: unknown) => {
        this.owe(loop);
        this.log.warn({ err }, "REVIVE after SUBSCRIBED failed; sending it again");
      });
    }
  }

  /**
   * A REVIVE that failed is owed: the next SUBSCRIBED sends it, and while this subscription stays
   * up it is sent again (REVIVE_RETRY) until it goes, a SUPPRESS makes it moot or the
   * subscription ends. Otherwise a still-suppressed framework would wait for offers that never come.
   */
  private owe(loop: SubscriptionLoop, delayMs: number = REVIVE_RETRY.initialMs): void {
    loop.oweRevive();
    this.reviveRetry?.();
    this.reviveRetry = this.options.clock.setTimer(delayMs, () => {
      this.reviveRetry = undefined;
      if (this.closed || this.loop !== loop || !loop.owesRevive() || loop.target() === undefined) return;
      loop.reviveSent();
      this.offerStateCall(loop, (fid) => encodeRevive(fid, loop.roles)).catch((err: unknown) => {
        this.log.warn({ err }, "REVIVE failed again; sending it again");
        this.owe(loop, Math.min(delayMs * 2, REVIVE_RETRY.maxMs));
      });
    });
  }

  private offerStateCall(loop: SubscriptionLoop, build: (frameworkId: string) => JsonObject): Promise<void> {
    const sent = this.offerStateCalls.then(() => this.call(loop, build));
    this.offerStateCalls = sent.catch(() => undefined);
    return sent;
  }

  /** Removes the framework, then closes the stream for good (no resubscription). */
  async teardown(): Promise<void> {
    const loop = this.subscribed("TEARDOWN");
    await this.call(loop, (fid) => encodeTeardown(fid));
    loop.stop("torn down");
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reviveRetry?.();
    this.loop?.stop("closed");
    this.transport.close();
  }

  private started(what: string): SubscriptionLoop {
    if (this.loop === undefined) throw new SchedulerError("failed_precondition", `${what}: subscribe first`);
    return this.loop;
  }

  private subscribed(what: string): SubscriptionLoop {
    const loop = this.started(what);
    if (loop.target() === undefined) throw new SchedulerError("unavailable", `${what}: not subscribed to the Mesos master (resubscribing)`);
    return loop;
  }

  private async call(loop: SubscriptionLoop, build: (frameworkId: string) => JsonObject): Promise<void> {
    const target = loop.target();
    if (target === undefined) throw new SchedulerError("unavailable", "not subscribed to the Mesos master (resubscribing)");
    this.callsSent++;
    await postCall(this.transport, target, build(target.frameworkId), this.timeoutMs);
  }
}

function launchedTaskIds(operations: readonly Operation[]): string[] {
  return operations.flatMap((op) => (op.type === "LAUNCH_GROUP" ? op.tasks.map((t) => t.taskId) : []));
}

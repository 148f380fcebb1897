/**
 * Service removal from start to end (dcos-commons §3.7): the durable mark and STARTED event in
 * one write, the ServiceRemoval in the manager, PROGRESS events as steps complete, a stored
 * deadline after which the removal completes anyway (FORCED), and the end — the service's
 * subtree, its list entry and the COMPLETED/FORCED event in one atomic write — followed by the
 * library's UninstallCallback. Every change runs on the runner's work queue, between cycles.
 */
import type { UninstallEventView } from "./admin-api.js";
import { markDeregistered } from "../domain/plan/uninstall.js";
import type { MultiServiceManager } from "./multi-service-manager.js";
import type { Cancel, Clock, Logger, Persister, PersisterOp, Random, Versioned } from "./ports.js";
import type { SchedulerRunner } from "./runner.js";
import type { ServiceContext } from "./service-context.js";
import { ServiceRemoval, removalPath } from "./service-removal.js";
import type { RemovalRecord } from "./service-removal.js";
import { decodeJson, encodeJson } from "./store/codec.js";
import * as layout from "./store/layout.js";
import { StateStore } from "./store/state-store.js";
import type { UninstallEventFields, UninstallEventLog } from "./uninstall-events.js";
import { NEW_TRACE, NO_TRACER, SERVICE_ATTRIBUTE } from "./telemetry.js";
import { serviceSpanAttributes } from "./span-services.js";

/** How long after a failed final write a removal tries it again. */
export const FINISH_RETRY_MS = 5000;

/** A service to start removing. */
export interface RemovalRequest {
  readonly name: string;
  readonly configId: string;
  readonly context: ServiceContext | undefined;
  readonly timeoutMs: number | undefined;
}

/** The library API's UninstallCallback: runs after a removal's final write. */
export type UninstallCallback = (name: string, event: UninstallEventView) => void;

export interface RemovalsDeps {
  readonly persister: Persister;
  readonly manager: MultiServiceManager;
  readonly runner: SchedulerRunner;
  readonly events: UninstallEventLog;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly onRemoved?: UninstallCallback;
  /** The manager became empty after a removal (whole-scheduler uninstall waits for this). */
  readonly onEmpty?: () => void;
}

export class Removals {
  private readonly deadlines = new Map<string, Cancel>();
  private readonly retries = new Set<Cancel>();
  private readonly progressDue = new Set<ServiceRemoval>();
  /** Steps complete in the last event of each removal: a PROGRESS event only when it moved. */
  private readonly reported = new Map<string, number>();

  constructor(private readonly d: RemovalsDeps) {}

  /** The removal record in a stored `removalPath` node (recovery reads many at once), if any. */
  static record(v: Versioned | undefined): RemovalRecord | undefined {
    return v ? decodeJson<RemovalRecord>(v.data) : undefined;
  }

  /**
   * Recovery: a removal the previous scheduler did not finish goes on from its record. A record
   * written before removal ids takes its id from the event log (its STARTED, if retained).
   */
  async resume(name: string, record: RemovalRecord): Promise<ServiceRemoval> {
    const removal = await this.open(name, record);
    if (record.removalId === undefined) {
      const id = this.d.events.currentRemoval(name);
      if (id !== 0n) removal.assignRemovalId(id);
    }
    this.d.manager.put(removal);
    this.armDeadline(removal);
    this.d.log.info({ service: name, released: record.released.length }, "resuming the removal of a service");
    return removal;
  }

  /**
   * Starts removing `name`: record and STARTED event in one write (the record carries the
   * STARTED event's sequence number, the removal id), then the uninstall plan takes over.
   */
  async begin(name: string, configId: string, context: ServiceContext | undefined, timeoutMs: number | undefined): Promise<ServiceRemoval> {
    const [removal] = await this.beginMany([{ name, configId, context, timeoutMs }]);
    return removal!;
  }

  /**
   * Starts removing several services: their records and STARTED events in one write, in order,
   * before any of them kills a task. Hundreds of UninstallService calls in a burst then cost a
   * few durable writes, not one each (the caller keeps batches small enough for one multi).
   */
  async beginMany(requests: readonly RemovalRequest[]): Promise<ServiceRemoval[]> {
    const attributes = () => ({ "corral.removal": "begin", ...serviceSpanAttributes(requests.map((r) => r.name)) });
    return (this.d.runner.tracer ?? NO_TRACER).inSpan("engine.removal", attributes, () => this.beginInOrder(requests));
  }

  private async beginInOrder(requests: readonly RemovalRequest[]): Promise<ServiceRemoval[]> {
    const now = this.d.clock.now();
    const opened: { readonly removal: ServiceRemoval; readonly record: RemovalRecord; readonly name: string }[] = [];
    for (const r of requests) {
      const record: RemovalRecord = {
        startedMs: now,
        ...(r.timeoutMs !== undefined && r.timeoutMs > 0 ? { deadlineMs: now + r.timeoutMs } : {}),
        released: [],
        configId: r.configId,
        ...(r.context ? { context: r.context } : {}),
      };
      opened.push({ removal: await this.open(r.name, record), record, name: r.name });
    }
    const prepared = opened.map(({ removal, record, name }) => {
      const { complete, total } = removal.progress();
      return this.d.events.prepare({
        name,
        kind: "STARTED",
        stepsComplete: complete,
        stepsTotal: total,
        leftovers: [],
        message: record.deadlineMs === undefined ? "removal started" : `removal started; forced after ${new Date(record.deadlineMs).toISOString()}`,
      });
    });
    const ops = opened.flatMap(({ record, name }, i): PersisterOp[] => [
      { kind: "set", path: removalPath(name), data: encodeJson({ ...record, removalId: prepared[i]!.event.sequence.toString() }) },
      ...prepared[i]!.ops,
    ]);
    try {
      await this.d.persister.multi(ops);
    } catch (err) {
      for (const p of [...prepared].reverse()) this.d.events.abandon(p.event);
      throw err;
    }
    opened.forEach(({ removal, name }, i) => {
      const started = prepared[i]!.event;
      removal.assignRemovalId(started.sequence);
      this.d.events.publish(started);
      this.reported.set(name, started.stepsComplete);
      this.d.manager.put(removal);
      this.d.runner.serviceAdded(removal);
      this.armDeadline(removal);
      this.d.log.info({ service: name }, "removing service");
      if (removal.finished()) this.finishSoon(removal, false);
    });
    return opened.map((o) => o.removal);
  }

  stop(): void {
    for (const cancel of [...this.deadlines.values(), ...this.retries]) cancel();
    this.deadlines.clear();
    this.retries.clear();
  }

  private async open(name: string, record: RemovalRecord): Promise<ServiceRemoval> {
    const store = new StateStore(this.d.persister, name);
    const tasks = await store.loadTasks();
    const removal: ServiceRemoval = new ServiceRemoval(name, record, tasks, {
      store,
      random: this.d.random,
      log: this.d.log,
      write: (ops, progress) => this.writeProgress(removal, ops, progress),
      onDone: (r) => this.finishSoon(r, false),
      onProgress: (r) => this.progressSoon(r),
    });
    return removal;
  }

  private armDeadline(removal: ServiceRemoval): void {
    if (removal.deadlineMs === undefined) return;
    const delay = Math.max(0, removal.deadlineMs - this.d.clock.now());
    this.deadlines.set(removal.name, this.d.clock.setTimer(delay, () => this.finishSoon(removal, true)));
  }

  /** The final write, on the work queue; a failed one is tried again after FINISH_RETRY_MS. */
  private finishSoon(removal: ServiceRemoval, forced: boolean): void {
    this.d.runner.queue.post(forced ? "force-removal" : "finish-removal", async () => {
      try {
        const attributes = { [SERVICE_ATTRIBUTE]: removal.name, "corral.removal": forced ? "force" : "finish" };
        await (this.d.runner.tracer ?? NO_TRACER).inSpan("engine.removal", attributes, () => this.finish(removal, forced), NEW_TRACE);
      } catch (err) {
        this.d.log.warn({ err, service: removal.name }, "could not write the end of a removal; trying again");
        const cancel = this.d.clock.setTimer(FINISH_RETRY_MS, () => {
          this.retries.delete(cancel);
          this.finishSoon(removal, forced);
        });
        this.retries.add(cancel);
      }
    });
  }

  /** The end: subtree, list entry and the final event in one write; then the callback. */
  private async finish(removal: ServiceRemoval, forced: boolean): Promise<void> {
    const { name } = removal;
    if (this.d.manager.get(name) !== removal) return; // finished already
    if (!forced && !removal.finished()) return;
    const { complete, total } = removal.progress();
    const leftovers = forced ? removal.leftovers() : [];
    const event = await this.writeWithEvent(
      [
        { kind: "delete", path: layout.serviceRoot(name) },
        { kind: "delete", path: layout.serviceListEntry(name) },
      ],
      {
        name,
        removalId: removal.removalId,
        kind: forced ? "FORCED" : "COMPLETED",
        stepsComplete: forced ? complete : total,
        stepsTotal: total,
        leftovers,
        message: forced ? `removal timed out; left behind: ${leftovers.join(", ") || "nothing"}` : "service removed",
      },
    );
    markDeregistered(removal.plan);
    this.d.manager.remove(name);
    this.deadlines.get(name)?.();
    this.deadlines.delete(name);
    this.progressDue.delete(removal);
    // What a forced removal left behind, and what no step knew of, is collected when offered.
    this.d.runner.collectGarbage(forced ? [name] : []);
    this.d.log.info({ service: name, forced, leftovers }, forced ? "service removal forced" : "service removed");
    try {
      this.d.onRemoved?.(name, event);
    } catch (err) {
      this.d.log.error({ err, service: name }, "uninstall callback failed");
    }
    if (this.d.manager.size === 0 && this.d.manager.quarantined().length === 0) this.d.onEmpty?.();
  }

  private progressSoon(removal: ServiceRemoval): void {
    if (this.progressDue.has(removal)) return;
    this.progressDue.add(removal);
    this.d.runner.queue.post("removal-progress", async () => {
      if (!this.progressDue.delete(removal) || this.d.manager.get(removal.name) !== removal) return;
      await this.writeProgress(removal, [], removal.progress());
    });
  }

  private async writeProgress(removal: ServiceRemoval, ops: readonly PersisterOp[], progress: { readonly complete: number; readonly total: number }): Promise<void> {
    const { name } = removal;
    if (this.reported.get(name) === progress.complete) {
      if (ops.length > 0) await this.d.persister.multi(ops);
      return;
    }
    await this.writeWithEvent(ops, {
      name,
      removalId: removal.removalId,
      kind: "PROGRESS",
      stepsComplete: progress.complete,
      stepsTotal: progress.total,
      leftovers: [],
      message: "",
    });
  }

  /** `ops` (or the ops made from the prepared event) and the event, in one write. */
  private async writeWithEvent(
    ops: readonly PersisterOp[] | ((event: UninstallEventView) => readonly PersisterOp[]),
    fields: UninstallEventFields,
  ): Promise<UninstallEventView> {
    const { event, ops: eventOps } = this.d.events.prepare(fields);
    try {
      await this.d.persister.multi([...(typeof ops === "function" ? ops(event) : ops), ...eventOps]);
    } catch (err) {
      this.d.events.abandon(event);
      throw err;
    }
    this.d.events.publish(event);
    if (event.kind === "COMPLETED" || event.kind === "FORCED") this.reported.delete(event.name);
    else this.reported.set(event.name, event.stepsComplete);
    return event;
  }
}

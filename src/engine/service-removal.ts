/**
 * A service being removed (the reference's UninstallScheduler, §3.7). It takes the service's
 * place in the manager and works only from what is stored — the tasks and the removal record —
 * so it removes deploying, deployed, failed and quarantined services alike, and a restarted
 * scheduler resumes it from the store. Kill every task; once all are dead, release every
 * reservation labelled with the service's namespace from the offers (DESTROY volumes, then
 * UNRESERVE), recording each release durably before the operation leaves; then tell the
 * scheduler it may deregister.
 */
import type { Offer, Operation, Resource, TaskInfo, TaskStatus } from "../domain/cluster.js";
import { LABEL_NAMESPACE, LABEL_RESOURCE_ID, isTerminal } from "../domain/cluster.js";
import { sanitizeServiceName } from "../domain/names.js";
import { reservationLabels } from "../domain/offer/pool.js";
import { cleanupOperations } from "../domain/offer/release.js";
import type { Plan } from "../domain/plan/model.js";
import {
  buildUninstallPlan,
  killsDone,
  markKill,
  markReleased,
  releasesDone,
  uninstallLeftovers,
  uninstallProgress,
} from "../domain/plan/uninstall.js";
import { parseTaskId } from "../domain/task-id.js";
import type { Logger, PersisterOp, Random } from "./ports.js";
import type { ServiceContext } from "./service-context.js";
import type { ClientStatus, OfferResult } from "./service-scheduler.js";
import { isLive, confirmsLaunch } from "./service-tasks.js";
import { encodeJson } from "./store/codec.js";
import * as layout from "./store/layout.js";
import type { StateStore, StoredTask } from "./store/state-store.js";

/** `ServiceList/<escaped>/Removal`: the durable mark that a service is being removed. */
export interface RemovalRecord {
  readonly startedMs: number;
  /** When the removal completes anyway (FORCED); absent = never (whole-scheduler uninstall). */
  readonly deadlineMs?: number;
  /** Resource ids whose release was sent. */
  readonly released: readonly string[];
  /** What the service looked like, for the views while it is removed. */
  readonly configId: string;
  readonly context?: ServiceContext;
  /**
   * The removal's id, the sequence number of its STARTED event (decimal), carried by each of its
   * uninstall events. Absent in records written before removal ids.
   */
  readonly removalId?: string;
}

export interface RemovalDeps {
  readonly store: StateStore;
  readonly random: Random;
  readonly log: Logger;
  /** Writes ops in one multi, with a PROGRESS event at `progress` when it moved. */
  readonly write: (ops: readonly PersisterOp[], progress: { readonly complete: number; readonly total: number }) => Promise<void>;
  /** Every task is dead and every known reservation released: the removal may complete. */
  readonly onDone: (removal: ServiceRemoval) => void;
  /** Steps completed (statuses): worth a PROGRESS event. */
  readonly onProgress: (removal: ServiceRemoval) => void;
}

export interface PreparedRemovalStatus {
  readonly service: ServiceRemoval;
  readonly instance: string;
  readonly status: TaskStatus;
  readonly ops: readonly PersisterOp[];
}

export class ServiceRemoval {
  readonly sanitizedName: string;
  readonly plan: Plan;
  private released: Set<string>;
  private unreconciled = new Set<string>();
  private dirty = true;
  private announcedRelease = false;
  private doneSignalled = false;

  constructor(
    readonly name: string,
    private record: RemovalRecord,
    private readonly tasks: Map<string, StoredTask>,
    private readonly deps: RemovalDeps,
  ) {
    this.sanitizedName = sanitizeServiceName(name);
    this.released = new Set(record.released);
    const reservations = new Set<string>();
    for (const t of tasks.values()) {
      if (!t.confirmed) continue; // never reported on: its reservations may never have existed
      for (const r of t.info.resources) {
        const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
        if (id !== undefined) reservations.add(id);
      }
    }
    this.plan = buildUninstallPlan(
      [...tasks.values()].map((t) => ({ taskId: t.info.taskId, dead: t.status !== undefined && isTerminal(t.status.state) })),
      [...reservations].sort().map((resourceId) => ({ resourceId, released: this.released.has(resourceId) })),
      () => deps.random.uuid(),
    );
  }

  get startedMs(): number {
    return this.record.startedMs;
  }

  get deadlineMs(): number | undefined {
    return this.record.deadlineMs;
  }

  get configId(): string {
    return this.record.configId;
  }

  /** The id its uninstall events carry (0 when unknown). */
  get removalId(): bigint {
    return this.record.removalId === undefined ? 0n : BigInt(this.record.removalId);
  }

  /** Sets the removal id (once its STARTED event is written, or when resuming an older record); stored with the next record write. */
  assignRemovalId(id: bigint): void {
    this.record = { ...this.record, removalId: id.toString() };
  }

  get context(): ServiceContext | undefined {
    return this.record.context;
  }

  allPlans(): Plan[] {
    return [this.plan];
  }

  progress(): { readonly complete: number; readonly total: number } {
    return uninstallProgress(this.plan);
  }

  leftovers(): string[] {
    return uninstallLeftovers(this.plan);
  }

  /** Every task is dead and every known reservation released. */
  finished(): boolean {
    return killsDone(this.plan) && releasesDone(this.plan);
  }

  /** Tasks not known dead: they are killed (and reconciled) at registration. */
  liveTasks(): TaskInfo[] {
    return [...this.tasks.values()].filter((t) => !t.status || isLive(t.status)).map((t) => t.info);
  }

  registered(_frameworkId: string): { reconcile: TaskInfo[]; kill: TaskInfo[] } {
    const live = this.liveTasks();
    this.unreconciled = new Set(live.map((i) => i.taskId));
    for (const info of live) markKill(this.plan, info.taskId, false);
    this.dirty = true;
    return { reconcile: live, kill: live };
  }

  pendingReconciliation(): TaskInfo[] {
    return this.liveTasks().filter((i) => this.unreconciled.has(i.taskId));
  }

  /** Working until finished: offers are needed to find the reservations to release. */
  status(): ClientStatus {
    this.signalIfDone();
    if (this.finished()) return { kind: "IDLE" };
    const newWork = this.dirty && killsDone(this.plan) && !this.announcedRelease;
    if (newWork) this.announcedRelease = true;
    this.dirty = false;
    return { kind: "WORKING", footprint: false, newWork };
  }

  /** Releases this service's reservations found in `offers`; each release is stored before it is sent. */
  async offers(offers: readonly Offer[]): Promise<OfferResult> {
    const operations = new Map<string, Operation[]>();
    if (!killsDone(this.plan)) return { ready: true, unplaced: 0, operations };
    const found: { offerId: string; resources: Resource[] }[] = [];
    for (const offer of offers) {
      const mine = offer.resources.filter((r) => reservationLabels(r)?.[LABEL_NAMESPACE] === this.name);
      if (mine.length > 0) found.push({ offerId: offer.id, resources: mine });
    }
    const ids = found.flatMap((f) => f.resources.map((r) => reservationLabels(r)?.[LABEL_RESOURCE_ID] ?? "")).filter((id) => id !== "");
    if (found.length > 0) {
      const released = [...new Set([...this.released, ...ids])].sort();
      const next: RemovalRecord = { ...this.record, released };
      // Steps are marked first so the PROGRESS event says where the write leaves us; a failed
      // write puts them back, and nothing leaves.
      const steps = this.plan.phases[1]!.steps;
      const before = steps.map((s) => s.status);
      for (const id of ids) markReleased(this.plan, id);
      try {
        await this.deps.write([{ kind: "set", path: removalPath(this.name), data: encodeJson(next) }], this.progress());
      } catch (err) {
        // Nothing leaves; the reservations come back in a later offer.
        steps.forEach((s, i) => (s.status = before[i]!));
        this.deps.log.warn({ err, service: this.name }, "could not record the release of reservations; trying with a later offer");
        return { ready: false, unplaced: steps.filter((s) => s.status !== "COMPLETE").length, operations };
      }
      this.record = next;
      this.released = new Set(released);
      for (const f of found) operations.set(f.offerId, cleanupOperations(f.resources));
      this.deps.log.info({ service: this.name, reservations: ids.length }, "releasing the service's reservations");
    }
    this.signalIfDone();
    const unplaced = this.plan.phases[1]!.steps.filter((s) => s.status !== "COMPLETE").length;
    return { ready: true, unplaced, operations };
  }

  /** Everything in these offers is handled by `offers`; nothing is left for garbage collection. */
  unexpectedResources(_resources: readonly Resource[]): Resource[] {
    return [];
  }

  prepareStatus(status: TaskStatus): PreparedRemovalStatus | "unknown" {
    const instance = parseTaskId(status.taskId).taskName;
    const stored = this.tasks.get(instance);
    if (!stored || stored.info.taskId !== status.taskId) return "unknown";
    const confirm = !stored.confirmed && confirmsLaunch(status);
    return { service: this, instance, status, ops: this.deps.store.statusOps(instance, status, confirm) };
  }

  /** A live task's status says "kill it" (we are removing it); a terminal one completes its step. */
  applyStatus(prepared: PreparedRemovalStatus): "processed" | "unknown" {
    const { instance, status } = prepared;
    const stored = this.tasks.get(instance);
    if (!stored || stored.info.taskId !== status.taskId) return "unknown";
    this.unreconciled.delete(status.taskId);
    this.tasks.set(instance, { ...stored, status, confirmed: stored.confirmed || confirmsLaunch(status) });
    if (!isTerminal(status.state)) return "unknown";
    if (markKill(this.plan, status.taskId, true)) {
      this.dirty = true;
      this.deps.onProgress(this);
    }
    this.signalIfDone();
    return "processed";
  }

  private signalIfDone(): void {
    if (this.doneSignalled || !this.finished()) return;
    this.doneSignalled = true;
    this.deps.onDone(this);
  }
}

export function removalPath(service: string): string {
  return `${layout.serviceListEntry(service)}/Removal`;
}

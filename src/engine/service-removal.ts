/**
 * A service being removed (the reference's UninstallScheduler, §3.7). It takes the service's
 * place in the manager and works only from what is stored — the tasks and the removal record —
 * so it removes deploying, deployed, failed and quarantined services alike, and a restarted
 * scheduler resumes it from the store. Kill every task; once all are dead, release every
 * reservation of the service from the offers — labelled with its namespace, or ours without a
 * label when it is the framework's default service — (DESTROY volumes, then UNRESERVE),
 * recording each release durably before the operation leaves; then tell the scheduler it may
 * deregister.
 */
import type { Offer, Operation, Resource, TaskInfo, TaskStatus } from "../domain/cluster.js";
import { isTerminal } from "../domain/cluster.js";
import { SchedulerError } from "../domain/errors.js";
import { sanitizeServiceName } from "../domain/names.js";
import type { Plan } from "../domain/plan/model.js";
import { killsDone, markKill, markReleased, releasesDone, uninstallLeftovers, uninstallProgress } from "../domain/plan/uninstall.js";
import { decideRemoval, removalPlan } from "../domain/service/removal.js";
import type { StoredTask } from "../domain/service/task-record.js";
import { confirmsLaunch, mayBeLive } from "../domain/service/task-record.js";
import { parseTaskId } from "../domain/task-id.js";
import type { PlanControlResult, ServiceView } from "./admin-api.js";
import type { ClientStatus, ManagedService, OfferResult, PodControlOutcome, PodState, PreparedControl, UpdateOutcome } from "./managed-service.js";
import type { Logger, PersisterOp, Random } from "./ports.js";
import type { ServiceContext } from "./service-context.js";
import { removalView } from "./service-view.js";
import { encodeJson } from "./store/codec.js";
import * as layout from "./store/layout.js";
import type { StateStore } from "./store/state-store.js";

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
  apply(): "processed" | "unknown";
}

export class ServiceRemoval implements ManagedService {
  readonly sanitizedName: string;
  readonly defaultPlan = "uninstall";
  readonly removing = true;
  readonly plan: Plan;
  private released: Set<string>;
  private unreconciled = new Set<string>();
  private dirty = true;
  private announcedRelease = false;
  private doneSignalled = false;
  /** The framework's default service (the event client says): it releases our unlabelled reservations too. */
  private isDefault = false;
  /** Resource ids released on each offer of the last release, for `acceptRefused`. */
  private releasedOn = new Map<string, readonly string[]>();

  constructor(
    readonly name: string,
    private record: RemovalRecord,
    private readonly tasks: Map<string, StoredTask>,
    private readonly deps: RemovalDeps,
  ) {
    this.sanitizedName = sanitizeServiceName(name);
    this.released = new Set(record.released);
    this.plan = removalPlan(tasks, this.released, () => deps.random.uuid());
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

  view(): ServiceView {
    return removalView(this);
  }

  prepareUpdate(): UpdateOutcome {
    throw new SchedulerError("failed_precondition", `service '${this.name}' is being uninstalled; put it again once its removal completed`);
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
    return [...this.tasks.values()].filter(mayBeLive).map((t) => t.info);
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
    const { kills, releases } = decideRemoval(this.name, this.plan, this.tasks, offers, this.isDefault);
    const withKills = kills.length > 0 ? { kills } : {};
    if (releases.length > 0) {
      const ids = releases.flatMap((r) => r.resourceIds);
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
        return { ready: false, unplaced: steps.filter((s) => s.status !== "COMPLETE").length, operations, ...withKills };
      }
      this.record = next;
      this.released = new Set(released);
      for (const r of releases) operations.set(r.offerId, [...r.operations]);
      this.releasedOn = new Map(releases.map((r) => [r.offerId, r.resourceIds]));
      this.deps.log.info({ service: this.name, reservations: ids.length }, "releasing the service's reservations");
    }
    this.signalIfDone();
    const unplaced = killsDone(this.plan) ? this.plan.phases[1]!.steps.filter((s) => s.status !== "COMPLETE").length : 0;
    return { ready: true, unplaced, operations, ...withKills };
  }

  /** The cluster refused an ACCEPT: its reservations were not released and are looked for again. */
  acceptRefused(offerId: string, reason: string): void {
    const ids = this.releasedOn.get(offerId) ?? [];
    this.releasedOn.delete(offerId);
    if (ids.length === 0) return;
    for (const s of this.plan.phases[1]!.steps) {
      if (ids.some((id) => s.name === `unreserve-${id}`)) {
        s.status = "PENDING";
        s.message = `the cluster refused the release: ${reason}`;
      }
    }
    for (const id of ids) this.released.delete(id);
    this.record = { ...this.record, released: [...this.released].sort() };
    this.dirty = true;
    // If this cycle's release completed the plan it has signalled done already; the final write,
    // queued behind the cycle, finds the removal unfinished and drops it. Re-armed, the release
    // that really completes it signals again (else the removal waits for a restart to resume it).
    this.doneSignalled = false;
  }

  cycleFailed(error: string): void {
    this.deps.log.warn({ service: this.name, error }, "the removal's offer cycle failed; trying again next cycle");
    this.dirty = true;
  }
  controlPlan(): PreparedControl<PlanControlResult> {
    throw this.beingRemoved();
  }

  controlPod(): PreparedControl<PodControlOutcome> {
    throw this.beingRemoved();
  }

  pods(): PodState[] {
    return [];
  }

  private beingRemoved(): SchedulerError {
    return new SchedulerError("failed_precondition", `service '${this.name}' is being removed; its plans and pods can no longer be steered`);
  }


  defaultService(isDefault: boolean): void {
    this.isDefault = isDefault;
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
    const prepared: PreparedRemovalStatus = {
      service: this,
      instance,
      status,
      ops: this.deps.store.statusOps(instance, status, confirm),
      apply: () => this.applyStatus(prepared),
    };
    return prepared;
  }

  /** A live task's status says "kill it" (we are removing it); a terminal one completes its step. */
  private applyStatus(prepared: PreparedRemovalStatus): "processed" | "unknown" {
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

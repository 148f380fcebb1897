/**
 * One simulated agent: its resource accounting (`SimLedger`), executors, task holdings and
 * decline filters. Offer operations (mesos-v1-api.md §10) are validated against the remaining
 * resources of the accepted offers and, when valid, convert `remaining` and the agent's
 * resources together; an invalid operation changes nothing and returns the reason.
 */
import type { ExecutorInfo, Resource, TaskInfo } from "../../domain/cluster.js";
import { agentResources, type SimAgentSpec, type SimFramework } from "./sim-agent-spec.js";
import { SimLedger } from "./sim-ledger.js";
import { firstInvalid, invalidReserve, popReservation, stripDisk } from "./sim-resource-checks.js";
import { canonical } from "./sim-resources.js";
import type { ResourceBag } from "./sim-resources.js";

export { frameworkRoles } from "./sim-agent-spec.js";
export type { PreReservedPool, SimAgentSpec, SimFramework } from "./sim-agent-spec.js";



interface SimExecutor {
  readonly resources: readonly Resource[];
  /** The ExecutorInfo it was launched with: a launch into it must repeat it exactly. */
  readonly info: ExecutorInfo;
  readonly tasks: Set<string>;
}

/**
 * "unreachable" after `crashAgent` (it may come back), "gone" after `removeAgent` (the operator
 * removed it for good); neither offers anything.
 */
export type SimAgentState = "active" | "unreachable" | "gone";

/** One agent: its resources in their current shape, who holds them, and its decline filters. */
export class SimAgent {
  readonly id: string;
  readonly hostname: string;
  readonly attributes: Readonly<Record<string, string>> | undefined;
  state: SimAgentState = "active";
  readonly ledger: SimLedger;
  private filters: { readonly bag: ResourceBag; readonly untilMs: number }[] = [];
  private readonly executors = new Map<string, SimExecutor>();
  private readonly taskHoldings = new Map<
    string,
    { readonly executorId: string; readonly resources: readonly Resource[] }
  >();

  constructor(spec: SimAgentSpec, index: number, masterId: string) {
    this.id = spec.id ?? `${masterId}-S${index}`;
    this.hostname = spec.hostname ?? `agent-${index}.sim.local`;
    this.attributes = spec.attributes;
    this.ledger = new SimLedger(agentResources(spec));
  }

  /** Refuse offers made only of `bag` (or less) until `untilMs`, like Mesos' RefusedOfferFilter. */
  addFilter(bag: ResourceBag, untilMs: number): void {
    this.filters.push({ bag: bag.clone(), untilMs });
  }

  /** REVIVE, teardown. */
  clearFilters(): void {
    this.filters = [];
  }

  /** Whether an offer of `bag` is refused by a live filter. Drops expired filters. */
  isFiltered(bag: ResourceBag, nowMs: number): boolean {
    if (this.filters.length === 0) return false;
    if (this.filters.some((f) => f.untilMs <= nowMs)) {
      this.filters = this.filters.filter((f) => f.untilMs > nowMs);
    }
    return this.filters.some((f) => f.bag.containsAll(bag));
  }

  /** `allocationRole`: the role the accepted offers were allocated to (unchecked when restoring). */
  reserve(
    remaining: ResourceBag,
    resources: readonly Resource[],
    fw: SimFramework,
    allocationRole?: string,
  ): string | undefined {
    if (resources.length === 0) return "RESERVE without resources";
    for (const r of resources) {
      const bad = invalidReserve(r, fw, allocationRole);
      if (bad) return bad;
    }
    return this.convert(remaining, resources.map(popReservation), resources, "RESERVE");
  }

  unreserve(remaining: ResourceBag, resources: readonly Resource[]): string | undefined {
    if (resources.length === 0) return "UNRESERVE without resources";
    for (const r of resources) {
      if (r.reservations?.at(-1)?.type !== "DYNAMIC") {
        return `UNRESERVE of ${r.name}: not dynamically reserved`;
      }
      if (r.disk?.persistence) {
        return `UNRESERVE of persistent volume ${r.disk.persistence.id}: DESTROY it first`;
      }
    }
    return this.convert(remaining, resources, resources.map(popReservation), "UNRESERVE");
  }

  create(remaining: ResourceBag, volumes: readonly Resource[]): string | undefined {
    if (volumes.length === 0) return "CREATE without volumes";
    const existing = new Set<string>();
    for (const v of volumes) {
      const id = v.disk?.persistence?.id;
      if (v.name !== "disk" || !id) return "CREATE needs disk resources with disk.persistence.id";
      if (!v.reservations || v.reservations.length === 0) {
        return `CREATE of volume ${id}: the disk must be reserved`;
      }
      if (v.disk?.volume && v.disk.volume.mode !== "RW") {
        return `CREATE of volume ${id}: mode must be RW`;
      }
      if (existing.has(id) || this.ledger.hasVolume(id)) {
        return `CREATE of volume ${id}: persistence id already in use on agent ${this.id}`;
      }
      existing.add(id);
    }
    return this.convert(remaining, volumes.map(stripDisk), volumes, "CREATE");
  }

  destroy(remaining: ResourceBag, volumes: readonly Resource[]): string | undefined {
    if (volumes.length === 0) return "DESTROY without volumes";
    if (volumes.some((v) => !v.disk?.persistence)) {
      return "DESTROY of a disk that is not a persistent volume";
    }
    return this.convert(remaining, volumes, volumes.map(stripDisk), "DESTROY");
  }

  /**
   * Validates a LAUNCH_GROUP (§11) and, when valid, moves the executor's (if new) and the
   * tasks' resources from `remaining` to `used`.
   */
  launch(
    remaining: ResourceBag,
    op: { readonly executor: ExecutorInfo; readonly tasks: readonly TaskInfo[] },
    fw: SimFramework,
    isLiveTaskId: (taskId: string) => boolean,
    strictExecutor: boolean,
  ): string | undefined {
    const { executor, tasks } = op;
    const bad = this.invalidGroup(executor, tasks, fw, isLiveTaskId);
    if (bad) return bad;
    // Mesos compares the whole ExecutorInfo (id, framework, resources, container…), §11.
    // Compared only when the id is live: most launches start a new executor.
    const live = this.executors.get(executor.executorId);
    if (live && live.info !== executor && canonical(live.info) !== canonical(executor)) {
      return `executor ${executor.executorId} is running with a different ExecutorInfo`;
    }
    if (!live && strictExecutor) {
      const sum = (name: string): number =>
        executor.resources.reduce((n, r) => n + (r.name === name ? (r.scalar ?? 0) : 0), 0);
      if (sum("cpus") < 0.01 || sum("mem") < 32) {
        return `executor ${executor.executorId} needs at least 0.01 cpus and 32 MB mem`;
      }
    }
    const need = this.ledger.list([
      ...(live ? [] : executor.resources),
      ...tasks.flatMap((t) => t.resources),
    ]);
    const needBag = need.bag();
    if (!remaining.containsAll(needBag)) {
      return `insufficient resources: task group needs ${needBag.describe()}; offer has ${remaining.describe()}`;
    }
    this.ledger.use(remaining, need, needBag);
    const exec = live ?? { resources: executor.resources, info: executor, tasks: new Set<string>() };
    this.executors.set(executor.executorId, exec);
    for (const t of tasks) {
      exec.tasks.add(t.taskId);
      this.taskHoldings.set(t.taskId, { executorId: executor.executorId, resources: t.resources });
    }
    return undefined;
  }

  /** Frees a terminal task's resources, and its executor's once the executor has no task left. */
  releaseTask(taskId: string): void {
    const held = this.taskHoldings.get(taskId);
    if (!held) return;
    this.taskHoldings.delete(taskId);
    this.ledger.release(this.ledger.bag(held.resources));
    const exec = this.executors.get(held.executorId);
    if (!exec) return;
    exec.tasks.delete(taskId);
    if (exec.tasks.size > 0) return;
    this.ledger.release(this.ledger.bag(exec.resources));
    this.executors.delete(held.executorId);
  }

  private invalidGroup(
    executor: ExecutorInfo,
    tasks: readonly TaskInfo[],
    fw: SimFramework,
    isLiveTaskId: (taskId: string) => boolean,
  ): string | undefined {
    if (tasks.length === 0) return "LAUNCH_GROUP without tasks";
    if (!executor.executorId) return "executor without executorId";
    if (executor.frameworkId !== fw.id) {
      return `executor frameworkId '${executor.frameworkId}' is not '${fw.id}'`;
    }
    const ids = new Set<string>();
    for (const t of tasks) {
      if (!t.taskId) return `task '${t.name}' without taskId`;
      if (ids.has(t.taskId) || isLiveTaskId(t.taskId)) return `task ${t.taskId}: duplicate task ID`;
      ids.add(t.taskId);
      if (t.agentId !== this.id) {
        return `task ${t.taskId}: agentId '${t.agentId}' is not the offer's agent '${this.id}'`;
      }
      if (t.resources.length === 0) return `task ${t.taskId}: no resources`;
      const bad = firstInvalid(t.resources);
      if (bad) return `task ${t.taskId}: ${bad}`;
    }
    return firstInvalid(executor.resources);
  }

  private convert(
    remaining: ResourceBag,
    from: readonly Resource[],
    to: readonly Resource[],
    what: string,
  ): string | undefined {
    const bad = firstInvalid(to);
    if (bad) return `${what}: ${bad}`;
    const take = this.ledger.bag(from);
    if (!remaining.containsAll(take)) {
      return `${what}: ${take.describe()} not in the offer (offer has ${remaining.describe()})`;
    }
    this.ledger.convert(remaining, take, this.ledger.list(to));
    return undefined;
  }
}

/**
 * An in-process Mesos master with agents, for engine tests (FakeClock) and benchmarks /
 * `--cluster sim` (SystemClock). Deterministic for a given Clock and Random. Follows
 * mesos-v1-api.md §6–§14: offers of unreserved plus role-reserved resources, sequential
 * offer operations with Mesos' validation, decline filters, revive/suppress, at-least-once
 * status updates and reconciliation. Every event is delivered from a clock timer, never inside
 * the driver call that caused it, and an ACCEPT is applied from one too, as a master answers
 * the call before it works on it.
 *
 * Parts: sim-master.ts (state, ACCEPT, allocation), sim-agent.ts (per-agent operations),
 * sim-agent-spec.ts (an agent's resources: amounts, ports, STATIC pools; the framework's roles),
 * sim-ledger.ts (per-agent accounting), sim-offers.ts (outstanding offers), sim-tasks.ts (task
 * lifecycle), sim-status.ts (acknowledged delivery with retries), sim-resources.ts (resource
 * arithmetic), sim-resource-checks.ts (per-resource checks), sim-json.ts (canonical JSON).
 */
import type {
  Filters,
  Offer,
  Operation,
  Resource,
  TaskInfo,
  TaskState,
  TaskStatus,
} from "../../domain/cluster.js";
import { isTerminal } from "../../domain/cluster.js";
import { SchedulerError } from "../../domain/errors.js";
import type { ClusterDriver, ClusterEvents, FrameworkInfo } from "../../engine/ports.js";
import { SimMaster } from "./sim-master.js";
import type { SimCounts, SimRejectedOperation, SimulatedClusterOptions } from "./sim-master.js";
import type { SimAgent } from "./sim-agent.js";
import { latestStatus, masterStatus, unknownTaskStatus } from "./sim-status.js";
import type { Extra, SimTask } from "./sim-tasks.js";
import { restoreSnapshot, takeSnapshot } from "./sim-snapshot.js";
import type { MasterSnapshot, RestoreProblem } from "./sim-snapshot.js";

export type { SimAgentSpec } from "./sim-agent.js";
export type { SimCounts, SimRejectedOperation, SimulatedClusterOptions } from "./sim-master.js";
export { LABEL_SIM_EXIT_AFTER_MS, LABEL_SIM_EXIT_CODE } from "./sim-tasks.js";
export type { Extra, SimTask, SimTaskScript, TaskRuntime } from "./sim-tasks.js";
export type { MasterSnapshot, RestoreProblem } from "./sim-snapshot.js";

/** A live task as the test helpers show it. */
export interface SimTaskView {
  readonly taskId: string;
  readonly name: string;
  readonly agentId: string;
  readonly state: TaskState;
  readonly info: TaskInfo;
}

/**
 * The simulated cluster as a `ClusterDriver`, plus test helpers (`tasks()`, `reservations()`,
 * `failTask()`, `crashAgent()`, `counts`…) that engine tests use to observe and perturb it.
 * Nothing runs, so it serves no task files (`taskFiles` unset): ListTasks shows pid 0 and no
 * sandbox, TaskLog answers FAILED_PRECONDITION.
 */
export class SimulatedCluster implements ClusterDriver {
  private readonly m: SimMaster;
  private extraRoles: readonly string[] | undefined;

  constructor(options: SimulatedClusterOptions) {
    this.m = new SimMaster(options);
  }

  /** Calls seen so far. */
  get counts(): SimCounts {
    return this.m.counts;
  }

  /** Prefix of generated IDs: agents `<id>-S0`, offers `<id>-O1`, frameworks `<id>-0000`. */
  get masterId(): string {
    return this.m.masterId;
  }

  /** The subscribed framework's ID (kept while disconnected, cleared by teardown). */
  get frameworkId(): string | undefined {
    return this.m.framework?.id;
  }

  // ClusterDriver -------------------------------------------------------------------------------

  async subscribe(info: FrameworkInfo, events: ClusterEvents): Promise<void> {
    const known = info.frameworkId;
    if (known !== undefined && this.m.removedFrameworks.has(known)) {
      throw new SchedulerError("failed_precondition", `framework ${known} has been removed`);
    }
    const id = known ?? this.m.newFrameworkId();
    const roles = [info.role, ...(this.extraRoles ?? this.m.options.roles ?? []).filter((r) => r !== info.role)];
    this.m.activate(events, { id, role: info.role, principal: info.principal, roles });
  }

  /** Roles the next subscriptions add to FrameworkInfo.role (the local agent's MULTI_ROLE frameworks). */
  setExtraRoles(roles: readonly string[]): void {
    this.extraRoles = roles;
  }

  async accept(
    offerIds: readonly string[],
    ops: readonly Operation[],
    filters?: Filters,
  ): Promise<void> {
    const fw = this.m.requireSubscribed();
    this.m.counts.accepts++;
    // A master answers the call, then works: offer checks and operations run from a timer, in
    // call order, and an invalid offer is told as TASK_DROPPED, never as a failed call. With
    // real processes (the local cluster) they apply in the call: its owner saves the master's
    // state when the call returns, before any process starts.
    if (this.m.options.runtime) this.m.accept(fw, offerIds, ops, filters);
    else this.m.schedule(0, () => this.m.accept(fw, offerIds, ops, filters));
  }

  /**
   * Tells the scheduler about a task group the local agent's codec refused before it reached the
   * books (call-codec.ts `refused`): each task ends at once, as a master status without a uuid.
   * Mesos sends a launch its agent cannot start as an agent TASK_FAILED; the scheduler treats
   * both alike (the launch did not happen), so the master's form is kept for both.
   */
  refuseGroup(tasks: readonly TaskInfo[], state: "TASK_ERROR" | "TASK_FAILED", reason: string, message: string): void {
    this.m.requireSubscribed();
    const now = this.m.now();
    for (const t of tasks) this.m.sendMaster(masterStatus(t.taskId, state, now, reason, message, t.agentId));
  }

  async decline(offerIds: readonly string[], filters?: Filters): Promise<void> {
    this.m.requireSubscribed();
    this.m.counts.declines++;
    for (const id of offerIds) {
      const held = this.m.offers.remove(id);
      if (held) this.m.refuse(held.agent, held.bag, filters);
    }
    this.m.requestAllocation();
  }

  /** KILL; an unknown task is answered like an explicit reconciliation (§6). */
  async kill(taskId: string, agentId?: string): Promise<void> {
    this.m.requireSubscribed();
    this.m.counts.kills++;
    const task = this.ownTask(taskId);
    if (task) this.m.tasks.kill(task);
    else this.m.sendMaster(this.unknownStatus(taskId, agentId));
  }

  /** ACKNOWLEDGE; a wrong agent, task or uuid is dropped silently, as by the master. */
  async acknowledge(agentId: string, taskId: string, uuid: string): Promise<void> {
    this.m.requireSubscribed();
    this.m.counts.acknowledges++;
    this.m.tasks.acknowledge(agentId, taskId, uuid);
  }

  /** RECONCILE (§14): master updates, no uuid; empty = every task the master tracks. */
  async reconcile(tasks: readonly { taskId: string; agentId?: string }[]): Promise<void> {
    const fw = this.m.requireSubscribed();
    this.m.counts.reconciles++;
    const latest = (t: SimTask): TaskStatus =>
      latestStatus(t.info.taskId, t.agent.id, t.lastSent, this.m.now());
    const answer = (taskId: string, agentId?: string): TaskStatus => {
      const task = this.ownTask(taskId);
      return task ? latest(task) : this.unknownStatus(taskId, agentId);
    };
    const statuses =
      tasks.length > 0
        ? tasks.map((t) => answer(t.taskId, t.agentId))
        : this.m.tasks.all().flatMap((t) => (t.frameworkId === fw.id ? [latest(t)] : []));
    for (const s of statuses) this.m.sendMaster(s);
  }

  /** REVIVE: clears every decline filter and un-suppresses. */
  async revive(): Promise<void> {
    this.m.requireSubscribed();
    this.m.counts.revives++;
    this.m.suppressed = false;
    for (const agent of this.m.agents) agent.clearFilters();
    this.m.requestAllocation();
  }

  /** SUPPRESS: no offers until REVIVE or the next subscription; outstanding offers stay valid. */
  async suppress(): Promise<void> {
    this.m.requireSubscribed();
    this.m.counts.suppresses++;
    this.m.suppressed = true;
  }

  /** Kills every task without further updates, retires the framework ID, ends the subscription. */
  async teardown(): Promise<void> {
    const fw = this.m.requireSubscribed();
    this.m.tasks.removeAll();
    this.m.offers.clear();
    for (const agent of this.m.agents) {
      agent.clearFilters();
      if (!(this.m.options.teardownReleasesReservations ?? true)) continue;
      const volumes = agent.ledger.reserved().flatMap((r) => (r.disk?.persistence ? [r.disk.persistence.id] : []));
      agent.ledger.reset();
      if (volumes.length > 0) this.m.options.onVolumesDestroyed?.(agent.id, volumes);
    }
    this.m.removedFrameworks.add(fw.id);
    this.m.disconnect();
    this.m.framework = undefined;
  }

  /** Ends the subscription only: tasks keep running and a later subscribe with the ID reconnects. */
  async close(): Promise<void> {
    this.m.disconnect();
  }

  // Durable state and real task runtimes (the local cluster) --------------------------------------

  /** The master's state as JSON: reservations, volumes, tasks and unacknowledged updates. */
  snapshot(): MasterSnapshot {
    return takeSnapshot(this.m);
  }

  /** Loads a snapshot into this fresh cluster (built with the snapshot's `masterId`). */
  restore(snap: MasterSnapshot): { readonly live: SimTask[]; readonly problems: RestoreProblem[] } {
    return restoreSnapshot(this.m, snap);
  }

  /** A `TaskRuntime`'s report of a transition of one of its tasks. */
  report(task: SimTask, state: TaskState, extra: Extra = {}): void {
    if (this.m.tasks.get(task.info.taskId) === task) this.m.tasks.report(task, state, extra);
  }

  // Test helpers (not on the port) ---------------------------------------------------------------

  /** Live (non-terminal) tasks, in launch order. */
  tasks(): SimTaskView[] {
    return this.m.tasks.all().flatMap((t) => {
      if (isTerminal(t.state)) return [];
      const { taskId, name } = t.info;
      return [{ taskId, name, agentId: t.agent.id, state: t.state, info: t.info }];
    });
  }

  /** Reserved resources (labels and volumes included) by agent ID; agents without any are left out. */
  reservations(): Map<string, Resource[]> {
    const all = this.m.agents.map((a): [string, Resource[]] => [a.id, a.ledger.reserved()]);
    return new Map(all.filter(([, reserved]) => reserved.length > 0));
  }

  outstandingOffers(): Offer[] {
    return this.m.offers.list();
  }

  /** The role an outstanding offer is allocated to (Mesos' `allocation_info.role`). */
  offerRole(offerId: string): string | undefined {
    return this.m.offers.roleOf(offerId);
  }

  agentIds(): string[] {
    return this.m.agents.map((a) => a.id);
  }

  /** One agent's accounting; available = total − used − offered. */
  agentResources(agentId: string): Record<"total" | "used" | "offered" | "available", Resource[]> {
    const a = this.agent(agentId);
    const { ledger } = a;
    const [used, offered, available] = [
      ledger.usedResources(),
      ledger.offeredResources(),
      ledger.available().toArray(),
    ];
    return { total: ledger.totalResources(), used, offered, available };
  }

  /** Operations the cluster refused, oldest first. */
  rejectedOperations(): readonly SimRejectedOperation[] {
    return this.m.rejected;
  }

  /** Unacknowledged agent updates, of one task or of all. */
  pendingUpdates(taskId?: string): number {
    return this.m.tasks.channel.pending(taskId);
  }

  /** Ends a live task in terminal `state` as if its command failed; the rest of its group is killed. */
  failTask(taskId: string, state: TaskState = "TASK_FAILED", message = "simulated failure"): void {
    const task = this.m.tasks.get(taskId);
    if (!task || isTerminal(task.state)) throw new Error(`failTask: no live task ${taskId}`);
    if (!isTerminal(state)) throw new Error(`failTask: ${state} is not a terminal state`);
    this.m.tasks.finish(task, state, { message });
  }

  /** The agent reports the task lost (TASK_LOST with a uuid), as after an executor crash. */
  lostTask(taskId: string): void {
    this.failTask(taskId, "TASK_LOST", "simulated task loss");
  }

  /** The agent becomes unreachable: offers rescinded, tasks UNREACHABLE (or LOST), unacked updates lost. */
  crashAgent(agentId: string): void {
    const agent = this.agent(agentId);
    agent.state = "unreachable";
    for (const id of this.m.offers.removeAgent(agent)) this.m.emitSoon((e) => e.rescind(id));
    const state = this.m.partitionAware ? "TASK_UNREACHABLE" : "TASK_LOST";
    for (const s of this.m.tasks.loseAgent(agent, state)) this.m.sendMaster(s);
  }

  /**
   * The operator removes the agent for good (Mesos' MARK_AGENT_GONE): offers rescinded and none
   * again, its tasks TASK_GONE_BY_OPERATOR (TASK_LOST for a framework not partition-aware), its
   * reservations and volumes gone with it.
   */
  removeAgent(agentId: string): void {
    const agent = this.agent(agentId);
    agent.state = "gone";
    for (const id of this.m.offers.removeAgent(agent)) this.m.emitSoon((e) => e.rescind(id));
    const state = this.m.partitionAware ? "TASK_GONE_BY_OPERATOR" : "TASK_LOST";
    const why = { reason: "REASON_AGENT_REMOVED_BY_OPERATOR", message: "agent was removed by the operator" };
    for (const s of this.m.tasks.loseAgent(agent, state, why)) this.m.sendMaster(s);
    agent.ledger.reset();
  }

  /** The agent re-registers after a restart: its tasks are gone, its reservations and volumes remain. */
  recoverAgent(agentId: string): void {
    const agent = this.agent(agentId);
    if (agent.state === "gone") throw new Error(`recoverAgent: agent ${agentId} was removed`);
    agent.state = "active";
    this.m.tasks.forgetAgent(agent);
    this.m.requestAllocation();
  }

  /** Drops the subscription: `disconnected` now, the same framework resubscribed after `reconnectAfterMs`. */
  disconnect(reason = "simulated disconnection", reconnectAfterMs = 1000): void {
    const { events, framework } = this.m;
    if (!this.m.connected || !events || !framework) return;
    this.m.disconnect();
    this.m.events = events;
    this.m.schedule(0, () => (this.m.events === events ? events.disconnected(reason) : undefined));
    this.m.schedule(reconnectAfterMs, () => {
      const same = this.m.events === events && this.m.framework === framework;
      if (!this.m.connected && same) this.m.activate(events, framework);
    });
  }

  /** Ends the subscription and cancels every timer: the cluster freezes. */
  stop(): void {
    this.m.disconnect();
    this.m.cancelAll();
  }

  // Internals -----------------------------------------------------------------------------------

  /** A task of the subscribed framework known to the master. */
  private ownTask(taskId: string): SimTask | undefined {
    const task = this.m.tasks.get(taskId);
    return task && task.frameworkId === this.m.framework?.id ? task : undefined;
  }

  private unknownStatus(taskId: string, agentId: string | undefined): TaskStatus {
    const agent = this.m.agents.find((a) => a.id === agentId);
    return unknownTaskStatus(taskId, agentId, agent?.state, this.m.partitionAware, this.m.now());
  }

  private agent(agentId: string): SimAgent {
    const agent = this.m.agents.find((a) => a.id === agentId);
    if (!agent) throw new Error(`unknown agent ${agentId}`);
    return agent;
  }
}

/**
 * One framework on the local agent: its own simulated master for the books (offers,
 * reservations, volumes, filters, at-least-once updates, reconciliation) with a real task
 * runtime plugged in, checkpointed to `<stateDir>/frameworks/<dir>/cluster.json` exactly as the
 * local cluster did: saved before any process starts, restored and re-adopted on restart. Every
 * host offers the same agents (the agent's master id names them), so several schedulers can
 * share one agent; each sees the whole machine (documented deviation: no cross-framework sharing).
 */
import { chmodSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Filters, Offer, Operation, Range, TaskStatus } from "../../../domain/cluster.js";
import { LABEL_NAMESPACE, LABEL_RESOURCE_ID, isTerminal } from "../../../domain/cluster.js";
import { sanitizeServiceName } from "../../../domain/names.js";
import { reservationLabels } from "../../../domain/offer/pool.js";
import type { Cancel, Clock, ClusterEvents, Logger, Random } from "../../../engine/ports.js";
import type { SimAgentSpec } from "../sim-agent.js";
import { SNAPSHOT_VERSION, type MasterSnapshot, type SavedTask } from "../sim-snapshot.js";
import { SimulatedCluster, type SimTask, type TaskRuntime } from "../simulated-cluster.js";
import { frameworkRole, frameworkRoles, type RefusedGroup, type WireFrameworkInfo } from "./call-codec.js";
import type { AgentMasterInfo } from "./event-codec.js";
import type { EventStream } from "./event-stream.js";
import type { AgentRuntime } from "./runtime/types.js";
import { readJson, writeJsonAtomic } from "./state-file.js";
import { createTaskRuntime, destroyVolume } from "./task-runtime.js";

/** What every framework host of an agent shares: its machine split into agents, and how it runs tasks. */
export interface AgentSettings {
  readonly agents: readonly SimAgentSpec[];
  readonly heartbeatIntervalS: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly taskPath: string;
  readonly canSwitchUser: boolean;
  readonly statusRetryMs: number;
  /** The secret store tasks' secrets are read from. @default none (a task with secrets fails) */
  readonly secretsDir?: string;
  /** Ports something else on this machine holds now: not offered. @default none */
  readonly busyPorts?: () => readonly Range[];
}

export interface FrameworkHostOptions extends AgentSettings {
  /** `<stateDir>/frameworks/<dir>`, absolute. */
  readonly root: string;
  readonly dir: string;
  readonly frameworkId: string;
  readonly info: WireFrameworkInfo;
  readonly removed: boolean;
  readonly masterId: string;
  readonly master: AgentMasterInfo;
  /** The framework was removed (failover timeout): the agent records it. */
  readonly onRemoved: (host: FrameworkHost, frameworkId: string) => void;
}

/** A task as the operator API shows it. */
export interface HostTask {
  readonly saved: SavedTask;
  readonly pid?: number;
}

export class FrameworkHost {
  readonly dir: string;
  frameworkId: string;
  info: WireFrameworkInfo;
  removed: boolean;
  readonly sim: SimulatedCluster;
  readonly runtime: AgentRuntime;
  /** The subscription stream; undefined while the framework is disconnected. */
  private stream: EventStream | undefined;
  private failover: Cancel | undefined;
  private savePending = false;
  /** Namespaces whose reservations were released since the last sandbox sweep. */
  private readonly released = new Set<string>();
  private collecting = false;
  private saveTimer: Cancel | undefined;
  private closed = false;
  registeredAtMs: number;
  /** The books' task objects by ID, as the runtime got them (to stop the processes of a lost agent). */
  private readonly simTasks = new Map<string, SimTask>();

  constructor(private readonly o: FrameworkHostOptions) {
    this.dir = o.dir;
    this.frameworkId = o.frameworkId;
    this.info = o.info;
    this.removed = o.removed;
    this.registeredAtMs = o.clock.now();
    mkdirSync(o.root, { recursive: true, mode: 0o700 });
    // A task of another user (its command's or its framework's) reaches its sandbox through
    // here by absolute path ($MESOS_SANDBOX): passable, not listable. Its files stay 0600.
    if (o.canSwitchUser) for (const dir of [dirname(o.root), o.root]) chmodSync(dir, 0o711);
    const saved = this.load();
    this.runtime = createTaskRuntime(
      {
        root: o.root,
        clock: o.clock,
        log: o.log,
        taskPath: o.taskPath,
        canSwitchUser: o.canSwitchUser,
        // Asked at each launch: a resubscription (or an inheriting framework) may bring another.
        frameworkUser: () => this.info.user,
        ...(o.secretsDir !== undefined ? { secretsDir: o.secretsDir } : {}),
        // Saved lazily: a transition lost in a crash is seen again when the next agent adopts
        // the task (the runtime keeps its exit status), and no process waits on this save.
        report: (task, state, extra) => {
          this.sim.report(task, state, extra);
          if (isTerminal(state)) this.simTasks.delete(task.info.taskId);
          this.saveLater();
        },
      },
    );
    this.sim = new SimulatedCluster({
      agents: o.agents,
      clock: o.clock,
      random: o.random,
      masterId: o.masterId,
      runtime: this.tracking(this.runtime),
      statusRetryMs: o.statusRetryMs,
      ...(o.busyPorts ? { busyPorts: o.busyPorts } : {}),
      // Mesos keeps reservations and volumes when a framework goes (§15.5).
      teardownReleasesReservations: false,
      onVolumesDestroyed: (agentId, ids) => {
        for (const id of ids) destroyVolume(o.root, agentId, id);
      },
      // One sweep of the sandboxes per turn, however many services an ACCEPT released.
      onUnreserved: (_agentId, resources) => {
        for (const r of resources) {
          const labels = reservationLabels(r);
          const ns = labels?.[LABEL_NAMESPACE];
          if (ns !== undefined) this.released.add(ns);
          // Unlabelled (a mono scheduler's): the framework-named service's, as `namespacesOf` keys them.
          else if (labels?.[LABEL_RESOURCE_ID] !== undefined && this.info.name !== undefined) this.released.add(sanitizeServiceName(this.info.name));
        }
        if (this.released.size === 0 || this.collecting) return;
        this.collecting = true;
        setImmediate(() => {
          this.collecting = false;
          const namespaces = new Set(this.released);
          this.released.clear();
          if (!this.closed) this.runtime.collectSandboxes(namespaces);
        });
      },
    });
    if (saved) {
      const { live, problems } = this.sim.restore(saved);
      for (const p of problems) o.log.warn({ what: p.what, reason: p.reason, frameworkId: this.frameworkId }, "agent: not restored");
      for (const task of live) {
        this.simTasks.set(task.info.taskId, task);
        this.runtime.adopt(task);
      }
      o.log.info({ tasks: live.length, frameworkId: this.frameworkId }, "agent: framework restored");
    }
    this.save();
    this.runtime.startQueued();
  }

  get role(): string {
    return frameworkRole(this.info);
  }

  /** Every role it subscribed with (MULTI_ROLE), its first role first. */
  get roles(): readonly string[] {
    return frameworkRoles(this.info);
  }

  get connected(): boolean {
    return this.stream !== undefined;
  }

  get streamId(): string | undefined {
    return this.stream?.streamId;
  }

  /**
   * (Re)subscription on `stream`: an older stream gets ERROR "Framework failed over" and is
   * closed, its offers dropped without RESCIND (§2 step 6); `suppressed_roles` replaces the
   * suppressed set (§13).
   */
  async subscribe(frameworkId: string, info: WireFrameworkInfo, stream: EventStream, suppressedRoles: readonly string[]): Promise<void> {
    const old = this.stream;
    this.stream = stream;
    if (old) {
      old.send({ kind: "error", message: "Framework failed over" });
      old.end();
    }
    this.failover?.();
    this.failover = undefined;
    this.frameworkId = frameworkId;
    this.info = info;
    this.removed = false;
    this.registeredAtMs = this.o.clock.now();
    this.sim.setExtraRoles(this.roles.slice(1));
    await this.sim.subscribe(
      { name: info.name ?? "", role: this.role, principal: info.principal ?? "", frameworkId, failoverTimeoutS: info.failoverTimeoutS },
      this.events(stream),
    );
    // One set of books for all its roles: suppressing the first role suppresses them all.
    if (suppressedRoles.includes(this.role)) await this.sim.suppress();
    this.save();
  }

  /** The stream was lost: offers gone, calls 403 until a resubscription, removal after failover_timeout (§15). */
  streamLost(stream: EventStream): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    void this.sim.close();
    this.armFailover();
  }

  /** Starts the failover timer of a disconnected framework (also after an agent restart). */
  armFailover(): void {
    if (this.removed || this.connected || this.closed) return;
    this.failover?.();
    const id = this.frameworkId;
    this.failover = this.o.clock.setTimer(this.info.failoverTimeoutS * 1000, () => {
      this.failover = undefined;
      if (this.connected || this.frameworkId !== id || this.removed) return;
      this.o.log.info({ frameworkId: id }, "agent: framework did not come back within its failover timeout; removing it");
      void this.remove().then(() => this.o.onRemoved(this, id));
    });
  }

  /**
   * Removes the framework (TEARDOWN, failover timeout): its tasks are killed, its stream closed;
   * reservations and volumes stay with the role (§15.5), for the next framework of that role.
   */
  async remove(): Promise<void> {
    this.failover?.();
    this.failover = undefined;
    if (!this.connected) {
      // The books only tear down a subscribed framework: subscribe it to nothing first.
      await this.sim.subscribe({ name: "", role: this.role, principal: "", frameworkId: this.frameworkId, failoverTimeoutS: 0 }, SILENT);
    }
    await this.sim.teardown();
    this.removed = true;
    const stream = this.stream;
    this.stream = undefined;
    stream?.end();
    this.save();
  }

  // Calls (the framework is subscribed) ------------------------------------------------------------

  /** Applied in the call; saved before the launched processes start. */
  async accept(offerIds: readonly string[], operations: readonly Operation[], filters: Filters | undefined): Promise<void> {
    try {
      await this.sim.accept(offerIds, operations, filters);
    } finally {
      this.saveSoon();
    }
  }

  /** Task groups the codec refused: their tasks end with the refusal's status (call-codec.ts). */
  refuse(groups: readonly RefusedGroup[]): void {
    for (const g of groups) {
      const failed = g.refusal === "LAUNCH_FAILED";
      this.sim.refuseGroup(g.operation.tasks, failed ? "TASK_FAILED" : "TASK_ERROR", failed ? "REASON_CONTAINER_LAUNCH_FAILED" : "REASON_TASK_GROUP_INVALID", g.message);
    }
  }

  async decline(offerIds: readonly string[], filters: Filters | undefined): Promise<void> {
    await this.sim.decline(offerIds, filters);
  }

  /**
   * Saved lazily: the runtime marks the task's sandbox before it signals, so a kill lost in a
   * crash is carried out by the next agent, and the end is reported either way.
   */
  async kill(taskId: string, agentId: string | undefined): Promise<void> {
    await this.sim.kill(taskId, agentId);
    this.saveLater();
  }

  /** Saved lazily: an acknowledgement lost in a crash only makes the update come again (at-least-once). */
  async acknowledge(agentId: string, taskId: string, uuid: string): Promise<void> {
    await this.sim.acknowledge(agentId, taskId, uuid);
    this.saveLater();
  }

  /**
   * The agent is removed (chaos `lose_agent`): the books mark its tasks gone; their processes
   * are stopped without further updates, as an agent that was removed shuts its tasks down.
   */
  loseAgent(agentId: string): void {
    const doomed = [...this.simTasks.values()].filter((t) => t.agent.id === agentId && !isTerminal(t.state));
    this.sim.removeAgent(agentId);
    for (const t of doomed) {
      this.simTasks.delete(t.info.taskId);
      this.runtime.discard(t);
    }
    this.saveSoon();
  }

  // Views --------------------------------------------------------------------------------------------

  /** Tasks the books know (live, or terminal with an update unacknowledged), with their pids. */
  tasks(): HostTask[] {
    const pids = new Map(this.runtime.processes().map((p) => [p.taskId, p.taskPid]));
    return this.sim.snapshot().tasks.map((saved) => {
      const pid = isTerminal(saved.state) ? undefined : pids.get(saved.info.taskId);
      return { saved, ...(pid !== undefined ? { pid } : {}) };
    });
  }

  /** Stops serving: the stream ends, timers stop, the processes keep running for the next agent. */
  close(): void {
    if (this.closed) return;
    this.save();
    this.closed = true;
    this.failover?.();
    this.failover = undefined;
    const stream = this.stream;
    this.stream = undefined;
    stream?.end();
    this.runtime.close();
    this.sim.stop();
  }

  // Internals ----------------------------------------------------------------------------------------

  /** The books' events, written to `stream` while it is this framework's stream. */
  private events(stream: EventStream): ClusterEvents {
    const live = (): boolean => this.stream === stream;
    // One OFFERS event per allocation role: each offer carries its role (§9).
    const sendOffers = (offers: readonly Offer[]): void => {
      const byRole = new Map<string, Offer[]>();
      for (const o of offers) {
        const role = this.sim.offerRole(o.id) ?? this.role;
        byRole.set(role, [...(byRole.get(role) ?? []), o]);
      }
      for (const [role, list] of byRole) stream.send({ kind: "offers", offers: list, role });
    };
    return {
      subscribed: (frameworkId) => {
        if (live()) stream.subscribed({ kind: "subscribed", frameworkId, heartbeatIntervalS: this.o.heartbeatIntervalS, master: this.o.master });
      },
      offers: (offers) => (live() ? sendOffers(offers) : undefined),
      rescind: (offerId) => (live() ? stream.send({ kind: "rescind", offerId }) : undefined),
      update: (status: TaskStatus) => (live() ? stream.send({ kind: "update", status }) : undefined),
      disconnected: () => undefined,
    };
  }

  /** The runtime as the books see it, remembering the tasks it is given. */
  private tracking(runtime: AgentRuntime): TaskRuntime {
    const known = this.simTasks;
    return {
      start: (task) => {
        known.set(task.info.taskId, task);
        runtime.start(task);
      },
      kill: (task) => runtime.kill(task),
      discard: (task) => {
        known.delete(task.info.taskId);
        runtime.discard(task);
      },
    };
  }

  private get statePath(): string {
    return join(this.o.root, "cluster.json");
  }

  private load(): MasterSnapshot | undefined {
    const snap = readJson<MasterSnapshot>(this.statePath);
    if (snap && snap.version !== SNAPSHOT_VERSION) {
      throw new Error(`${this.statePath}: state version ${String(snap.version)}, this agent reads ${SNAPSHOT_VERSION}`);
    }
    return snap;
  }

  private save(): void {
    if (this.closed) return;
    this.saveTimer?.();
    this.saveTimer = undefined;
    try {
      writeJsonAtomic(this.statePath, this.sim.snapshot());
    } catch (err) {
      // Serving on is right; but an agent restarted now would not know the latest tasks.
      this.o.log.error({ err, path: this.statePath }, "agent: could not save a framework's state");
    }
  }

  /**
   * One save for everything that arrived in this turn of the event loop (calls of many
   * connections), then the processes it launched start: saved before started, never after.
   */
  private saveSoon(): void {
    if (this.savePending) return;
    this.savePending = true;
    setImmediate(() => {
      this.savePending = false;
      this.save();
      if (!this.closed) this.runtime.startQueued();
    });
  }

  /** A save within a second, unless one happens sooner. */
  private saveLater(): void {
    if (this.saveTimer) return;
    this.saveTimer = this.o.clock.setTimer(LAZY_SAVE_MS, () => {
      this.saveTimer = undefined;
      this.save();
    });
  }
}

const LAZY_SAVE_MS = 1000;

/** Events of a framework subscribed only to be torn down. */
const SILENT: ClusterEvents = {
  subscribed: () => undefined,
  offers: () => undefined,
  rescind: () => undefined,
  update: () => undefined,
  disconnected: () => undefined,
};

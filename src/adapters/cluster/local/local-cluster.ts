/**
 * `--cluster local`: this machine as one or more agents, with Mesos semantics. The master's
 * bookkeeping (offers, reservations, volumes, filters, at-least-once updates, reconciliation)
 * is the simulated cluster's; tasks are real processes (ProcessRuntime); and the master's
 * state is written to `<data-dir>/local/cluster.json` after every change, so reservations,
 * volumes and tasks outlive the scheduler process the way they outlive a Mesos master failover.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Filters, Operation, Resource } from "../../../domain/cluster.js";
import { LABEL_NAMESPACE } from "../../../domain/cluster.js";
import { reservationLabels } from "../../../domain/offer/pool.js";
import type { Clock, ClusterDriver, ClusterEvents, FrameworkInfo, Logger, Random, TaskFiles } from "../../../engine/ports.js";
import { SNAPSHOT_VERSION } from "../sim-snapshot.js";
import type { MasterSnapshot } from "../sim-snapshot.js";
import { SimulatedCluster } from "../simulated-cluster.js";
import type { SimCounts, SimTaskView } from "../simulated-cluster.js";
import { localAgentSpecs } from "./local-agents.js";
import type { Machine } from "./local-agents.js";
import { ProcessRuntime } from "./process-runtime.js";
import { destroyVolume } from "./sandbox.js";
import { LocalTaskFiles } from "./task-files.js";
import { crashPoint } from "./test-crash.js";

export interface LocalClusterOptions {
  /** The cluster keeps its state, sandboxes and volumes in `<dataDir>/local`. */
  readonly dataDir: string;
  readonly agents: number;
  readonly machine: Machine;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  /** PATH given to tasks. */
  readonly taskPath: string;
  /** The scheduler runs as root, so a task may run as the user its spec names. */
  readonly canSwitchUser: boolean;
  /** How often supervisor files are read. @default 200 */
  readonly pollMs?: number;
  /** Re-send interval of unacknowledged updates. @default 10_000 */
  readonly statusRetryMs?: number;
}

export interface LocalTaskView extends SimTaskView {
  readonly pid?: number;
  readonly sandbox: string;
}

export class LocalCluster implements ClusterDriver {
  readonly root: string;
  /** Sandboxes, pids and stdout/stderr of the tasks (ListTasks, TaskLog). */
  readonly taskFiles: TaskFiles;
  private readonly sim: SimulatedCluster;
  private readonly runtime: ProcessRuntime;
  private savePending = false;
  private readonly log: Logger;
  private closed = false;

  constructor(o: LocalClusterOptions) {
    // Absolute: sandboxes link their volumes in, and tasks see these paths.
    this.root = join(resolve(o.dataDir), "local");
    this.log = o.log;
    mkdirSync(this.root, { recursive: true });
    const saved = this.load();
    this.runtime = new ProcessRuntime({
      root: this.root,
      clock: o.clock,
      log: o.log,
      taskPath: o.taskPath,
      canSwitchUser: o.canSwitchUser,
      ...(o.pollMs === undefined ? {} : { pollMs: o.pollMs }),
      report: (task, state, extra) => {
        this.sim.report(task, state, extra);
        this.saveSoon();
      },
    });
    this.sim = new SimulatedCluster({
      agents: localAgentSpecs(o.machine, o.agents),
      clock: o.clock,
      random: o.random,
      masterId: saved?.masterId ?? o.random.uuid(),
      runtime: this.runtime,
      statusRetryMs: o.statusRetryMs ?? 10_000,
      onVolumesDestroyed: (agentId, ids) => {
        for (const id of ids) destroyVolume(this.root, agentId, id);
      },
      onUnreserved: (_agentId, resources) => {
        const namespaces = new Set(resources.flatMap((r) => reservationLabels(r)?.[LABEL_NAMESPACE] ?? []));
        this.runtime.collectSandboxes(namespaces);
      },
    });
    if (saved) {
      const { live, problems } = this.sim.restore(saved);
      for (const p of problems) o.log.warn({ what: p.what, reason: p.reason }, "local cluster: not restored");
      for (const task of live) this.runtime.adopt(task);
      o.log.info({ tasks: live.length }, "local cluster: restored its state");
    }
    this.save();
    this.runtime.startQueued();
    this.taskFiles = new LocalTaskFiles({ root: this.root, live: () => this.livePids() });
  }

  // ClusterDriver -------------------------------------------------------------------------------

  async subscribe(framework: FrameworkInfo, events: ClusterEvents): Promise<void> {
    await this.sim.subscribe(framework, events);
    this.save();
    crashPoint("startup");
  }

  /**
   * Saved before any process starts, so a crash in between leaves a task to start, not an
   * orphan. A cycle's accepts (one per offer, issued together) share one save.
   */
  async accept(offerIds: readonly string[], operations: readonly Operation[], filters?: Filters): Promise<void> {
    crashPoint("after-task-record", launchedTaskIds(operations));
    try {
      await this.sim.accept(offerIds, operations, filters);
    } finally {
      this.saveSoon();
    }
  }

  async decline(offerIds: readonly string[], filters?: Filters): Promise<void> {
    await this.sim.decline(offerIds, filters);
  }

  async kill(taskId: string, agentId?: string): Promise<void> {
    await this.sim.kill(taskId, agentId);
    this.saveSoon();
  }

  async acknowledge(agentId: string, taskId: string, uuid: string): Promise<void> {
    await this.sim.acknowledge(agentId, taskId, uuid);
    this.saveSoon();
  }

  reconcile(tasks: readonly { taskId: string; agentId?: string }[]): Promise<void> {
    return this.sim.reconcile(tasks);
  }

  revive(): Promise<void> {
    return this.sim.revive();
  }

  suppress(): Promise<void> {
    return this.sim.suppress();
  }

  async teardown(): Promise<void> {
    await this.sim.teardown();
    this.save();
  }

  /** Ends the subscription; tasks keep running for the next scheduler on this data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.sim.close();
    this.save();
    this.closed = true;
    this.runtime.close();
    this.sim.stop();
  }

  // Views (tests, diagnostics) --------------------------------------------------------------------

  /** Calls seen so far. */
  get counts(): SimCounts {
    return this.sim.counts;
  }

  tasks(): LocalTaskView[] {
    const pids = new Map(this.runtime.processes().map((p) => [p.taskId, p.taskPid]));
    return this.sim.tasks().map((t) => {
      const pid = pids.get(t.taskId);
      return { ...t, sandbox: join(this.root, "sandboxes", t.taskId), ...(pid === undefined ? {} : { pid }) };
    });
  }

  /** Live tasks by ID, with the task's pid once its supervisor has spawned it. */
  private livePids(): Map<string, number | undefined> {
    const pids = new Map(this.runtime.processes().map((p) => [p.taskId, p.taskPid]));
    return new Map(this.sim.tasks().map((t) => [t.taskId, pids.get(t.taskId)]));
  }

  reservations(): Map<string, Resource[]> {
    return this.sim.reservations();
  }

  agentIds(): string[] {
    return this.sim.agentIds();
  }

  // State file ----------------------------------------------------------------------------------

  private get statePath(): string {
    return join(this.root, "cluster.json");
  }

  private load(): MasterSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(this.statePath, "utf8");
    } catch {
      return undefined;
    }
    const snap = JSON.parse(text) as MasterSnapshot;
    if (snap.version !== SNAPSHOT_VERSION) {
      throw new Error(`${this.statePath}: state version ${String(snap.version)}, this Corral reads ${SNAPSHOT_VERSION}`);
    }
    return snap;
  }

  private save(): void {
    if (this.closed) return;
    const tmp = `${this.statePath}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(this.sim.snapshot()));
      renameSync(tmp, this.statePath);
    } catch (err) {
      // Running on is right; but a scheduler restarted now would not know the latest tasks.
      this.log.error({ err, path: this.statePath }, "local cluster: could not save its state");
    }
  }

  /** One save for everything that happened in this turn, then the processes it launched start. */
  private saveSoon(): void {
    if (this.savePending) return;
    this.savePending = true;
    queueMicrotask(() => {
      this.savePending = false;
      this.save();
      this.runtime.startQueued();
    });
  }
}

function launchedTaskIds(operations: readonly Operation[]): string[] {
  return operations.flatMap((op) => (op.type === "LAUNCH_GROUP" ? op.tasks.map((t) => t.taskId) : []));
}

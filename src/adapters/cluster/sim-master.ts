/**
 * The simulated Mesos master behind `SimulatedCluster`: agents, offers, tasks and the framework
 * subscription, plus what every call relies on: clock timers, event emission (always from a
 * timer, never inside the call that caused it), ACCEPT processing (§10) and allocation (§13).
 * `SimulatedCluster` is the ClusterDriver facade and test API over it.
 */
import type { Filters, Operation, Range, Resource, TaskInfo, TaskState, TaskStatus } from "../../domain/cluster.js";
import { SchedulerError } from "../../domain/errors.js";
import type { Cancel, Clock, ClusterEvents, Random } from "../../engine/ports.js";
import { SimAgent } from "./sim-agent.js";
import type { SimAgentSpec, SimFramework } from "./sim-agent.js";
import { refuseMs, SimOffers } from "./sim-offers.js";
import type { ResourceBag } from "./sim-resources.js";
import { masterStatus } from "./sim-status.js";
import { SimTasks } from "./sim-tasks.js";
import type { SimTaskScript, TaskRuntime } from "./sim-tasks.js";

export interface SimulatedClusterOptions {
  /** A count of default agents (8 cpus, 32 GiB mem, 100 GiB disk, ports 31000–32000) or one spec each. */
  readonly agents: number | readonly SimAgentSpec[];
  readonly clock: Clock;
  readonly random: Random;
  /** ID given on the first SUBSCRIBE without one. @default `<master-id>-0000` */
  readonly frameworkId?: string;
  /** What a launched task does; overrides the `sim_exit_code` labels. @default run until killed */
  readonly taskScript?: (task: TaskInfo) => SimTaskScript;
  /** Delay before (re)sending offers once resources are free. @default 0 */
  readonly offerDelayMs?: number;
  /** Delay of each task transition (launch → STARTING → RUNNING, kill → KILLED). @default 0 */
  readonly statusDelayMs?: number;
  /** Re-send interval of unacknowledged updates (Mesos: 10 s, then exponential). @default 10_000 */
  readonly statusRetryMs?: number;
  /** Per task, send the next update only once the previous is acked, as Mesos agents do. @default true */
  readonly headOfLineDelivery?: boolean;
  /** PARTITION_AWARE framework: TASK_DROPPED/GONE/UNREACHABLE/UNKNOWN, not TASK_LOST. @default true */
  readonly partitionAware?: boolean;
  /** teardown() also unreserves everything and destroys volumes; Mesos keeps them (§15.5). @default true */
  readonly teardownReleasesReservations?: boolean;
  /** Reject a new executor with less than 0.01 cpus / 32 MB mem, as Mesos does (§11). @default false */
  readonly strictExecutorResources?: boolean;
  /** Prefix of agent, offer and framework IDs; a restored cluster keeps its own. @default a random UUID */
  readonly masterId?: string;
  /** Runs launched tasks (real processes) instead of `taskScript`. @default the scripted lifecycle */
  readonly runtime?: TaskRuntime;
  /** Persistent volumes were destroyed (DESTROY, or teardown releasing them): their data can go. */
  readonly onVolumesDestroyed?: (agentId: string, persistenceIds: readonly string[]) => void;
  /** Reservations were released (UNRESERVE). */
  readonly onUnreserved?: (agentId: string, resources: readonly Resource[]) => void;
  /**
   * Roles the framework subscribes with besides FrameworkInfo.role (e.g. `R/<role>` for a
   * pre-reserved role R): offers allocated to them hold what is reserved to them or their
   * ancestors. @default none
   */
  readonly roles?: readonly string[];
  /**
   * Ports something else on the machine holds, asked once per allocation round: unreserved
   * ports among them are not offered. @default none
   */
  readonly busyPorts?: () => readonly Range[];
}

/** Calls seen by the cluster. Operation counters count applied operations; `launches` counts tasks. */
export interface SimCounts {
  accepts: number;
  declines: number;
  revives: number;
  suppresses: number;
  kills: number;
  launches: number;
  reserves: number;
  unreserves: number;
  creates: number;
  destroys: number;
  acknowledges: number;
  reconciles: number;
}

/** An offer operation the cluster refused and why; the scheduler sees at most a TASK_ERROR. */
export interface SimRejectedOperation {
  readonly type: Operation["type"];
  readonly agentId: string;
  readonly reason: string;
}

const INVALID_GROUP = "REASON_TASK_GROUP_INVALID";

type LaunchGroup = Extract<Operation, { type: "LAUNCH_GROUP" }>;

const COUNTER = {
  RESERVE: "reserves",
  UNRESERVE: "unreserves",
  CREATE: "creates",
  DESTROY: "destroys",
  LAUNCH_GROUP: "launches",
} as const;

/** Master state and the machinery shared by every call of `SimulatedCluster`. */
export class SimMaster {
  readonly counts: SimCounts = {
    ...{ accepts: 0, declines: 0, revives: 0, suppresses: 0, kills: 0, launches: 0 },
    ...{ reserves: 0, unreserves: 0, creates: 0, destroys: 0, acknowledges: 0, reconciles: 0 },
  };
  readonly masterId: string;
  readonly agents: readonly SimAgent[];
  readonly tasks: SimTasks;
  readonly offers: SimOffers;
  readonly rejected: SimRejectedOperation[] = [];
  readonly removedFrameworks = new Set<string>();
  /** Handlers of the current subscription (kept during `disconnect` until the reconnection). */
  events: ClusterEvents | undefined;
  framework: SimFramework | undefined;
  connected = false;
  suppressed = false;
  private readonly timers = new Set<Cancel>();
  private allocation: Cancel | undefined;
  /** Bumped on every (dis)connection so timers of an old subscription deliver nothing. */
  private subscription = 0;
  frameworkSeq = 0;

  constructor(readonly options: SimulatedClusterOptions) {
    this.masterId = options.masterId ?? options.random.uuid();
    const n = options.agents;
    const specs: readonly SimAgentSpec[] =
      typeof n === "number" ? Array.from({ length: n }, () => ({})) : n;
    this.agents = specs.map((spec, i) => new SimAgent(spec, i, this.masterId));
    this.offers = new SimOffers(this.masterId);
    this.tasks = new SimTasks({
      schedule: (ms, fn) => this.schedule(ms, fn),
      now: () => this.now(),
      uuid: () => options.random.uuid(),
      deliver: (status, task) => this.emit(task.frameworkId, (e) => e.update(status)),
      onFreed: () => this.requestAllocation(),
      statusDelayMs: options.statusDelayMs ?? 0,
      statusRetryMs: options.statusRetryMs ?? 10_000,
      headOfLine: options.headOfLineDelivery ?? true,
      taskScript: options.taskScript,
      runtime: options.runtime,
    });
  }

  get partitionAware(): boolean {
    return this.options.partitionAware ?? true;
  }

  now(): number {
    return this.options.clock.now();
  }

  /** A clock timer that `cancelAll` can cancel. */
  schedule(delayMs: number, fn: () => void): Cancel {
    const cancelTimer = this.options.clock.setTimer(delayMs, () => {
      this.timers.delete(cancel);
      fn();
    });
    const cancel = (): void => {
      this.timers.delete(cancel);
      cancelTimer();
    };
    this.timers.add(cancel);
    return cancel;
  }

  cancelAll(): void {
    for (const cancel of [...this.timers]) cancel();
  }

  newFrameworkId(): string {
    const n = this.frameworkSeq++;
    const given = this.options.frameworkId;
    return n === 0 && given !== undefined
      ? given
      : `${this.masterId}-${String(n).padStart(4, "0")}`;
  }

  /** (Re)subscription: old offers are void; SUBSCRIBED, then unacked updates and fresh offers. */
  activate(events: ClusterEvents, framework: SimFramework): void {
    this.disconnect();
    this.events = events;
    this.framework = framework;
    this.connected = true;
    this.suppressed = false;
    const sub = this.subscription;
    this.schedule(0, () => {
      if (sub !== this.subscription) return;
      events.subscribed(framework.id);
      this.tasks.channel.resendAll();
      this.requestAllocation();
    });
  }

  /** Ends the subscription without telling the handlers; outstanding offers become void. */
  disconnect(): void {
    this.connected = false;
    this.events = undefined;
    this.subscription++;
    this.offers.clear();
    this.allocation?.();
    this.allocation = undefined;
  }

  requireSubscribed(): SimFramework {
    if (this.connected && this.framework) return this.framework;
    throw new SchedulerError("unavailable", "not subscribed to the simulated cluster");
  }

  /** Hands an event to the handlers if `frameworkId` is subscribed; false otherwise. */
  emit(frameworkId: string | undefined, fn: (events: ClusterEvents) => void): boolean {
    if (!this.connected || !this.events || this.framework?.id !== frameworkId) return false;
    fn(this.events);
    return true;
  }

  /** Emits from a timer, unless the subscription changed in between. */
  emitSoon(fn: (events: ClusterEvents) => void): void {
    const sub = this.subscription;
    const fw = this.framework?.id;
    this.schedule(0, () => (sub === this.subscription ? this.emit(fw, fn) : undefined));
  }

  /** A master-generated update (no uuid). */
  sendMaster(status: TaskStatus): void {
    this.emitSoon((e) => e.update(status));
  }

  /** ACCEPT (§10): invalid offers drop every task; otherwise operations apply in order. */
  accept(
    fw: SimFramework,
    offerIds: readonly string[],
    ops: readonly Operation[],
    filters?: Filters,
  ): void {
    const taken = this.offers.take(offerIds);
    if (typeof taken === "string") {
      const state: TaskState = this.partitionAware ? "TASK_DROPPED" : "TASK_LOST";
      const tasks = ops.flatMap((op) => (op.type === "LAUNCH_GROUP" ? op.tasks : []));
      for (const t of tasks) {
        this.sendMaster(masterStatus(t.taskId, state, this.now(), "REASON_INVALID_OFFERS", taken));
      }
    } else {
      for (const op of ops) this.apply(taken.agent, taken.remaining, op, fw, taken.role);
      this.refuse(taken.agent, taken.remaining, filters);
    }
    this.requestAllocation();
  }

  /** Resources handed back (declined or left over) are filtered for refuse_seconds (§13). */
  refuse(agent: SimAgent, bag: ResourceBag, filters: Filters | undefined): void {
    const ms = refuseMs(filters);
    if (bag.isEmpty() || ms <= 0) return;
    agent.addFilter(bag, this.now() + ms);
    this.schedule(ms, () => this.requestAllocation());
  }

  /** Schedules an allocation round `offerDelayMs` from now, unless one is pending. */
  requestAllocation(): void {
    if (this.allocation || !this.connected) return;
    this.allocation = this.schedule(this.options.offerDelayMs ?? 0, () => {
      this.allocation = undefined;
      const fw = this.framework;
      if (!this.connected || this.suppressed || !fw) return;
      const offers = this.offers.allocate(this.agents, fw, this.now(), this.options.busyPorts?.());
      if (offers.length > 0) this.emit(fw.id, (e) => e.offers(offers));
    });
  }

  /** One operation of an ACCEPT; an invalid one is dropped and recorded. */
  private apply(agent: SimAgent, remaining: ResourceBag, op: Operation, fw: SimFramework, role: string): void {
    const reason = this.applyOne(agent, remaining, op, fw, role);
    if (reason !== undefined) this.rejected.push({ type: op.type, agentId: agent.id, reason });
    else this.counts[COUNTER[op.type]] += op.type === "LAUNCH_GROUP" ? op.tasks.length : 1;
  }

  private applyOne(
    agent: SimAgent,
    remaining: ResourceBag,
    op: Operation,
    fw: SimFramework,
    role: string,
  ): string | undefined {
    switch (op.type) {
      case "RESERVE":
        return agent.reserve(remaining, op.resources, fw, role);
      case "UNRESERVE": {
        const reason = agent.unreserve(remaining, op.resources);
        if (reason === undefined) this.options.onUnreserved?.(agent.id, op.resources);
        return reason;
      }
      case "CREATE":
        return agent.create(remaining, op.volumes);
      case "DESTROY": {
        const reason = agent.destroy(remaining, op.volumes);
        const ids = op.volumes.flatMap((v) => (v.disk?.persistence ? [v.disk.persistence.id] : []));
        if (reason === undefined) this.options.onVolumesDestroyed?.(agent.id, ids);
        return reason;
      }
      case "LAUNCH_GROUP":
        return this.launch(agent, remaining, op, fw);
      default:
        return `unsupported operation ${(op as { type: string }).type}`;
    }
  }

  /** An invalid task group is not launched; each of its tasks gets a master TASK_ERROR (§11). */
  private launch(
    a: SimAgent,
    left: ResourceBag,
    op: LaunchGroup,
    fw: SimFramework,
  ): string | undefined {
    const strict = this.options.strictExecutorResources ?? false;
    const reason = a.launch(left, op, fw, (id) => this.tasks.get(id) !== undefined, strict);
    if (reason === undefined) {
      this.tasks.launch(a, fw.id, op.executor, op.tasks);
      return undefined;
    }
    const now = this.now();
    for (const { taskId } of op.tasks) {
      this.sendMaster(masterStatus(taskId, "TASK_ERROR", now, INVALID_GROUP, reason, a.id));
    }
    return reason;
  }
}

/**
 * Task lifecycle of the simulated cluster: STAGING → STARTING → RUNNING (each step
 * `statusDelayMs` after the previous) and then whatever the task's script says, plus kills,
 * injected failures and agent loss. Agent/executor updates carry a uuid and go through the
 * at-least-once `StatusChannel`; the master keeps a task until its terminal update is acked
 * (mesos-v1-api.md §12).
 */
import { isTerminal } from "../../domain/cluster.js";
import type { ExecutorInfo, TaskInfo, TaskState, TaskStatus } from "../../domain/cluster.js";
import type { Cancel } from "../../engine/ports.js";
import type { SimAgent } from "./sim-agent.js";
import { masterStatus, StatusChannel } from "./sim-status.js";

/** TaskInfo label: the task exits with this code (0 → TASK_FINISHED, else TASK_FAILED) once RUNNING. */
export const LABEL_SIM_EXIT_CODE = "sim_exit_code";
/** TaskInfo label: how long after RUNNING the `sim_exit_code` exit happens. @default 0 */
export const LABEL_SIM_EXIT_AFTER_MS = "sim_exit_after_ms";
/** TaskInfo label with the task's goal state, set by the scheduler. */
const LABEL_GOAL = "goal";

/** What a simulated task does after launch. The empty script runs until killed. */
export interface SimTaskScript {
  /** End in TASK_FAILED (REASON_CONTAINER_LAUNCH_FAILED) instead of reaching RUNNING. @default false */
  readonly failLaunch?: boolean;
  /** Exit this long after RUNNING. @default never */
  readonly exitAfterMs?: number;
  /** Exit code: 0 → TASK_FINISHED, anything else → TASK_FAILED. @default 0 */
  readonly exitCode?: number;
  /** `checkStatus.exitCode` on RUNNING when the TaskInfo has a readiness `check`. @default 0 */
  readonly readinessExitCode?: number;
  /** Send a second RUNNING with `checkStatus.exitCode` 0 this long after RUNNING (a check that passes late). */
  readonly readyAfterMs?: number;
  /** `healthy` on RUNNING when the TaskInfo has a `healthCheck`. @default true */
  readonly healthy?: boolean;
}

export interface SimTask {
  readonly info: TaskInfo;
  /** The executor it was launched with; what a restored agent re-holds resources for. */
  readonly executor: ExecutorInfo;
  readonly agent: SimAgent;
  readonly frameworkId: string;
  /** Tasks of one LAUNCH_GROUP share it: a failed or killed task takes the rest down. */
  readonly group: number;
  /** The tasks of the group, in launch order (one array shared by all of them). */
  readonly peers: readonly SimTask[];
  readonly script: SimTaskScript;
  state: TaskState;
  /** The last update the scheduler was sent; what reconciliation reports. */
  lastSent: TaskStatus | undefined;
  killing: boolean;
  timers: Cancel[];
}

export interface SimTasksOptions {
  readonly schedule: (delayMs: number, fn: () => void) => Cancel;
  readonly now: () => number;
  readonly uuid: () => string;
  /** Delivers an agent update to the subscribed framework that owns the task; false when none is. */
  readonly deliver: (status: TaskStatus, task: SimTask) => boolean;
  /** A task ended and its resources went back to its agent. */
  readonly onFreed: () => void;
  readonly statusDelayMs: number;
  readonly statusRetryMs: number;
  readonly headOfLine: boolean;
  readonly taskScript: ((task: TaskInfo) => SimTaskScript) | undefined;
  readonly runtime?: TaskRuntime | undefined;
}

export type Extra = Partial<Pick<TaskStatus, "message" | "reason" | "healthy" | "checkStatus">>;

/**
 * Runs tasks for real instead of the scripted lifecycle (the local cluster's processes). It
 * reports every transition through `SimTasks.report`; a terminal report frees the resources.
 */
export interface TaskRuntime {
  start(task: SimTask): void;
  kill(task: SimTask): void;
  /** The framework is gone: stop the task with no further update. */
  discard(task: SimTask): void;
}

/** The tasks the master knows, their scripted lifecycles and their update stream. */
export class SimTasks {
  readonly channel: StatusChannel;
  private readonly byId = new Map<string, SimTask>();
  private groupSeq = 0;

  constructor(private readonly o: SimTasksOptions) {
    this.channel = new StatusChannel({
      schedule: o.schedule,
      retryMs: o.statusRetryMs,
      headOfLine: o.headOfLine,
      deliver: (status) => {
        const task = this.byId.get(status.taskId);
        if (!task || !o.deliver(status, task)) return false;
        task.lastSent = status;
        return true;
      },
    });
  }

  /** Known to the master: live, or terminal with an unacknowledged update. */
  get(taskId: string): SimTask | undefined {
    return this.byId.get(taskId);
  }

  all(): SimTask[] {
    return [...this.byId.values()];
  }

  /** Starts the tasks of one accepted LAUNCH_GROUP; their resources are already held. */
  launch(agent: SimAgent, frameworkId: string, executor: ExecutorInfo, infos: readonly TaskInfo[]): void {
    const group = ++this.groupSeq;
    const peers = new Array<SimTask>(infos.length); // exact size: most groups hold one task
    for (const [i, info] of infos.entries()) {
      const script = { ...scriptFromLabels(info), ...this.o.taskScript?.(info) };
      const task: SimTask = {
        info,
        executor,
        agent,
        frameworkId,
        group,
        peers,
        script,
        state: "TASK_STAGING",
        lastSent: undefined,
        killing: false,
        timers: [],
      };
      peers[i] = task;
      this.byId.set(info.taskId, task);
      if (this.o.runtime) this.o.runtime.start(task);
      else this.after(task, this.o.statusDelayMs, () => this.start(task));
    }
  }

  /**
   * Takes back tasks from a saved master state: live, or terminal with updates still
   * unacknowledged (`pending`, re-sent with their own uuids). Tasks sharing `group` are peers.
   */
  adopt(
    saved: readonly {
      readonly agent: SimAgent;
      readonly frameworkId: string;
      readonly executor: ExecutorInfo;
      readonly info: TaskInfo;
      readonly group: number;
      readonly state: TaskState;
      readonly lastSent: TaskStatus | undefined;
      readonly pending: readonly TaskStatus[];
    }[],
  ): SimTask[] {
    const groups = new Map<number, SimTask[]>();
    const out: SimTask[] = [];
    for (const s of saved) {
      const peers = groups.get(s.group) ?? [];
      groups.set(s.group, peers);
      const task: SimTask = {
        info: s.info,
        executor: s.executor,
        agent: s.agent,
        frameworkId: s.frameworkId,
        group: s.group,
        peers,
        script: {},
        state: s.state,
        lastSent: s.lastSent,
        killing: false,
        timers: [],
      };
      peers.push(task);
      this.byId.set(s.info.taskId, task);
      for (const p of s.pending) this.channel.send(p);
      this.groupSeq = Math.max(this.groupSeq, s.group);
      out.push(task);
    }
    return out;
  }

  /** A runtime's report of a transition; terminal states free the task's resources. */
  report(task: SimTask, state: TaskState, extra: Extra = {}): void {
    if (isTerminal(state)) this.finish(task, state, extra);
    else if (!isTerminal(task.state)) this.update(task, state, extra);
  }

  /** KILL: a task still staging dies at once, a started one after `statusDelayMs`. */
  kill(task: SimTask): void {
    if (isTerminal(task.state) || task.killing) return;
    task.killing = true;
    if (this.o.runtime) {
      this.o.runtime.kill(task);
      return;
    }
    this.cancelTimers(task);
    const staging = task.state === "TASK_STAGING";
    this.after(task, staging ? 0 : this.o.statusDelayMs, () =>
      this.finish(
        task,
        "TASK_KILLED",
        staging
          ? { reason: "REASON_TASK_KILLED_DURING_LAUNCH" }
          : { message: "killed by the scheduler" },
      ),
    );
  }

  /** Moves a live task to a terminal `state`, frees its resources, and kills its group unless it FINISHED. */
  finish(task: SimTask, state: TaskState, extra: Extra = {}): void {
    if (isTerminal(task.state)) return;
    this.update(task, state, extra);
    this.cancelTimers(task);
    task.agent.releaseTask(task.info.taskId);
    if (state !== "TASK_FINISHED") {
      for (const other of task.peers) {
        // Only tasks the master still knows, as when this looked through every task.
        if (other !== task && this.byId.get(other.info.taskId) === other) {
          if (this.o.runtime) {
            this.kill(other); // a real process ends only once it is killed
            continue;
          }
          this.finish(other, "TASK_KILLED", {
            message: `task ${task.info.taskId} of its group ended ${state}`,
          });
        }
      }
    }
    this.o.onFreed();
  }

  /** ACKNOWLEDGE; the master forgets a terminal task once all its updates are acknowledged. */
  acknowledge(agentId: string, taskId: string, uuid: string): boolean {
    const task = this.byId.get(taskId);
    if (!task || task.agent.id !== agentId || !this.channel.ack(taskId, uuid)) return false;
    if (isTerminal(task.state) && this.channel.pending(taskId) === 0) this.byId.delete(taskId);
    return true;
  }

  /**
   * The agent became unreachable (or was removed): its live tasks turn `state`
   * (TASK_UNREACHABLE, TASK_LOST, TASK_GONE_BY_OPERATOR) and their unacknowledged updates are
   * lost with it. Returns the master's updates to send.
   */
  loseAgent(agent: SimAgent, state: TaskState, why = { reason: "REASON_AGENT_REMOVED", message: "agent is unreachable" }): TaskStatus[] {
    const out: TaskStatus[] = [];
    for (const task of this.byId.values()) {
      if (task.agent !== agent) continue;
      this.channel.clear(task.info.taskId);
      this.cancelTimers(task);
      if (isTerminal(task.state)) {
        this.byId.delete(task.info.taskId);
        continue;
      }
      agent.releaseTask(task.info.taskId);
      task.state = state;
      task.lastSent = masterStatus(
        task.info.taskId,
        state,
        this.o.now(),
        why.reason,
        why.message,
        agent.id,
      );
      out.push(task.lastSent);
    }
    return out;
  }

  /** The agent came back empty: the master forgets the tasks it had. */
  forgetAgent(agent: SimAgent): void {
    for (const task of this.byId.values()) {
      if (task.agent === agent) this.byId.delete(task.info.taskId);
    }
  }

  /** Removes every task without any update (framework removal); resources are freed. */
  removeAll(): void {
    for (const task of this.byId.values()) {
      this.cancelTimers(task);
      if (!isTerminal(task.state)) this.o.runtime?.discard(task);
      if (!isTerminal(task.state)) task.agent.releaseTask(task.info.taskId);
      task.state = "TASK_KILLED";
    }
    this.byId.clear();
    this.channel.clear();
  }

  private start(task: SimTask): void {
    if (task.script.failLaunch) {
      this.finish(task, "TASK_FAILED", {
        reason: "REASON_CONTAINER_LAUNCH_FAILED",
        message: "simulated launch failure",
      });
      return;
    }
    this.update(task, "TASK_STARTING");
    this.after(task, this.o.statusDelayMs, () => this.run(task));
  }

  private run(task: SimTask): void {
    const { script, info } = task;
    const extra: { -readonly [K in keyof Extra]: Extra[K] } = {};
    if (info.check) extra.checkStatus = { exitCode: script.readinessExitCode ?? 0 };
    if (info.healthCheck) extra.healthy = script.healthy ?? true;
    this.update(task, "TASK_RUNNING", extra);
    if (info.check && script.readyAfterMs !== undefined) {
      const ready: Extra = {
        ...extra,
        checkStatus: { exitCode: 0 },
        reason: "REASON_TASK_CHECK_STATUS_UPDATED",
      };
      this.after(task, script.readyAfterMs, () => this.update(task, "TASK_RUNNING", ready));
    }
    if (script.exitAfterMs !== undefined) {
      const code = script.exitCode ?? 0;
      this.after(task, script.exitAfterMs, () =>
        this.finish(task, code === 0 ? "TASK_FINISHED" : "TASK_FAILED", {
          message: `command exited with status ${code}`,
        }),
      );
    }
  }

  private update(task: SimTask, state: TaskState, extra: Extra = {}): void {
    task.state = state;
    const agentId = task.agent.id;
    const { taskId } = task.info;
    this.channel.send({
      taskId,
      state,
      agentId,
      uuid: this.o.uuid(),
      source: "SOURCE_EXECUTOR",
      timestampMs: this.o.now(),
      ...extra,
    });
  }

  /** Runs `fn` after `delayMs` unless the task has ended by then. A fired timer is forgotten. */
  private after(task: SimTask, delayMs: number, fn: () => void): void {
    const cancel = this.o.schedule(delayMs, () => {
      const i = task.timers.indexOf(cancel);
      if (i >= 0) task.timers.splice(i, 1);
      if (task.timers.length === 0) task.timers = []; // drops the grown backing store
      if (!isTerminal(task.state)) fn();
    });
    task.timers.push(cancel);
  }

  private cancelTimers(task: SimTask): void {
    for (const cancel of task.timers) cancel();
    task.timers = [];
  }
}

function scriptFromLabels(info: TaskInfo): SimTaskScript {
  const code = info.labels[LABEL_SIM_EXIT_CODE];
  // A task meant to finish (goal FINISH/ONCE) exits 0 right after RUNNING unless told otherwise.
  const goal = info.labels[LABEL_GOAL];
  if (code === undefined) return goal === "FINISH" || goal === "ONCE" ? { exitCode: 0, exitAfterMs: 0 } : {};
  const n = Number(code);
  return {
    exitCode: Number.isInteger(n) ? n : 1,
    exitAfterMs: Number(info.labels[LABEL_SIM_EXIT_AFTER_MS] ?? 0) || 0,
  };
}

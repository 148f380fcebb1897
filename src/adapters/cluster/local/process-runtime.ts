/**
 * The local cluster's TaskRuntime: every task is a real process under its own supervisor
 * (supervisor.mjs), started detached so it outlives the scheduler. The runtime learns what
 * happened from the files the supervisor writes in the sandbox, polled on the clock, so the
 * same code follows a task it launched and one it re-adopts after a restart.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TaskState } from "../../../domain/cluster.js";
import { LABEL_NAMESPACE, isTerminal } from "../../../domain/cluster.js";
import { reservationLabels } from "../../../domain/offer/pool.js";
import type { Cancel, Clock, Logger } from "../../../engine/ports.js";
import type { Extra, SimTask, TaskRuntime } from "../sim-tasks.js";
import { runHealthCheck, runReadinessCheck } from "./task-checks.js";
import type { CheckedTask } from "./task-checks.js";
import { bootId, isSameProcess, procStart, signalGroup, signalProcess } from "./proc.js";
import { lookupUser, prepareSandbox, sandboxDir, taskEnvironment } from "./sandbox.js";
import type { Account } from "./sandbox.js";
import { crashPoint } from "./test-crash.js";

export interface ProcessRuntimeOptions {
  /** `<data-dir>/local`. */
  readonly root: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Reports a transition of a task to the cluster (SimulatedCluster.report). */
  readonly report: (task: SimTask, state: TaskState, extra?: Extra) => void;
  /** Node binary that runs supervisor.mjs. @default process.execPath */
  readonly nodePath?: string;
  /** PATH given to tasks. */
  readonly taskPath: string;
  /** Whether a task may run as the user its spec names (the scheduler runs as root). */
  readonly canSwitchUser: boolean;
  /** How often supervisor files are read. @default 200 */
  readonly pollMs?: number;
}

const SUPERVISOR = new URL("./supervisor.mjs", import.meta.url).pathname;
/** How long a started supervisor may take to write its first file before its task counts as lost. */
const SUPERVISOR_START_GRACE_MS = 10_000;

interface SupervisorFile {
  readonly supervisorPid: number;
  readonly supervisorStart?: string;
  readonly taskPid?: number;
  readonly taskStart?: string;
  readonly bootId: string;
}

interface ExitFile {
  readonly code: number | null;
  readonly signal: string | null;
  readonly killed: boolean;
  readonly error?: string;
}

interface Tracked extends CheckedTask {
  readonly task: SimTask;
  readonly sandbox: string;
  sup: SupervisorFile | undefined;
  /** The supervisor process we spawned, until its own file names it. */
  spawned: { readonly pid: number; readonly start: string | undefined } | undefined;
  running: boolean;
  killRequested: boolean;
  signalled: boolean;
  /** Discarded: watched until its processes are gone, never reported on. */
  silent: boolean;
}

export class ProcessRuntime implements TaskRuntime {
  private readonly tracked = new Map<string, Tracked>();
  private queued: { readonly task: SimTask; readonly adopted: boolean }[] = [];
  private poll: Cancel | undefined;
  private closed = false;

  constructor(private readonly o: ProcessRuntimeOptions) {}

  /** Queued: the process starts in `startQueued`, once the cluster has saved the task. */
  start(task: SimTask): void {
    this.queued.push({ task, adopted: false });
  }

  /** Re-attaches to a task of a restored cluster: running, ended while we were away, or never started. */
  adopt(task: SimTask): void {
    const sandbox = sandboxDir(this.o.root, task.info.taskId);
    const sup = readJson<SupervisorFile>(join(sandbox, "supervisor.json"));
    const spawned = readJson<{ pid: number; start?: string }>(join(sandbox, "spawn.json"));
    // The lock is the supervisor's first act: with it, a supervisor was started (it may be
    // writing its files right now), so starting another would run the task twice.
    if (!sup && !spawned && !existsSync(join(sandbox, "supervisor.lock"))) {
      this.queued.push({ task, adopted: true });
      return;
    }
    const t = this.track(task, sandbox);
    t.sup = sup;
    t.spawned = spawned ? { pid: spawned.pid, start: spawned.start } : undefined;
    t.running = task.state === "TASK_RUNNING";
    t.readinessPassed = task.lastSent?.checkStatus?.exitCode === 0;
    if (t.running) this.startChecks(t);
    this.armPoll();
  }

  /** Starts what `start` and `adopt` queued. */
  startQueued(): void {
    const queued = this.queued;
    this.queued = [];
    for (const { task } of queued) if (!isTerminal(task.state)) this.launch(task);
  }

  kill(task: SimTask): void {
    const t = this.tracked.get(task.info.taskId);
    if (!t) {
      // Not started yet: it never will be.
      this.queued = this.queued.filter((q) => q.task !== task);
      this.o.report(task, "TASK_KILLED", { reason: "REASON_TASK_KILLED_DURING_LAUNCH" });
      return;
    }
    t.killRequested = true;
    try {
      writeFileSync(join(t.sandbox, "kill-requested"), "");
    } catch (err) {
      this.o.log.warn({ err, taskId: task.info.taskId }, "could not mark the task for killing; signalling its supervisor only");
    }
    this.signal(t);
  }

  /** Killed like any task, but watched only until it is gone: nobody wants its updates. */
  discard(task: SimTask): void {
    this.queued = this.queued.filter((q) => q.task !== task);
    const t = this.tracked.get(task.info.taskId);
    if (!t) return;
    t.silent = true;
    for (const c of t.checkTimers.splice(0)) c();
    this.kill(task);
  }

  /** Stops watching; the processes go on, for the next scheduler to adopt. */
  close(): void {
    this.closed = true;
    this.poll?.();
    this.poll = undefined;
    for (const t of this.tracked.values()) for (const c of t.checkTimers.splice(0)) c();
  }

  /** The task and supervisor pids of the tasks being watched (tests, diagnostics). */
  processes(): { readonly taskId: string; readonly taskPid?: number; readonly supervisorPid?: number }[] {
    return [...this.tracked.values()].map((t) => ({
      taskId: t.task.info.taskId,
      ...(t.sup?.taskPid === undefined ? {} : { taskPid: t.sup.taskPid }),
      ...(t.sup ? { supervisorPid: t.sup.supervisorPid } : {}),
    }));
  }

  // ---------------------------------------------------------------------------------------------

  private launch(task: SimTask): void {
    const { info } = task;
    let account: Account | undefined;
    const user = info.command.user;
    if (user && this.o.canSwitchUser) {
      account = lookupUser(user);
      if (!account) {
        this.o.report(task, "TASK_FAILED", { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: `user '${user}' does not exist on this machine` });
        return;
      }
    }
    let sandbox: string;
    try {
      sandbox = prepareSandbox(this.o.root, info, account);
      writeFileSync(
        join(sandbox, "launch.json"),
        JSON.stringify({
          cmd: info.command.value,
          env: taskEnvironment(info, sandbox, task.frameworkId, this.o.taskPath),
          cwd: sandbox,
          stdout: join(sandbox, "stdout"),
          stderr: join(sandbox, "stderr"),
          killGraceS: info.killGracePeriodS ?? 3,
          // Whose reservations the task ran on: its sandbox goes once they are released.
          namespaces: [...new Set(info.resources.flatMap((r) => reservationLabels(r)?.[LABEL_NAMESPACE] ?? []))],
          ...(account ? { uid: account.uid, gid: account.gid } : {}),
        }),
      );
    } catch (err) {
      this.o.report(task, "TASK_FAILED", { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: `sandbox: ${(err as Error).message}` });
      return;
    }
    const t = this.track(task, sandbox);
    t.account = account;
    const child = spawn(this.o.nodePath ?? process.execPath, [SUPERVISOR, sandbox], { detached: true, stdio: "ignore" });
    child.on("error", (err) => this.o.log.error({ err, taskId: info.taskId }, "task supervisor failed to start"));
    child.unref();
    crashPoint("during-launch", [info.taskId]);
    if (child.pid !== undefined) {
      t.spawned = { pid: child.pid, start: procStart(child.pid) };
      writeFileSync(join(sandbox, "spawn.json"), JSON.stringify({ ...t.spawned, bootId: bootId() }));
    }
    this.o.report(task, "TASK_STARTING");
    this.armPoll();
  }

  private track(task: SimTask, sandbox: string): Tracked {
    const user = task.info.command.user;
    const t: Tracked = {
      task,
      sandbox,
      env: taskEnvironment(task.info, sandbox, task.frameworkId, this.o.taskPath),
      account: user && this.o.canSwitchUser ? lookupUser(user) : undefined,
      sup: undefined,
      spawned: undefined,
      running: false,
      killRequested: false,
      signalled: false,
      silent: false,
      startedMs: this.o.clock.now(),
      checkTimers: [],
      healthFailures: 0,
      healthy: undefined,
      healthKilled: false,
      readinessPassed: false,
      checking: { health: false, readiness: false },
    };
    this.tracked.set(task.info.taskId, t);
    return t;
  }

  private forget(t: Tracked): void {
    for (const c of t.checkTimers.splice(0)) c();
    this.tracked.delete(t.task.info.taskId);
  }

  private armPoll(): void {
    if (this.poll || this.closed) return;
    this.poll = this.o.clock.setTimer(this.o.pollMs ?? 200, () => {
      this.poll = undefined;
      for (const t of [...this.tracked.values()]) this.observe(t);
      if (this.tracked.size > 0) this.armPoll();
    });
  }

  /** One look at a task's supervisor files and processes. */
  private observe(t: Tracked): void {
    if (t.silent) return this.observeDiscarded(t);
    if (isTerminal(t.task.state)) return this.forget(t);
    t.sup ??= readJson<SupervisorFile>(join(t.sandbox, "supervisor.json"));
    if (t.sup?.taskPid !== undefined && t.sup.taskStart === undefined) {
      t.sup = readJson<SupervisorFile>(join(t.sandbox, "supervisor.json")) ?? t.sup;
    }
    const exit = readJson<ExitFile>(join(t.sandbox, "exit.json"));
    if (exit) return this.ended(t, exit);
    if (t.sup?.taskPid === undefined) {
      // Between the supervisor's start and its task's spawn, or before it wrote anything.
      t.sup = readJson<SupervisorFile>(join(t.sandbox, "supervisor.json")) ?? t.sup;
    }
    if (t.killRequested) this.signal(t);
    if (!this.supervisorAlive(t)) {
      const late = readJson<ExitFile>(join(t.sandbox, "exit.json"));
      if (late) return this.ended(t, late);
      this.forget(t);
      if (t.sup?.taskPid !== undefined && isSameProcess(t.sup.taskPid, t.sup.taskStart, t.sup.bootId)) {
        signalGroup(t.sup.taskPid, "SIGKILL"); // nobody would report on it any more
      }
      this.o.report(t.task, "TASK_LOST", { reason: "REASON_EXECUTOR_TERMINATED", message: "the task's supervisor is gone; its exit status is unknown" });
      return;
    }
    if (t.sup?.taskPid !== undefined && !t.running) {
      t.running = true;
      this.o.report(t.task, "TASK_RUNNING", t.task.info.check ? { checkStatus: {} } : {});
      this.startChecks(t);
    }
  }

  private observeDiscarded(t: Tracked): void {
    t.sup = readJson<SupervisorFile>(join(t.sandbox, "supervisor.json")) ?? t.sup;
    this.signal(t);
    if (existsSync(join(t.sandbox, "exit.json")) || !this.supervisorAlive(t)) {
      this.forget(t);
      rmSync(t.sandbox, { recursive: true, force: true }); // the framework is gone, and so is all it had
    }
  }

  /**
   * A service's reservations were released: the sandboxes of its tasks that have ended go too,
   * so nothing of a removed service stays on the machine. Sandboxes of tasks still watched stay.
   */
  collectSandboxes(namespaces: ReadonlySet<string>): void {
    const root = join(this.o.root, "sandboxes");
    if (namespaces.size === 0 || !existsSync(root)) return;
    for (const id of readdirSync(root)) {
      if (this.tracked.has(id) || this.queued.some((q) => q.task.info.taskId === id)) continue;
      const dir = join(root, id);
      const launch = readJson<{ namespaces?: string[] }>(join(dir, "launch.json"));
      if (!launch?.namespaces?.some((ns) => namespaces.has(ns))) continue;
      if (!existsSync(join(dir, "exit.json"))) continue; // not known to have ended
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private supervisorAlive(t: Tracked): boolean {
    if (t.sup) return isSameProcess(t.sup.supervisorPid, t.sup.supervisorStart, t.sup.bootId);
    if (t.spawned?.start !== undefined) return procStart(t.spawned.pid) === t.spawned.start;
    // Started, but not yet (or never) heard of: give it time to write its files.
    return this.o.clock.now() - t.startedMs < SUPERVISOR_START_GRACE_MS;
  }

  private ended(t: Tracked, exit: ExitFile): void {
    this.forget(t);
    // A command that ran and ended before a poll saw it running was RUNNING all the same, as
    // Mesos' command executor says once it has forked: its deploy step is complete, and
    // recovery (not the deploy step's launch back-off) relaunches it.
    const ran = exit.error === undefined && (exit.code !== null || exit.signal !== null);
    if (ran && !t.running && !exit.killed) {
      t.running = true;
      this.o.report(t.task, "TASK_RUNNING", t.task.info.check ? { checkStatus: {} } : {});
    }
    if (exit.error) {
      this.o.report(t.task, "TASK_FAILED", { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: exit.error });
    } else if (t.healthKilled) {
      this.o.report(t.task, "TASK_KILLED", { healthy: false, reason: "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", message: `health check failed ${t.healthFailures} times in a row` });
    } else if (exit.killed) {
      this.o.report(t.task, "TASK_KILLED", { message: "killed by the scheduler" });
    } else if (exit.code === 0) {
      this.o.report(t.task, "TASK_FINISHED", { message: "command exited with status 0" });
    } else {
      const how = exit.code !== null ? `exited with status ${exit.code}` : `was terminated by ${exit.signal}`;
      this.o.report(t.task, "TASK_FAILED", { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: `command ${how}` });
    }
  }

  /** Asks the supervisor to kill its task (SIGTERM, SIGKILL after the grace period). */
  private signal(t: Tracked): void {
    if (t.signalled || !t.sup) return;
    t.signalled = true;
    if (isSameProcess(t.sup.supervisorPid, t.sup.supervisorStart, t.sup.bootId)) {
      signalProcess(t.sup.supervisorPid, "SIGTERM"); // it may have ended since the check
    }
  }

  private startChecks(t: Tracked): void {
    const { check, healthCheck } = t.task.info;
    const deps = {
      clock: this.o.clock,
      report: (state: TaskState, extra: Extra) => this.o.report(t.task, state, extra),
      killForHealth: () => {
        t.healthKilled = true;
        this.kill(t.task);
      },
      alive: () => this.tracked.get(t.task.info.taskId) === t && !this.closed,
    };
    if (check && !t.readinessPassed) runReadinessCheck(t, check, deps);
    if (healthCheck) runHealthCheck(t, healthCheck, deps);
  }
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined; // written whole through a rename, so only a vanished file gets here
  }
}

/**
 * The local agent's task runtime: every task is its command under a tiny shell wrapper
 * (wrapper.ts), spawned detached so it outlives the agent, with no Node process per task. The
 * agent learns a child's end from its 'exit' event at once; a task adopted after a restart (not
 * its child) is looked at on one shared poll, and its exit status read from the file the wrapper
 * wrote. task.json (the wrapper's pid, start time and boot id) is the proof that a task started.
 * A task with URIs has them fetched first (uri-fetches.ts), then starts the same way.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { isTerminal } from "../../../../domain/cluster.js";
import type { TaskInfo, TaskState } from "../../../../domain/cluster.js";
import type { Cancel, TaskFiles } from "../../../../engine/ports.js";
import type { Extra, SimTask } from "../../sim-tasks.js";
import { rotateOutputs } from "./log-rotation.js";
import { cgroupOomKilled, finiteLimits, removeTaskCgroup } from "./cgroups.js";
import { launchTask, namespacesOf, taskUser } from "./launch.js";
import { groupAlive, groupLeaderIn, isSameProcess, signalGroup } from "./proc.js";
import { SANDBOX_FILES, sandboxDir, taskEnvironment } from "./sandbox.js";
import type { Account } from "./sandbox.js";
import { SandboxGc, collectNamespaceSandboxes } from "./sandbox-gc.js";
import { SandboxFiles } from "./task-files.js";
import { runHealthCheck, runReadinessCheck } from "./task-checks.js";
import type { CheckedTask } from "./task-checks.js";
import { UNKNOWN_AWAY, UNKNOWN_WRAPPER, outcome } from "./task-outcome.js";
import { secretEnvironmentLenient } from "./task-secrets.js";
import { UriFetches } from "./uri-fetches.js";
import type { Ending } from "./task-outcome.js";
import type { AgentRuntime, AgentRuntimeOptions } from "./types.js";
import { readExitStatus, readRecord, writeRecord } from "./wrapper.js";
import type { TaskRecord } from "./wrapper.js";

export interface LocalAgentRuntimeOptions extends AgentRuntimeOptions {
  /** How often live tasks' stdout/stderr sizes are checked against `logMaxBytes`. @default 5000 */
  readonly rotateEveryMs?: number;
  /** How often ended sandboxes are garbage-collected. @default 60000 */
  readonly gcEveryMs?: number;
  /** One URI's download is given up after this long. @default 300000 */
  readonly fetchTimeoutMs?: number;
  /** Tasks whose URIs are fetched at once. @default 4 */
  readonly fetchConcurrency?: number;
}

const MiB = 1024 * 1024;
/** Tasks spawned per turn of the event loop. */
const LAUNCH_BATCH = 16;

interface Watched extends CheckedTask {
  readonly task: SimTask;
  readonly record: TaskRecord;
  /** Our child: its 'exit' event tells the end. Undefined for an adopted task, which is polled. */
  readonly child: ChildProcess | undefined;
  running: boolean;
  checksStarted: boolean;
  killRequested: boolean;
  /** SIGTERM sent; SIGKILL follows on this timer. */
  killTimer: Cancel | undefined;
  signalled: boolean;
  /** Discarded: killed and watched until gone, never reported on; then its sandbox goes. */
  silent: boolean;
  ended: boolean;
}

export class LocalAgentRuntime implements AgentRuntime {
  readonly files: TaskFiles;
  private readonly watched = new Map<string, Watched>();
  private readonly adopted = new Set<Watched>();
  /** Adopted and not looked at yet: startQueued looks at them once, then the poll does. */
  private fresh: Watched[] = [];
  private queued = new Map<string, SimTask>();
  /** Saved and due to start, LAUNCH_BATCH per turn of the event loop. */
  private ready = new Map<string, SimTask>();
  private launching = false;
  private readonly gc: SandboxGc;
  private readonly fetches: UriFetches;
  private poll: Cancel | undefined;
  private rotation: Cancel | undefined;
  private rotating = false;
  private gcTimer: Cancel | undefined;
  private closed = false;

  constructor(private readonly o: LocalAgentRuntimeOptions) {
    const isLive = (id: string): boolean => this.isLive(id);
    this.gc = new SandboxGc({
      root: o.root,
      clock: o.clock,
      log: o.log,
      maxAgeMs: o.sandboxMaxAgeMs ?? 7 * 24 * 3600_000,
      maxBytes: o.sandboxMaxBytes ?? 1024 * MiB,
      isLive,
    });
    this.fetches = new UriFetches({
      root: o.root,
      canSwitchUser: o.canSwitchUser,
      frameworkUser: () => o.frameworkUser?.(),
      concurrency: o.fetchConcurrency ?? 4,
      timeoutMs: o.fetchTimeoutMs ?? 300_000,
      fetched: (task) => {
        if (!this.closed && !isTerminal(task.state)) this.launch(task);
      },
      failed: (task, message) => {
        if (!this.closed && !isTerminal(task.state)) this.o.report(task, "TASK_FAILED", { reason: "REASON_CONTAINER_LAUNCH_FAILED", message });
      },
    });
    this.files = new SandboxFiles({ root: o.root, live: () => new Map(this.processes().map((p) => [p.taskId, p.taskPid])) });
  }

  /** Queued: the process starts in `startQueued`, once the master has saved the task. */
  start(task: SimTask): void {
    this.queued.set(task.info.taskId, task);
  }

  adopt(task: SimTask): void {
    if (isTerminal(task.state)) return;
    const { info } = task;
    const sandbox = sandboxDir(this.o.root, info.taskId);
    const record = readRecord(sandbox) ?? recordOrphan(sandbox, info);
    if (!record) {
      this.queued.set(info.taskId, task); // never started
      return;
    }
    const user = taskUser(info, this.o.frameworkUser?.(), this.o.canSwitchUser);
    const account = "account" in user ? user.account : undefined;
    const env = { ...taskEnvironment(info, sandbox, task.frameworkId, this.o.taskPath), ...secretEnvironmentLenient(info, this.o.secretsDir) };
    const t = this.watch(task, sandbox, env, account, record, undefined);
    t.running = task.state === "TASK_RUNNING";
    t.readinessPassed = task.lastSent?.checkStatus?.exitCode === 0;
    t.killRequested = existsSync(join(sandbox, SANDBOX_FILES.killRequested));
    // Looked at in startQueued, when the master takes reports again, then on the shared poll.
    this.adopted.add(t);
    this.fresh.push(t);
  }

  startQueued(): void {
    if (this.closed) return;
    const fresh = this.fresh;
    this.fresh = [];
    for (const t of fresh) this.observe(t);
    for (const [id, task] of this.queued) this.ready.set(id, task);
    this.queued = new Map();
    this.launchReady();
    this.armPoll();
    this.armRotation();
    this.armGc();
  }

  /**
   * Starts up to LAUNCH_BATCH ready tasks, and the rest on later turns: a spawn costs a few
   * milliseconds of the event loop, and hundreds at once would hold back every API answer
   * and heartbeat meanwhile.
   */
  private launchReady(): void {
    let n = 0;
    for (const [id, task] of this.ready) {
      if (n++ >= LAUNCH_BATCH) break;
      this.ready.delete(id);
      if (isTerminal(task.state)) continue;
      // Fetching is asynchronous; a task without URIs starts right here.
      if (task.info.command.uris?.length) this.fetches.add(task);
      else this.launch(task);
    }
    if (this.ready.size === 0 || this.launching) return;
    this.launching = true;
    setImmediate(() => {
      this.launching = false;
      if (!this.closed) this.launchReady();
    });
  }

  kill(task: SimTask): void {
    const t = this.watched.get(task.info.taskId);
    if (!t) {
      // Not started yet: it never will be.
      this.queued.delete(task.info.taskId);
      this.ready.delete(task.info.taskId);
      this.fetches.cancel(task.info.taskId);
      this.o.report(task, "TASK_KILLED", { reason: "REASON_TASK_KILLED_DURING_LAUNCH" });
      return;
    }
    this.terminate(t);
  }

  /** Killed like any task, but watched only until it is gone: nobody wants its updates. */
  discard(task: SimTask): void {
    this.queued.delete(task.info.taskId);
    this.ready.delete(task.info.taskId);
    this.fetches.cancel(task.info.taskId);
    const t = this.watched.get(task.info.taskId);
    if (!t) return;
    t.silent = true;
    for (const c of t.checkTimers.splice(0)) c();
    this.terminate(t);
  }

  close(): void {
    this.closed = true;
    this.fetches.close();
    for (const c of [this.poll, this.rotation, this.gcTimer]) c?.();
    this.poll = this.rotation = this.gcTimer = undefined;
    for (const t of this.watched.values()) {
      for (const c of t.checkTimers.splice(0)) c();
      t.killTimer?.(); // the next agent finds kill-requested and kills again
    }
  }

  processes(): { readonly taskId: string; readonly taskPid?: number }[] {
    const out: { taskId: string; taskPid: number }[] = [];
    for (const t of this.watched.values()) if (!t.ended) out.push({ taskId: t.task.info.taskId, taskPid: t.record.pid });
    return out;
  }

  collectSandboxes(namespaces: ReadonlySet<string>): void {
    const removed = collectNamespaceSandboxes(this.o.root, namespaces, (id) => this.isLive(id));
    for (const id of removed) this.gc.forget(id);
  }

  /** One rotation pass over the live tasks' output files (also run every `rotateEveryMs`). */
  async rotateLogs(): Promise<void> {
    if (this.rotating) return;
    this.rotating = true;
    try {
      // One task at a time: a pass over hundreds of tasks must not hold hundreds of descriptors.
      for (const t of [...this.watched.values()]) if (!t.ended) await rotateOutputs(t.sandbox, this.logMaxBytes);
    } finally {
      this.rotating = false;
    }
  }

  /** One garbage-collection pass over ended sandboxes (also run every `gcEveryMs`); returns the task IDs removed. */
  collectGarbage(): Promise<string[]> {
    return this.gc.sweep();
  }

  // ---------------------------------------------------------------------------------------------

  /** Watched, queued, due to start or fetching: its sandbox is in use. */
  private isLive(taskId: string): boolean {
    return this.watched.has(taskId) || this.queued.has(taskId) || this.ready.has(taskId) || this.fetches.has(taskId);
  }

  private get logMaxBytes(): number {
    return this.o.logMaxBytes ?? 10 * MiB;
  }

  private launch(task: SimTask): void {
    const { info } = task;
    const launched = launchTask(info, {
      root: this.o.root,
      frameworkId: task.frameworkId,
      taskPath: this.o.taskPath,
      canSwitchUser: this.o.canSwitchUser,
      frameworkUser: this.o.frameworkUser?.(),
      secretsDir: this.o.secretsDir,
      executor: task.executor ?? info.executor,
    });
    switch (launched.kind) {
      case "failed":
        this.o.report(task, "TASK_FAILED", launched.extra);
        return;
      case "spawn-failed":
        launched.child.once("error", (err) =>
          this.o.report(task, "TASK_FAILED", { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: `the task's process could not be started: ${err.message}` }),
        );
        return;
      case "started":
        break;
    }
    const { child } = launched;
    child.on("error", (err) => this.o.log.warn({ err, taskId: info.taskId }, "task process error"));
    const t = this.watch(task, launched.sandbox, launched.env, launched.account, launched.record, child);
    child.once("exit", (code, signal) => this.exited(t, code, signal));
    t.running = true;
    // As Mesos' command executor once it has forked.
    this.o.report(task, "TASK_RUNNING", info.check ? { checkStatus: {} } : {});
    this.startChecks(t);
  }

  private watch(
    task: SimTask,
    sandbox: string,
    env: Readonly<Record<string, string>>,
    account: Account | undefined,
    record: TaskRecord,
    child: ChildProcess | undefined,
  ): Watched {
    const t: Watched = {
      task,
      sandbox,
      env,
      account,
      record,
      child,
      running: false,
      checksStarted: false,
      killRequested: false,
      killTimer: undefined,
      signalled: false,
      silent: false,
      ended: false,
      startedMs: this.o.clock.now(),
      checkTimers: [],
      healthFailures: 0,
      healthy: undefined,
      healthKilled: false,
      readinessPassed: false,
      checking: { health: false, readiness: false },
    };
    this.watched.set(task.info.taskId, t);
    return t;
  }

  /** Our child's end, as its 'exit' event tells it: the wrapper exits with the command's status. */
  private exited(t: Watched, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.closed || t.ended) return; // closed: the next agent adopts it and reads the exit file
    this.end(t, code !== null ? { status: code } : { unknown: `${UNKNOWN_WRAPPER} (${signal ?? "no signal"})` });
  }

  /** One look at an adopted task: still running, or ended (with the status its wrapper wrote). */
  private observe(t: Watched): void {
    if (t.ended) return;
    if (isTerminal(t.task.state) && !t.silent) {
      this.unwatch(t);
      return;
    }
    if (isSameProcess(t.record.pid, t.record.procStart, t.record.bootId)) {
      if (t.silent) {
        this.terminate(t);
        return;
      }
      if (!t.running && !t.killRequested) {
        t.running = true;
        this.o.report(t.task, "TASK_RUNNING", t.task.info.check ? { checkStatus: {} } : {});
      }
      if (t.killRequested) this.terminate(t); // a kill the last agent began
      else this.startChecks(t);
      return;
    }
    const status = readExitStatus(t.sandbox);
    this.end(t, status !== undefined ? { status } : { unknown: UNKNOWN_AWAY });
  }

  private end(t: Watched, ending: Ending): void {
    t.ended = true;
    this.unwatch(t);
    // What the command left behind in its group goes with it, and then its cgroup.
    if (groupAlive(t.record)) signalGroup(t.record.pid, "SIGKILL");
    const limited = finiteLimits(t.task.info) !== undefined;
    const oomKilled = limited && cgroupOomKilled(t.task.info.taskId);
    if (limited) removeTaskCgroup(t.task.info.taskId, (err) => this.o.log.warn({ err, taskId: t.task.info.taskId }, "could not remove the task's cgroup"));
    if (t.silent) {
      this.gc.forget(t.task.info.taskId);
      void rm(t.sandbox, { recursive: true, force: true }).catch((err: unknown) =>
        this.o.log.warn({ err, taskId: t.task.info.taskId }, "could not remove a discarded task's sandbox"),
      );
      return;
    }
    void rotateOutputs(t.sandbox, this.logMaxBytes);
    // A command that ended before anyone saw it running was RUNNING all the same, as Mesos'
    // command executor says once it has forked.
    if (!t.running && !t.killRequested && "status" in ending) this.report(t, "TASK_RUNNING", t.task.info.check ? { checkStatus: {} } : {});
    const { state, extra } = outcome(t, ending, oomKilled ? t.task.info.limits?.mem : undefined);
    this.report(t, state, extra);
  }

  private report(t: Watched, state: TaskState, extra: Extra): void {
    this.o.report(t.task, state, extra);
  }

  private unwatch(t: Watched): void {
    for (const c of t.checkTimers.splice(0)) c();
    t.killTimer?.();
    t.killTimer = undefined;
    this.adopted.delete(t);
    if (this.watched.get(t.task.info.taskId) === t) this.watched.delete(t.task.info.taskId);
  }

  /** SIGTERM to the task's group, SIGKILL after its kill grace period. */
  private terminate(t: Watched): void {
    if (t.signalled || t.ended) return;
    if (!t.killRequested) {
      t.killRequested = true;
      try {
        writeFileSync(join(t.sandbox, SANDBOX_FILES.killRequested), "");
      } catch (err) {
        this.o.log.warn({ err, taskId: t.task.info.taskId }, "could not mark the task as being killed");
      }
    }
    if (!this.alive(t)) return; // its end is being reported
    t.signalled = true;
    signalGroup(t.record.pid, "SIGTERM");
    const graceMs = Math.max(0, t.task.info.killGracePeriodS ?? 3) * 1000;
    t.killTimer = this.o.clock.setTimer(graceMs, () => {
      t.killTimer = undefined;
      if (!t.ended && this.alive(t)) signalGroup(t.record.pid, "SIGKILL");
    });
  }

  private alive(t: Watched): boolean {
    if (t.child) return t.child.exitCode === null && t.child.signalCode === null;
    return isSameProcess(t.record.pid, t.record.procStart, t.record.bootId);
  }

  private startChecks(t: Watched): void {
    if (t.checksStarted || this.closed) return;
    t.checksStarted = true;
    const { check, healthCheck } = t.task.info;
    const deps = {
      clock: this.o.clock,
      report: (state: TaskState, extra: Extra) => this.report(t, state, extra),
      killForHealth: () => {
        t.healthKilled = true;
        this.terminate(t);
      },
      alive: () => !t.ended && !t.killRequested && !this.closed,
    };
    if (check && !t.readinessPassed) runReadinessCheck(t, check, deps);
    if (healthCheck) runHealthCheck(t, healthCheck, deps);
  }

  /** One shared poll for adopted tasks; our own children need none. */
  private armPoll(): void {
    if (this.poll || this.closed || this.adopted.size === 0) return;
    this.poll = this.o.clock.setTimer(this.o.pollMs ?? 200, () => {
      this.poll = undefined;
      for (const t of [...this.adopted]) this.observe(t);
      this.armPoll();
    });
  }

  private armRotation(): void {
    if (this.rotation || this.closed) return;
    this.rotation = this.o.clock.setTimer(this.o.rotateEveryMs ?? 5000, () => {
      this.rotation = undefined;
      void this.rotateLogs().finally(() => this.armRotation());
    });
  }

  private armGc(): void {
    if (this.gcTimer || this.closed) return;
    this.gcTimer = this.o.clock.setTimer(this.o.gcEveryMs ?? 60_000, () => {
      this.gcTimer = undefined;
      void this.collectGarbage()
        .catch((err: unknown) => this.o.log.warn({ err }, "sandbox garbage collection failed"))
        .finally(() => this.armGc());
    });
  }
}

/**
 * A task whose wrapper was spawned but not recorded (the agent died in between): its wrapper,
 * found by its working directory, is recorded now and adopted, so the task does not run twice.
 * A wrapper that already ended left its exit file, and the record of a gone process reads it.
 */
function recordOrphan(sandbox: string, info: TaskInfo): TaskRecord | undefined {
  const pid = groupLeaderIn(sandbox);
  if (pid !== undefined) return writeRecord(sandbox, pid, namespacesOf(info));
  // Recorded too, so that its sandbox is collected with its service's reservations.
  if (readExitStatus(sandbox) !== undefined) return writeRecord(sandbox, 0, namespacesOf(info));
  return undefined;
}

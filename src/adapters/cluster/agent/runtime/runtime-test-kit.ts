/**
 * The runtime tests' harness: a LocalAgentRuntime on a temp root with a FakeClock and the
 * reports it makes, SimTasks to start, and looks at the real processes they run. Test-only.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach } from "vitest";
import type { ExecutorInfo, TaskInfo, TaskState } from "../../../../domain/cluster.js";
import type { Logger } from "../../../../engine/ports.js";
import { tempDir } from "../../../../../test/use-temp-dir.js";
import { FakeClock } from "../../../fake-clock.js";
import type { SimAgent } from "../../sim-agent.js";
import type { Extra, SimTask } from "../../sim-tasks.js";
import { LocalAgentRuntime } from "./agent-runtime.js";
import type { LocalAgentRuntimeOptions } from "./agent-runtime.js";
import { procStart } from "./proc.js";
import { readRecord } from "./wrapper.js";

export const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };

/** Every process group a test started: killed before its temp dir goes. */
export function killGroups(root: string): void {
  const dir = join(root, "sandboxes");
  if (!existsSync(dir)) return;
  for (const id of readdirSync(dir)) {
    const r = readRecord(join(dir, id));
    if (!r || procStart(r.pid) !== r.procStart) continue;
    try {
      process.kill(-r.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

export interface Reported {
  readonly taskId: string;
  readonly state: TaskState;
  readonly extra: Extra;
}

const runtimes: LocalAgentRuntime[] = [];
afterEach(() => {
  for (const r of runtimes.splice(0)) r.close();
});

export function setup(over: Partial<LocalAgentRuntimeOptions> = {}, root = tempDir("agent-rt", { beforeRemove: killGroups })) {
  const clock = new FakeClock();
  const reports: Reported[] = [];
  const runtime = new LocalAgentRuntime({
    root,
    clock,
    log: quiet,
    taskPath: "/usr/bin:/bin",
    canSwitchUser: false,
    pollMs: 20,
    report: (task, state, extra = {}) => {
      task.state = state;
      reports.push({ taskId: task.info.taskId, state, extra });
    },
    ...over,
  });
  runtimes.push(runtime);
  const states = (id: string): TaskState[] => reports.filter((r) => r.taskId === id).map((r) => r.state);
  return { root, clock, reports, runtime, states };
}

let seq = 0;
/** A task of its own executor unless `executor` is given; its ID is unique on the machine (cgroups are machine-wide). */
export function simTask(command: string, info: Partial<TaskInfo> = {}, executor?: ExecutorInfo): SimTask {
  const taskInfo: TaskInfo = {
    name: "t",
    taskId: `svc__t-${++seq}__${randomUUID()}`,
    agentId: "agent-1",
    resources: [],
    command: { value: command, environment: {} },
    labels: {},
    ...info,
  };
  const task: SimTask = {
    info: taskInfo,
    executor: executor ?? ({ executorId: "e" } as SimTask["executor"]),
    agent: {} as SimAgent,
    frameworkId: "fw-1",
    group: seq,
    peers: [],
    script: {},
    state: "TASK_STAGING",
    lastSent: undefined,
    killing: false,
    timers: [],
  };
  return task;
}

/** Waits for a real process event to show (not a clock: the test cannot drive a process). */
export async function until(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The parent of `pid`, or -1 once it is gone. */
export function ppidOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

/** The live (not zombie) processes of the group led by `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const [state, , pg] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (state !== "Z" && Number(pg) === pgid) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The wrapper creates the output files once it runs: 0 until then. */
export const sizeOf = (path: string): number => (existsSync(path) ? statSync(path).size : 0);

export const comm = (pid: number): string => readFileSync(`/proc/${pid}/comm`, "utf8").trim();

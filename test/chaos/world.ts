/**
 * What is really on the machine for one data directory's local agent: the task processes (found
 * in /proc by their environment, not trusted from any file the agent wrote), the sandboxes, the
 * volume directories and the reservations each framework host saved in its cluster.json. And
 * the clean-up that kills every task process of a data directory.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sandboxIds, savedStates, volumeDirs } from "../local/agent-world.js";

export interface LiveProcess {
  readonly pid: number;
  readonly kind: "task";
  /** The task the process belongs to (its sandbox's name, or MESOS_TASK_ID). */
  readonly taskId: string;
}

export interface Reservation {
  readonly agentId: string;
  readonly namespace: string | undefined;
  readonly persistenceId: string | undefined;
}

export interface LocalWorld {
  readonly processes: readonly LiveProcess[];
  /** Task IDs that have a sandbox directory. */
  readonly sandboxes: readonly string[];
  /** `<agentId>/<persistenceId>` of every volume directory. */
  readonly volumes: readonly string[];
  readonly reservations: readonly Reservation[];
}

/** `svc__pod-0-task__uuid` → `svc__pod-0-task`. */
export function taskName(taskId: string): string {
  const i = taskId.lastIndexOf("__");
  return i < 0 ? taskId : taskId.slice(0, i);
}

/** `svc__pod-0-task__uuid` → `svc` (sanitized service name). */
export function taskService(taskId: string): string {
  return taskId.split("__")[0] ?? taskId;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  const stat = readText(`/proc/${pid}/stat`);
  return stat === undefined || stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z";
}

/** Every task process of `dataDir`'s local agent (wrappers and what they run), by its environment. */
export function localProcesses(dataDir: string): LiveProcess[] {
  const frameworks = `MESOS_SANDBOX=${join(dataDir, "agent", "frameworks")}/`;
  const out: LiveProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const environ = readText(`/proc/${pid}/environ`);
    if (environ === undefined || !environ.includes(frameworks)) continue;
    const taskId = environ.split("\0").find((v) => v.startsWith("MESOS_TASK_ID="))?.slice("MESOS_TASK_ID=".length);
    if (taskId !== undefined && !isZombie(pid)) out.push({ pid, kind: "task", taskId });
  }
  return out;
}

export function localWorld(dataDir: string): LocalWorld {
  const reservations = savedStates(dataDir).flatMap((state) =>
    state.agents.flatMap((a) =>
      a.reserved.map((r) => ({
        agentId: a.id,
        namespace: r.reservations?.at(-1)?.labels["namespace"],
        persistenceId: r.disk?.persistence?.id,
      })),
    ),
  );
  return { processes: localProcesses(dataDir), sandboxes: sandboxIds(dataDir), volumes: volumeDirs(dataDir), reservations };
}

/**
 * Kills every task process of `dataDir` (task process groups included), until none is left or
 * `timeoutMs` passed. Returns how many processes it signalled.
 */
export async function killLocalProcesses(dataDir: string, timeoutMs = 5000): Promise<number> {
  let signalled = 0;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const procs = localProcesses(dataDir);
    if (procs.length === 0 || Date.now() > deadline) return signalled;
    for (const p of procs) {
      for (const target of [-p.pid, p.pid]) {
        try {
          process.kill(target, "SIGKILL");
          signalled++;
        } catch {
          // not a group leader, or gone already
        }
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

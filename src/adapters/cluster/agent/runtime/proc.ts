/**
 * Process identity on Linux: a pid alone can be reused once its process is gone, so a process
 * is named by its pid, its start time (field 22 of /proc/<pid>/stat) and the boot id.
 */
import { readFileSync, readdirSync, readlinkSync } from "node:fs";

/** The start time of `pid` in clock ticks since boot, or undefined when there is no such process. */
export function procStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // A zombie has exited: it is waiting for its parent to collect it.
    if (fields[0] === "Z") return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

let boot: string | undefined;

export function bootId(): string {
  boot ??= readBootId();
  return boot;
}

function readBootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
}

/** Whether the process that started as (`pid`, `start`) in boot `boot` still runs. */
export function isSameProcess(pid: number | undefined, start: string | undefined, boot: string): boolean {
  if (pid === undefined || start === undefined || boot !== bootId()) return false;
  return procStart(pid) === start;
}

/** Sends `signal` to one process; false when it is gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  if (!isTaskPid(pid)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to a process group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!isTaskPid(pgid)) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * A pid a task can have. 0 (a task recorded after it ended, pid unknown) and 1 never are: as a
 * group, 0 would be the agent's own and 1 init's, so nothing is ever signalled through them.
 */
function isTaskPid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 1;
}

/** What task.json records of a task's wrapper: the leader of the task's process group. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly procStart: string | undefined;
  readonly bootId: string;
}

/**
 * Whether anything of the task's process group still runs: its leader (the wrapper) as it was
 * started, or members it left behind. A pid is not handed out while a group of that id exists,
 * so a live group whose leader pid is free is still ours; once a new process holds the pid, the
 * group is someone else's.
 */
export function groupAlive(id: ProcessIdentity): boolean {
  if (!isTaskPid(id.pid) || id.bootId !== bootId()) return false;
  const start = procStart(id.pid);
  if (start !== undefined) return start === id.procStart;
  try {
    process.kill(-id.pid, 0); // the leader is gone (or a zombie): are its group's members?
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The process group leader working in `dir`, if one runs: a wrapper spawned by an agent that
 * died before it recorded the pid (task.json). Linux /proc; undefined elsewhere.
 */
export function groupLeaderIn(dir: string): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) !== dir) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[0] is the state, fields[2] the process group.
      if (fields[0] !== "Z" && fields[2] === entry) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

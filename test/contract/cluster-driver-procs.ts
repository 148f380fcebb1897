/**
 * Looking at task processes from the outside, through /proc (Linux): whether a pid still runs
 * (a zombie does not), and which processes work inside a directory (a sandbox, an agent's state
 * directory), so tests can prove a task runs once and leave nothing running.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { sep } from "node:path";

/** True while `pid` exists and is neither a zombie nor dead. */
export function pidAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // "pid (comm) S …": comm may hold spaces and parentheses, the state follows the last ')'.
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X" && state !== "x";
}

export interface ProcInfo {
  readonly pid: number;
  readonly cwd: string;
  /** argv joined with spaces. */
  readonly cmdline: string;
}

/** Processes (not this one) whose working directory is `dir` or below it. */
export function processesIn(dir: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let cwd: string;
    let cmdline: string;
    try {
      cwd = readlinkSync(`/proc/${pid}/cwd`);
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    } catch {
      continue; // gone meanwhile, or not ours to look at
    }
    if ((cwd === dir || cwd.startsWith(dir + sep)) && pidAlive(pid)) out.push({ pid, cwd, cmdline });
  }
  return out;
}

/**
 * SIGKILLs every process working below `dir` (one by one: never a process group, which may be
 * the test runner's own). Returns how many it killed.
 */
export function killProcessesIn(dir: string): number {
  let n = 0;
  for (const p of processesIn(dir)) {
    try {
      process.kill(p.pid, "SIGKILL");
      n++;
    } catch {
      // already gone
    }
  }
  return n;
}

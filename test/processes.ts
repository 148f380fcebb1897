/**
 * Processes a test left behind in its temp directories: the local agent daemon (its state
 * directory is on its command line) and its tasks (their working directory is their sandbox).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Waits (up to 5 s) until the processes are gone: a dying process may still be writing. */
export async function waitDead(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 5000;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/**
 * Kills (SIGKILL) every other process whose working directory or command line is inside `dir`,
 * and waits until they are gone. Linux /proc; elsewhere a no-op.
 */
export async function killProcessesIn(dir: string): Promise<void> {
  const inside = (p: string): boolean => p === dir || p.startsWith(`${dir}/`);
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return;
  }
  const found: number[] = [];
  for (const p of pids) {
    try {
      const cwd = readlinkSync(`/proc/${p}/cwd`);
      const cmd = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      if (inside(cwd) || cmd.some((a) => inside(a) || a.includes(`${dir}/`))) found.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  for (const pid of found) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  await waitDead(found);
}

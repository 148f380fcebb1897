/**
 * POSIX resource limits (`rlimits`, Mesos RLimitInfo) of a task: the agent sets them on the
 * task's wrapper with prlimit(1) before the wrapper runs the command (it waits for the agent's
 * go), so the command and everything it starts inherit them. The agent does it, not the
 * wrapper's `ulimit`, because only root may raise a hard limit and the wrapper may already run
 * as the task's user. Values are raw setrlimit(2) units (bytes, seconds), as Mesos passes them.
 */
import { spawnSync } from "node:child_process";
import type { Rlimit } from "../../../../domain/cluster.js";

/** Mesos RLimit type → prlimit(1) option. */
const PRLIMIT_OPTION: Readonly<Record<string, string>> = {
  RLMT_AS: "--as",
  RLMT_CORE: "--core",
  RLMT_CPU: "--cpu",
  RLMT_DATA: "--data",
  RLMT_FSIZE: "--fsize",
  RLMT_LOCKS: "--locks",
  RLMT_MEMLOCK: "--memlock",
  RLMT_MSGQUEUE: "--msgqueue",
  RLMT_NICE: "--nice",
  RLMT_NOFILE: "--nofile",
  RLMT_NPROC: "--nproc",
  RLMT_RSS: "--rss",
  RLMT_RTPRIO: "--rtprio",
  RLMT_RTTIME: "--rttime",
  RLMT_SIGPENDING: "--sigpending",
  RLMT_STACK: "--stack",
};

const isLimit = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/**
 * prlimit's resource arguments for the task's rlimits, or why they cannot be applied. Absent
 * soft and hard = unlimited; one of them alone is both (Mesos requires both or neither).
 */
export function prlimitArgs(rlimits: readonly Rlimit[] | undefined): { readonly args: string[] } | { readonly error: string } {
  const args: string[] = [];
  for (const r of rlimits ?? []) {
    const option = PRLIMIT_OPTION[r.type];
    if (!option) return { error: `rlimit ${r.type} is not one this agent can set` };
    const soft = r.soft ?? r.hard;
    const hard = r.hard ?? r.soft;
    if (soft === undefined || hard === undefined) {
      args.push(`${option}=unlimited:unlimited`);
      continue;
    }
    if (!isLimit(soft) || !isLimit(hard)) return { error: `rlimit ${r.type}: soft and hard are whole numbers ≥ 0` };
    if (soft > hard) return { error: `rlimit ${r.type}: soft ${soft} is above hard ${hard}` };
    args.push(`${option}=${soft}:${hard}`);
  }
  return { args };
}

/** Sets the limits on `pid`; throws with prlimit's complaint when it could not. */
export function applyRlimits(pid: number, args: readonly string[]): void {
  if (args.length === 0) return;
  const r = spawnSync("prlimit", ["--pid", String(pid), ...args], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "ignore", "pipe"] });
  if (r.error) throw new Error(`prlimit: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`prlimit: ${r.stderr.trim() || `exited with status ${r.status}`}`);
}

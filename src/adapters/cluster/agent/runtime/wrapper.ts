/**
 * How a task process is started: `/bin/sh -c <WRAPPER> sh <command> <exit-file>`, detached (a
 * process group of its own, led by the wrapper), in the sandbox. The wrapper opens the sandbox's
 * stdout/stderr O_APPEND (`>>`) itself, as the task's user: file creation is slow on some file
 * systems (~0.8 ms on this machine's /tmp), and the agent's event loop should not pay it per task.
 * The wrapper is a shell (dash: ~100 kB private), not Node, and it outlives the agent: it runs
 * the command as Mesos' command executor does (`/bin/sh -c`), then writes the exit status whole
 * (tmp + rename), so an agent that restarts meanwhile still learns the code.
 *
 * It catches TERM/INT/HUP, so a kill of the group ends the command but not the wrapper; a
 * caught (not ignored) signal is reset in the command it runs, which keeps the default. dash
 * runs a trap only once the foreground command has ended, so the status is that of the
 * command. A kill that comes before the command starts keeps it from starting (status 143);
 * one in the instant between the check and the command's exec is ended by the agent's SIGKILL
 * after the grace period. A status above 128 is the shell's "killed by signal (status - 128)".
 *
 * A gated wrapper (third argument set: the task has a cgroup or rlimits) first waits for the
 * agent's `go` on its stdin, a pipe: the agent moves it into its cgroup and sets its limits
 * meanwhile, so the command starts inside them. Without the go (the agent failed the setup, or
 * died before it) the command never runs and no exit status is written.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bootId, procStart } from "./proc.js";
import type { ProcessIdentity } from "./proc.js";
import type { Account } from "./sandbox.js";
import { SANDBOX_FILES } from "./sandbox.js";

export const WRAPPER = [
  `exec >>${SANDBOX_FILES.stdout} 2>>${SANDBOX_FILES.stderr}`,
  "k=",
  "trap k=1 TERM INT HUP",
  'if [ -n "$3" ]; then IFS= read -r g; exec </dev/null; [ "$g" = go ] || exit 125; fi',
  'if [ -z "$k" ]; then /bin/sh -c "$1"; s=$?; else s=143; fi',
  'printf %s "$s" >"$2.tmp" && command -p mv -f "$2.tmp" "$2"',
  "exit $s",
].join("\n");

/** task.json: the wrapper's identity, and whose reservations the task ran on. */
export interface TaskRecord extends ProcessIdentity {
  readonly namespaces: readonly string[];
}

export interface WrappedLaunch {
  readonly command: string;
  readonly sandbox: string;
  readonly env: Readonly<Record<string, string>>;
  readonly account: Account | undefined;
  /** Wait for `releaseGate` before running the command. */
  readonly gated?: boolean;
}

/**
 * Spawns the wrapper; `child.pid` is undefined when the spawn failed (its 'error' event says
 * why). Nothing is opened here: the wrapper, in the sandbox, opens stdout/stderr itself.
 */
export function spawnWrapped(launch: WrappedLaunch): ChildProcess {
  const { sandbox, account } = launch;
  const gated = launch.gated === true;
  // The exit file is named relative to the wrapper's working directory, the sandbox: a task of
  // another user may not be able to pass the agent's own (0700) directories above it.
  return spawn("/bin/sh", ["-c", WRAPPER, "sh", launch.command, SANDBOX_FILES.exit, gated ? "gated" : ""], {
    cwd: sandbox,
    env: launch.env,
    detached: true,
    stdio: [gated ? "pipe" : "ignore", "ignore", "ignore"],
    ...(account ? { uid: account.uid, gid: account.gid } : {}),
  });
}

/** Lets a gated wrapper run its command (`go`), or end without running it. */
export function releaseGate(child: ChildProcess, go: boolean): void {
  const stdin = child.stdin;
  if (!stdin) return;
  stdin.on("error", () => {}); // the wrapper is gone already: it was killed, nothing to tell it
  stdin.end(go ? "go\n" : "");
}

/** Writes task.json whole, right after the spawn: from now on the task counts as started. */
export function writeRecord(sandbox: string, pid: number, namespaces: readonly string[]): TaskRecord {
  const record: TaskRecord = { pid, procStart: procStart(pid), bootId: bootId(), namespaces };
  const path = join(sandbox, SANDBOX_FILES.record);
  writeFileSync(`${path}.tmp`, JSON.stringify(record));
  renameSync(`${path}.tmp`, path);
  return record;
}

export function readRecord(sandbox: string): TaskRecord | undefined {
  try {
    const r = JSON.parse(readFileSync(join(sandbox, SANDBOX_FILES.record), "utf8")) as Partial<TaskRecord>;
    if (typeof r.pid !== "number" || typeof r.bootId !== "string") return undefined;
    return { pid: r.pid, procStart: r.procStart, bootId: r.bootId, namespaces: Array.isArray(r.namespaces) ? r.namespaces : [] };
  } catch {
    return undefined;
  }
}

/** The command's exit status as the wrapper wrote it, or undefined when it wrote none. */
export function readExitStatus(sandbox: string): number | undefined {
  try {
    const text = readFileSync(join(sandbox, SANDBOX_FILES.exit), "utf8").trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

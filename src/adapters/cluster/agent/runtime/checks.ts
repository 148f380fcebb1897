/**
 * Health and readiness checks of local tasks: `/bin/sh -c <command>` in the task's sandbox,
 * with its environment and user, in a process group of its own that is killed at the timeout.
 */
import { spawn } from "node:child_process";
import type { Account } from "./sandbox.js";
import { signalGroup } from "./proc.js";

export interface CheckRun {
  readonly command: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutS: number;
  readonly account?: Account | undefined;
}

/** The check's exit code; a timeout or a command that cannot start counts as failure (-1). */
export function runCheck(run: CheckRun): Promise<number> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (code: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(code);
    };
    const child = spawn("/bin/sh", ["-c", run.command], {
      cwd: run.cwd,
      env: run.env,
      detached: true,
      stdio: "ignore",
      ...(run.account ? { uid: run.account.uid, gid: run.account.gid } : {}),
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
      done(-1);
    }, Math.max(0.001, run.timeoutS) * 1000);
    timer.unref();
    child.on("error", () => done(-1));
    child.on("exit", (code) => done(code ?? -1));
  });
}

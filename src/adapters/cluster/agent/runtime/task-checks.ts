/**
 * When checks run and what their results mean, as a Mesos executor does it: a readiness check
 * runs from `delay` every `interval` until it passes once, then reports RUNNING with check
 * exit code 0 (what completes a RUNNING-goal step); a health check runs from `delay` every
 * `interval`, reports changes of `healthy`, and kills the task after `consecutiveFailures`
 * failures in a row, failures inside the grace period after launch not counted.
 */
import type { CommandCheck, TaskState } from "../../../../domain/cluster.js";
import type { Cancel, Clock } from "../../../../engine/ports.js";
import type { Extra } from "../../sim-tasks.js";
import { runCheck } from "./checks.js";
import type { Account } from "./sandbox.js";

/** What the checks keep per task. */
export interface CheckedTask {
  readonly sandbox: string;
  readonly env: Readonly<Record<string, string>>;
  account: Account | undefined;
  readonly startedMs: number;
  readonly checkTimers: Cancel[];
  healthFailures: number;
  healthy: boolean | undefined;
  healthKilled: boolean;
  readinessPassed: boolean;
  readonly checking: { health: boolean; readiness: boolean };
}

export interface CheckDeps {
  readonly clock: Clock;
  readonly report: (state: TaskState, extra: Extra) => void;
  readonly killForHealth: () => void;
  /** False once the task ended or the runtime closed: no more runs. */
  readonly alive: () => boolean;
}

function every(t: CheckedTask, deps: CheckDeps, check: CommandCheck, kind: "health" | "readiness", run: () => Promise<boolean>): void {
  const arm = (delayS: number): void => {
    const cancel = deps.clock.setTimer(delayS * 1000, () => {
      const i = t.checkTimers.indexOf(cancel);
      if (i >= 0) t.checkTimers.splice(i, 1);
      if (!deps.alive() || t.checking[kind]) return;
      t.checking[kind] = true;
      void run().then((again) => {
        t.checking[kind] = false;
        if (again && deps.alive()) arm(Math.max(0.05, check.intervalS));
      });
    });
    t.checkTimers.push(cancel);
  };
  arm(Math.max(0, check.delayS));
}

function execute(t: CheckedTask, check: CommandCheck): Promise<number> {
  return runCheck({ command: check.command, cwd: t.sandbox, env: t.env, timeoutS: check.timeoutS, account: t.account });
}

export function runReadinessCheck(t: CheckedTask, check: CommandCheck, deps: CheckDeps): void {
  every(t, deps, check, "readiness", async () => {
    const code = await execute(t, check);
    if (code !== 0 || !deps.alive()) return true;
    t.readinessPassed = true;
    deps.report("TASK_RUNNING", {
      checkStatus: { exitCode: 0 },
      reason: "REASON_TASK_CHECK_STATUS_UPDATED",
      ...(t.healthy === undefined ? {} : { healthy: t.healthy }),
    });
    return false;
  });
}

export function runHealthCheck(t: CheckedTask, check: CommandCheck, deps: CheckDeps): void {
  every(t, deps, check, "health", async () => {
    const code = await execute(t, check);
    if (!deps.alive()) return false;
    const healthy = code === 0;
    const inGrace = deps.clock.now() < t.startedMs + check.gracePeriodS * 1000;
    if (healthy) t.healthFailures = 0;
    else if (!inGrace) t.healthFailures++;
    if (healthy !== t.healthy && (healthy || !inGrace)) {
      t.healthy = healthy;
      deps.report("TASK_RUNNING", {
        healthy,
        reason: "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
        ...(t.readinessPassed ? { checkStatus: { exitCode: 0 } } : {}),
      });
    }
    if (t.healthFailures >= Math.max(1, check.consecutiveFailures)) {
      deps.killForHealth();
      return false;
    }
    return true;
  });
}

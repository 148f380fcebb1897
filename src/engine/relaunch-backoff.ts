/**
 * Crash-loop back-off per pod instance (domain `plan/backoff.ts` says how long): a step that is
 * about to relaunch a task that keeps failing is held DELAYED until its wait is over, then
 * becomes PENDING again and takes offers as usual. Recovery steps are held by the recovery
 * planning (`holdFor`, with the wait it decided); deploy steps retrying FINISH/ONCE tasks by `hold`.
 */
import type { TaskStatus } from "../domain/cluster.js";
import { isTerminal } from "../domain/cluster.js";
import { afterFailure, afterRunning, relaunchDelayMs } from "../domain/plan/backoff.js";
import type { CrashCount } from "../domain/plan/backoff.js";
import type { Step } from "../domain/plan/model.js";
import { setStepMessage } from "../domain/plan/step.js";
import type { GoalState } from "../domain/spec/types.js";
import type { Clock } from "./ports.js";

export class RelaunchBackoff {
  private readonly counts = new Map<string, CrashCount>();
  private readonly held = new Map<Step, number>();

  constructor(private readonly clock: Clock) {}

  /** Counts a task's status towards its pod instance's failures in a row. */
  observe(pod: string, status: TaskStatus, goal: GoalState): void {
    const now = this.clock.now();
    if (status.state === "TASK_RUNNING") this.counts.set(pod, afterRunning(this.counts.get(pod), now));
    else if (isTerminal(status.state) && (goal === "RUNNING" || status.state !== "TASK_FINISHED")) {
      this.counts.set(pod, afterFailure(this.counts.get(pod), now));
    }
  }

  /** Failures in a row of a pod instance (`hello-0`). */
  failures(pod: string): number {
    return this.counts.get(pod)?.failures ?? 0;
  }

  /** A step that wants to relaunch `pod` waits out its back-off, DELAYED. */
  hold(step: Step, pod: string): void {
    if (step.status !== "PENDING" && step.status !== "PREPARED") return;
    const failures = this.failures(pod);
    const ms = relaunchDelayMs(failures);
    if (ms <= 0) return;
    step.status = "DELAYED";
    setStepMessage(step, `relaunching in ${Math.ceil(ms / 1000)} s: failed ${failures} times in a row`);
    this.holdFor(step, ms);
  }

  /** Keeps a DELAYED step DELAYED for `ms` from now. */
  holdFor(step: Step, ms: number): void {
    this.held.set(step, this.clock.now() + ms);
  }

  /** Stops holding a step the plan no longer has. */
  forget(step: Step): void {
    this.held.delete(step);
  }

  /** Steps whose wait is over go back to PENDING. Returns whether any did. */
  release(): boolean {
    if (this.held.size === 0) return false;
    const now = this.clock.now();
    let any = false;
    for (const [step, until] of this.held) {
      if (step.status !== "DELAYED") {
        this.held.delete(step);
        continue;
      }
      if (until > now) continue;
      step.status = "PENDING";
      if (step.recovery) setStepMessage(step, "relaunching");
      this.held.delete(step);
      any = true;
    }
    return any;
  }
}

/**
 * How `--watch` shows a plan: as bars (terminal) or as one line per step status change (pipe,
 * file); and polling GetPlan until the plan is COMPLETE or in ERROR, for a scheduler without
 * WatchPlans (plan-follow.ts uses the stream).
 */
import { setTimeout as delay } from "node:timers/promises";
import { Status } from "../client/index.js";
import type { Plan } from "../client/index.js";
import { Bars } from "./progress.js";
import { statusName } from "./render.js";

/** Shows what a watch sees (a plan, a pod) each time it is got again. */
export interface Display<T> {
  update(value: T): void;
  /** Called once the watch ends, however it ends. */
  finish(): void;
}

export type PlanDisplay = Display<Plan>;

export interface WatchPlanOptions {
  readonly intervalMs: number;
  readonly signal?: AbortSignal;
  /** Waits between polls; rejects when `signal` aborts. @default node:timers/promises setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

/** A plan that will not change by itself any more: the end of a watch. */
export const isSettled = (plan: Plan): boolean => plan.status === Status.COMPLETE || plan.status === Status.ERROR;

export const defaultSleep = (ms: number, signal?: AbortSignal): Promise<unknown> => delay(ms, undefined, signal ? { signal } : {});

/** Polls `fetch` until what it gets is `settled` and returns that (the display is not finished). */
export async function poll<T>(fetch: () => Promise<T>, settled: (value: T) => boolean, display: Display<T>, options: WatchPlanOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  for (;;) {
    const value = await fetch();
    display.update(value);
    if (settled(value)) return value;
    await sleep(options.intervalMs, options.signal);
  }
}

/** Shows nothing (`--json`: only the final plan is printed). */
export const silentDisplay: Display<unknown> = { update: () => undefined, finish: () => undefined };

/** One line per change: `PHASE/STEP STATUS [message]`, then `plan NAME STATUS` when that changes. */
export function lineDisplay(write: (line: string) => void): PlanDisplay {
  const seen = new Map<string, string>();
  let planStatus: string | undefined;
  return {
    update(plan) {
      for (const phase of plan.phases) {
        for (const step of phase.steps) {
          const line = `${phase.name}/${step.name} ${statusName(step.status)}${step.message === "" ? "" : ` ${step.message}`}`;
          // By name, not id: ids are made afresh by each engine (a restarted scheduler, a new leader).
          const key = `${phase.name}\u0000${step.name}`;
          if (seen.get(key) !== line) write(line);
          seen.set(key, line);
        }
      }
      const status = statusName(plan.status);
      if (status !== planStatus) write(`plan ${plan.name} ${status}`);
      planStatus = status;
    },
    finish: () => undefined,
  };
}

/** A bar for the whole plan and one per phase, with step counts and the step being worked on. */
export function barDisplay(stream: NodeJS.WritableStream): PlanDisplay {
  const bars = new Bars(stream);
  return {
    update(plan) {
      const steps = plan.phases.flatMap((p) => p.steps);
      const done = (list: typeof steps) => list.filter((s) => s.status === Status.COMPLETE).length;
      bars.set("", `plan ${plan.name}`, done(steps), steps.length, statusName(plan.status), plan.errors.join("; "));
      for (const phase of plan.phases) {
        const current = phase.steps.find((s) => s.status !== Status.COMPLETE);
        const detail = current === undefined ? "" : `${current.name} ${statusName(current.status)}${current.message === "" ? "" : `: ${current.message}`}`;
        bars.set(`phase:${phase.name}`, `  ${phase.name}`, done(phase.steps), phase.steps.length, statusName(phase.status), detail);
      }
    },
    finish: () => bars.stop(),
  };
}

/**
 * Plans, phases and steps as the engine holds them. The containers are fixed once built; a
 * step's progress fields change only through the transition functions in `step.ts`.
 */
import type { StrategyName } from "../spec/types.js";
import type { Status } from "./status.js";

/** Progress of one task within a step. */
export type TaskProgress = "PENDING" | "STARTING" | "STARTED" | "COMPLETE" | "ERROR";

export interface Step {
  readonly id: string;
  /** e.g. `hello-0:[server]`. */
  readonly name: string;
  readonly podType: string;
  readonly podIndex: number;
  /** Task spec names launched together by this step. */
  readonly tasks: readonly string[];
  status: Status;
  message: string;
  interrupted: boolean;
  /** Task spec name → the task ID launched most recently by this step. */
  readonly taskIds: Map<string, string>;
  /** Task spec name → progress of that task. */
  readonly progress: Map<string, TaskProgress>;
  /** Set on recovery steps: the latest recovery of the pod instance, kept in front of `message`. */
  recovery?: RecoveryNote;
  /** The operator's START parameters of the step's plan: environment for the tasks it launches. */
  parameters?: Readonly<Record<string, string>>;
  /** The operator force-completed the step (kept as an override: its tasks may never have run). */
  forced?: boolean;
  /**
   * Task IDs the operator's restart (or stop) discarded: a task record still on one of them does
   * not complete the step again when it is resumed after a scheduler restart.
   */
  discarded?: readonly string[];
}

/** Why and how often the recovery plan relaunched a pod instance (see `recovery.ts`). */
export interface RecoveryNote {
  /** Recoveries of this pod instance since the scheduler started, 1-based. */
  readonly attempt: number;
  /** The failure that caused the latest one, e.g. `task hello-0-server failed: command exited with status 1`. */
  readonly why: string;
  /** Task IDs whose terminal status this recovery answers: a repeat of them is no new failure. */
  readonly handled: ReadonlySet<string>;
  /** Permanent recovery (the pod moves: fresh placement, new reservations); transient when unset. */
  readonly permanent?: boolean;
  /** Live tasks of the pod it kills before relaunching it whole (an essential task ended). */
  readonly kills?: readonly { readonly instance: string; readonly taskId: string }[];
}

export interface Phase {
  readonly id: string;
  readonly name: string;
  readonly strategy: StrategyName;
  readonly steps: Step[];
  /** The operator interrupted the phase: none of its steps is started until it is continued. */
  interrupted?: boolean;
  /**
   * Canary strategies only: names of the steps still waiting for the operator's `continue`, in
   * order (the first two pending steps when the phase was built; each continue releases one).
   * Empty once both were released: the wrapped strategy has taken over.
   */
  canary?: readonly string[];
}

export interface Plan {
  readonly name: string;
  readonly strategy: StrategyName;
  readonly phases: Phase[];
  readonly errors: string[];
  interrupted: boolean;
  /** The operator's START parameters (environment for the tasks the plan launches). */
  parameters?: Readonly<Record<string, string>>;
}

export function newStep(
  id: string,
  name: string,
  podType: string,
  podIndex: number,
  tasks: readonly string[],
): Step {
  return {
    id,
    name,
    podType,
    podIndex,
    tasks,
    status: "PENDING",
    message: "",
    interrupted: false,
    taskIds: new Map(),
    progress: new Map(),
  };
}

export function allSteps(plan: Plan): Step[] {
  return plan.phases.flatMap((p) => p.steps);
}

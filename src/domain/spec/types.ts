/**
 * ServiceSpec: the validated, normalised form of a service's YAML (dcos-commons §4).
 * Everything here is plain readonly data; `parseServiceSpec` builds it.
 */
import type { PlacementSpec } from "./placement.js";

/** Goal state of a task: keep RUNNING, run to a zero exit on each config (FINISH), or ONCE ever. */
export type GoalState = "RUNNING" | "FINISH" | "ONCE";

export type StrategyName =
  | "serial"
  | "parallel"
  | "canary"
  | "serial-canary"
  | "parallel-canary"
  | "dependency";

export interface PortSpec {
  readonly name: string;
  /** 0 = any free port from the offer. */
  readonly port: number;
  /** Environment variable for the assigned port; default `PORT_<NAME>`. */
  readonly envKey: string;
}

export interface VolumeSpec {
  /** Container path, relative to the task's sandbox. */
  readonly path: string;
  readonly type: "ROOT" | "MOUNT";
  readonly sizeMb: number;
}

export interface ResourceSetSpec {
  readonly id: string;
  readonly cpus: number;
  readonly memoryMb: number;
  readonly gpus: number;
  readonly ports: readonly PortSpec[];
  readonly volumes: readonly VolumeSpec[];
}

export interface CheckSpec {
  readonly cmd: string;
  readonly intervalS: number;
  readonly timeoutS: number;
  readonly delayS: number;
  readonly gracePeriodS: number;
  readonly maxConsecutiveFailures: number;
}

export interface TaskSpec {
  readonly name: string;
  readonly goal: GoalState;
  readonly cmd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Id of the pod's resource set this task consumes (inline resources: `<task>-resource-set`). */
  readonly resourceSetId: string;
  readonly essential: boolean;
  readonly killGracePeriodS: number;
  readonly healthCheck?: CheckSpec;
  readonly readinessCheck?: CheckSpec;
}

export interface PodSpec {
  /** Pod type, the key under `pods:`. */
  readonly type: string;
  readonly count: number;
  readonly allowDecommission: boolean;
  readonly user?: string;
  /** Where its instances may go (`placement:`); absent: any agent. */
  readonly placement?: PlacementSpec;
  readonly resourceSets: readonly ResourceSetSpec[];
  readonly tasks: readonly TaskSpec[];
}

/** Custom steps of a phase: per pod index (or "default"), the task-name groups, one per step. */
export type StepsSpec = ReadonlyMap<number | "default", readonly (readonly string[])[]>;

export interface PhaseSpec {
  readonly name: string;
  readonly pod: string;
  readonly strategy: StrategyName;
  /** Absent: one step per pod instance launching all its tasks. */
  readonly steps?: StepsSpec;
}

export interface PlanSpec {
  readonly name: string;
  readonly strategy: "serial" | "parallel";
  readonly phases: readonly PhaseSpec[];
}

export interface ServiceSpec {
  readonly name: string;
  readonly user?: string;
  /** In spec order. */
  readonly pods: readonly PodSpec[];
  /** From `plans:`, in spec order; empty when the YAML has none (a deploy plan is generated). */
  readonly plans: readonly PlanSpec[];
}

/** A key accepted from the reference format but not acted upon yet. */
export interface SpecWarning {
  readonly field: string;
  readonly message: string;
}

export interface ParsedSpec {
  readonly spec: ServiceSpec;
  readonly warnings: readonly SpecWarning[];
}

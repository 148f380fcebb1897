/**
 * Crash-loop back-off for relaunches (what Marathon's backoff and Kubernetes' CrashLoopBackOff
 * give their users): the first relaunch of a pod instance is immediate, then each one waits
 * twice as long as the last, from 1 s up to 60 s. A task that ran for a minute before it died
 * starts the count again.
 */
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_MAX_MS = 60_000;
/** Running this long counts as healthy: the next failure is a first failure again. */
export const BACKOFF_RESET_AFTER_MS = 60_000;

/** The wait before relaunching after the `failures`-th failure in a row (1-based). */
export function relaunchDelayMs(failures: number): number {
  if (failures <= 1) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failures - 2));
}

/** Consecutive failures of one pod instance. */
export interface CrashCount {
  readonly failures: number;
  /** When the instance's tasks were last seen RUNNING since its last failure. */
  readonly runningSinceMs?: number;
}

export function afterRunning(c: CrashCount | undefined, nowMs: number): CrashCount {
  return c?.runningSinceMs !== undefined ? c : { failures: c?.failures ?? 0, runningSinceMs: nowMs };
}

export function afterFailure(c: CrashCount | undefined, nowMs: number): CrashCount {
  const ranLong = c?.runningSinceMs !== undefined && nowMs - c.runningSinceMs >= BACKOFF_RESET_AFTER_MS;
  return { failures: ranLong ? 1 : (c?.failures ?? 0) + 1 };
}

/**
 * The crash-loop back-off of one service as data: failures in a row per pod instance
 * (`hello-0`), and the DELAYED steps held until a time (by step id).
 */
export interface BackoffState {
  readonly counts: ReadonlyMap<string, CrashCount>;
  readonly heldUntilMs: ReadonlyMap<string, number>;
}

export const NO_BACKOFF: BackoffState = { counts: new Map(), heldUntilMs: new Map() };

/** Counts a task's status towards its pod instance's failures in a row. */
export function observeStatus(
  state: BackoffState,
  pod: string,
  status: { readonly state: string },
  goalRunning: boolean,
  terminal: boolean,
  nowMs: number,
): BackoffState {
  let next: CrashCount | undefined;
  if (status.state === "TASK_RUNNING") next = afterRunning(state.counts.get(pod), nowMs);
  else if (terminal && (goalRunning || status.state !== "TASK_FINISHED")) next = afterFailure(state.counts.get(pod), nowMs);
  if (next === undefined || next === state.counts.get(pod)) return state;
  return { ...state, counts: new Map(state.counts).set(pod, next) };
}

/** The pod instance starts counting again (pod restart or replace, its agent gone). */
export function forgetFailures(state: BackoffState, pod: string): BackoffState {
  if (!state.counts.has(pod)) return state;
  const counts = new Map(state.counts);
  counts.delete(pod);
  return { ...state, counts };
}

/** Failures in a row of a pod instance. */
export function failuresOf(state: BackoffState, pod: string): number {
  return state.counts.get(pod)?.failures ?? 0;
}

/** Holds a step until `untilMs`. */
export function holdStep(state: BackoffState, stepId: string, untilMs: number): BackoffState {
  return { ...state, heldUntilMs: new Map(state.heldUntilMs).set(stepId, untilMs) };
}

/** Whether a held step's wait is over (something to release). */
export function backoffDue(state: BackoffState, nowMs: number): boolean {
  for (const until of state.heldUntilMs.values()) if (until <= nowMs) return true;
  return false;
}

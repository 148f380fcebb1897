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

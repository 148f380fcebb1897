/**
 * TEST-ONLY crash points for the kill -9 run (`npm run chaos`, test/chaos/). With
 * `CORRAL_TEST_CRASH_AT` set, the process (the scheduler, or a local agent daemon started with
 * it in its environment) kills itself with SIGKILL when it reaches that point, so the run hits
 * windows a random delay seldom does:
 *
 *   after-task-record  (scheduler) a task's TaskInfo is committed to the store and the Mesos
 *                      driver is about to send its ACCEPT; the agent has not heard of the launch
 *   during-launch      (agent) the agent has saved the launch and just spawned the task's
 *                      wrapper, before recording its pid (task.json)
 *   startup            (scheduler) the restarted scheduler has recovered its services and is
 *                      about to SUBSCRIBE, before any reconciliation
 *
 * `CORRAL_TEST_CRASH_SERVICE` (a sanitized service name) limits the launch points to that
 * service's tasks. Unset — always, outside that run — every point is one string comparison.
 * Never set these in production: the process dies on purpose.
 */
export type CrashPoint = "after-task-record" | "during-launch" | "startup";

const AT = process.env["CORRAL_TEST_CRASH_AT"];
const SERVICE = process.env["CORRAL_TEST_CRASH_SERVICE"];

/** Dies here if the run asked for `point` (and, for launches, one of `taskIds` is of the named service). */
export function crashPoint(point: CrashPoint, taskIds?: readonly string[]): void {
  if (AT !== point) return;
  if (SERVICE !== undefined && taskIds !== undefined && !taskIds.some((id) => id.startsWith(`${SERVICE}__`))) return;
  process.kill(process.pid, "SIGKILL");
}

/**
 * `pod NAME ACTION POD --watch`: after a restart, replace, pause or resume, waits until the
 * pod's tasks run again — every task a new one (not among those the action killed) and RUNNING
 * (or FINISHED) — getting the pod again (ListPods) on each plan event of the service, since its
 * relaunch is a recovery (or deploy) step. Shows one line per task change.
 */
import type { Pod } from "../client/index.js";
import type { Display } from "./plan-watch.js";

/** Whether the pod runs again after the action that killed `killed`. */
export function runsAgain(killed: readonly string[]): (pod: Pod) => boolean {
  const gone = new Set(killed);
  return (pod) => pod.tasks.length > 0 && pod.tasks.every((t) => !gone.has(t.id) && (t.state === "TASK_RUNNING" || t.state === "TASK_FINISHED"));
}

/** `TASK STATE on HOST (task ID)` each time a task's id, state or place changes. */
export function podLines(write: (line: string) => void): Display<Pod> {
  const seen = new Map<string, string>();
  return {
    update(pod) {
      for (const t of pod.tasks) {
        const where = pod.hostname || t.agentId;
        const line = `${t.name} ${t.state || "-"}${where === "" ? "" : ` on ${where}`} (task ${t.id})`;
        if (seen.get(t.name) !== line) write(line);
        seen.set(t.name, line);
      }
    },
    finish: () => undefined,
  };
}

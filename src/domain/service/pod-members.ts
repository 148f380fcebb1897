/**
 * The RUNNING-goal tasks of the pod instances that have a dead task, as recovery weighs them
 * (§4.2 `essential`): which are essential, and which may still run — a whole-pod relaunch
 * kills those first, a non-essential task's relaunch leaves them running.
 */
import type { FailedTask, PodMember } from "../plan/recovery.js";
import { podInstanceKey } from "../plan/recovery.js";
import type { StoredTask, TaskSlot } from "./task-record.js";
import { mayBeLive } from "./task-record.js";

/** The members of the pod instances of `failed`, in spec order (pod, index, task). */
export function podMembers(
  tasks: ReadonlyMap<string, StoredTask>,
  slots: ReadonlyMap<string, TaskSlot>,
  failed: readonly FailedTask[],
): PodMember[] {
  const pods = new Set(failed.map((f) => podInstanceKey(f.podType, f.podIndex)));
  const out: PodMember[] = [];
  for (const [instance, { pod, index, task }] of slots) {
    if (task.goal !== "RUNNING" || !pods.has(podInstanceKey(pod.type, index))) continue;
    const stored = tasks.get(instance);
    const live = stored !== undefined && mayBeLive(stored);
    out.push({ podType: pod.type, podIndex: index, task: task.name, instance, essential: task.essential, ...(live ? { liveTaskId: stored.info.taskId } : {}) });
  }
  return out;
}

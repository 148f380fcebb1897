/**
 * Read models of a service's tasks (ListTasks) and how TaskLog finds the one task it reads:
 * always through the service's own task records, so a name or ID from a request only ever
 * selects a stored TaskInfo and never becomes a path.
 */
import type { TaskInfo } from "../domain/cluster.js";
import { SchedulerError, abbreviate, abbreviateList } from "../domain/errors.js";
import type { FieldViolation } from "../domain/errors.js";
import { LABEL_INDEX, LABEL_TASK_TYPE } from "../domain/offer/task-info.js";
import { validateServiceName } from "../domain/names.js";
import type { TaskView } from "./admin-api.js";
import type { MultiServiceManager } from "./multi-service-manager.js";
import type { Persister, TaskFiles } from "./ports.js";
import { StateStore } from "./store/state-store.js";
import type { StoredTask } from "./store/state-store.js";

/** What reading a service's tasks needs of the scheduler. */
export interface TaskReadDeps {
  readonly manager: MultiServiceManager;
  readonly persister: Persister;
  /** The cluster's task files, when it serves them. */
  readonly files: TaskFiles | undefined;
}

/** Longest `task` of a TaskLog request: a task ID is at most ~300 characters. */
export const MAX_TASK_REF_CHARS = 512;

/** What task names (`hello-0-server`) and task IDs (`team.db__hello-0-server__<uuid>`) are made of. */
const TASK_REF = /^[A-Za-z0-9._-]+$/;

/**
 * Checks the `task` field of a TaskLog request: a task instance name or a task ID, so only
 * letters, digits, '.', '_' and '-' (no '/', no NUL, no control characters), not only dots.
 * @returns one violation (field `task`) or none.
 */
export function validateTaskRef(task: string): FieldViolation[] {
  const v = (reason: string): FieldViolation[] => [{ field: "task", reason }];
  if (task === "") return v("must not be empty: a task name (e.g. hello-0-server) or a task ID");
  if (task.length > MAX_TASK_REF_CHARS) return v(`must be at most ${MAX_TASK_REF_CHARS} characters (got ${task.length})`);
  if (!TASK_REF.test(task)) return v("must be a task name or task ID: only letters, digits, '.', '_' and '-'");
  if (/^\.+$/.test(task)) return v("must be a task name or task ID, not only dots");
  return [];
}

/**
 * The task records of a known service — running, being removed or quarantined (its tasks are
 * left running, so they are worth seeing) — read from the store, where every TaskInfo is
 * written before its launch and every status before it is acknowledged.
 * @throws SchedulerError not_found for an unknown service.
 */
export async function loadServiceTasks(deps: TaskReadDeps, name: string): Promise<Map<string, StoredTask>> {
  if (!deps.manager.get(name) && !deps.manager.getQuarantined(name)) {
    throw new SchedulerError("not_found", `service '${abbreviate(name)}' not found`);
  }
  return new StateStore(deps.persister, name).loadTasks();
}

/** ListTasks: every task of a service, sorted by task name. */
export async function listServiceTasks(deps: TaskReadDeps, name: string): Promise<TaskView[]> {
  const violations = validateServiceName(name);
  if (violations.length > 0) throw SchedulerError.invalid(violations);
  return taskViews(await loadServiceTasks(deps, name), deps.files);
}

/**
 * The stored task `task` names: the record of that instance name (its latest launch, so a
 * recovered task's new ID), or the record whose current task ID it is.
 * @throws SchedulerError not_found for anything else (an older task ID included).
 */
export function resolveTask(service: string, tasks: ReadonlyMap<string, StoredTask>, task: string): TaskInfo {
  const byName = tasks.get(task);
  if (byName) return byName.info;
  for (const stored of tasks.values()) if (stored.info.taskId === task) return stored.info;
  const known = tasks.size === 0 ? "it has none" : `its tasks: ${abbreviateList([...tasks.keys()].sort())}`;
  throw new SchedulerError("not_found", `service '${service}' has no task '${abbreviate(task)}' (${known})`);
}

/** One task's view; pid and sandbox come from the cluster when it serves task files. */
async function taskView(stored: StoredTask, files: TaskFiles | undefined): Promise<TaskView> {
  const { info } = stored;
  // A status of an earlier launch says nothing about this one.
  const status = stored.status?.taskId === info.taskId ? stored.status : undefined;
  const sandbox = files ? await files.sandboxOf(info.taskId, info.agentId) : undefined;
  const index = Number(info.labels[LABEL_INDEX] ?? "");
  return {
    id: info.taskId,
    name: info.name,
    podType: info.labels[LABEL_TASK_TYPE] ?? "",
    podIndex: Number.isSafeInteger(index) && index >= 0 ? index : 0,
    state: status?.state ?? "",
    pid: sandbox?.pid ?? 0,
    agentId: info.agentId,
    sandbox: sandbox?.path ?? "",
    message: status?.message ?? status?.reason ?? "",
    ...(status ? { updatedMs: status.timestampMs } : {}),
  };
}

/** Every stored task's view, sorted by task name. */
export async function taskViews(tasks: ReadonlyMap<string, StoredTask>, files: TaskFiles | undefined): Promise<TaskView[]> {
  const sorted = [...tasks.values()].sort((a, b) => (a.info.name < b.info.name ? -1 : a.info.name > b.info.name ? 1 : 0));
  return Promise.all(sorted.map((t) => taskView(t, files)));
}

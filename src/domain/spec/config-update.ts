/**
 * Reconfiguration of a running service (dcos-commons §1.13): which changes from the current target
 * spec to a new one are allowed, and which pods and pod instances a change touches. Pure.
 *
 * The rules that apply to Corral's spec: the name stays; pods may not disappear unless the old pod
 * allowed decommission; counts may not shrink unless the new pod allows decommission; the service
 * and pod users may not change; task volumes may not change (the reservation role is the
 * scheduler's and never changes with a put, so the reference's role-dependent exceptions never
 * apply). A placement change is allowed and moves no running pod: it applies to pods placed
 * from then on (new instances, replaced pods), as in the reference. Pod-level volumes may not
 * change either, nor a pod's pre-reserved-role (its reservations are in that role). Any other
 * change of a pod's fields (uris, rlimits, secrets, image, …) relaunches its instances.
 */
import type { FieldViolation } from "../errors.js";
import { abbreviate } from "../errors.js";
import type { PodSpec, ResourceSetSpec, ServiceSpec, TaskSpec, VolumeSpec } from "./types.js";


/** Field paths name the YAML the user edits, like the parser's (`spec.pods.hello.count`). */
const FIELD = "spec";

export interface ConfigUpdateOptions {
  /**
   * The current target's deploy plan has completed once. In the reference only a role change
   * depends on it; Corral's role never changes with a put, so no rule here does yet.
   */
  readonly deployCompleted: boolean;
}

/**
 * Checks that `next` may replace `current` as a running service's target (§1.13).
 * @returns every violation (empty when the change is allowed), each with the field the user edits
 *   (`spec.pods.hello.count`) and a reason that says how to get the change accepted.
 */
export function validateConfigUpdate(
  current: ServiceSpec,
  next: ServiceSpec,
  _options: ConfigUpdateOptions,
): FieldViolation[] {
  return [
    ...nameViolations(current, next),
    ...userViolations(current, next),
    ...podCountViolations(current, next),
    ...volumeViolations(current, next),
    ...podVolumeViolations(current, next),
    ...preReservedRoleViolations(current, next),
  ];
}

/** A pod's own volumes live on its executor; like task volumes they keep path, type and size. */
function podVolumeViolations(current: ServiceSpec, next: ServiceSpec): FieldViolation[] {
  const found: FieldViolation[] = [];
  for (const pod of next.pods) {
    const old = current.pods.find((p) => p.type === pod.type);
    if (old === undefined) continue;
    const was = describeVolumes(old.volumes ?? []);
    const now = describeVolumes(pod.volumes ?? []);
    if (was === now) continue;
    found.push({
      field: `${FIELD}.pods.${pod.type}.volumes`,
      reason: `volumes of pod ${pod.type} cannot change while it runs (running: ${was}; new: ${now}); the volumes of a running pod keep their path, type and size`,
    });
  }
  return found;
}

/** The pod's resources are reserved in (a refinement of) its pre-reserved role: it cannot move. */
function preReservedRoleViolations(current: ServiceSpec, next: ServiceSpec): FieldViolation[] {
  const found: FieldViolation[] = [];
  for (const pod of next.pods) {
    const old = current.pods.find((p) => p.type === pod.type);
    if (old === undefined) continue;
    const was = old.preReservedRole ?? "*";
    const now = pod.preReservedRole ?? "*";
    if (was === now) continue;
    found.push({
      field: `${FIELD}.pods.${pod.type}.pre-reserved-role`,
      reason: `pre-reserved-role '${abbreviate(now)}' differs from the running '${abbreviate(was)}' of pod ${pod.type}; it cannot change, as the pod's reservations are in that role ('*' = none)`,
    });
  }
  return found;
}

function nameViolations(current: ServiceSpec, next: ServiceSpec): FieldViolation[] {
  const field = `${FIELD}.name`;
  const found: FieldViolation[] = [];
  if (next.name !== current.name) {
    found.push({
      field,
      reason: `'${abbreviate(next.name)}' differs from the running service's name '${abbreviate(current.name)}'; a service cannot be renamed`,
    });
  }
  // `__` separates the parts of task IDs (§2.1).
  if (next.name.includes("__")) found.push({ field, reason: "must not contain '__'" });
  return found;
}

/**
 * The user a service's tasks run as; undefined: none named, so the framework's user
 * (FrameworkInfo.user) — a user of its own, not root (the reference's legacy default), since
 * that is who the tasks really run as.
 */
function serviceUser(spec: ServiceSpec): string | undefined {
  return spec.user;
}

/** The user a pod's tasks run as: its own, else the service's. */
function podUser(spec: ServiceSpec, pod: PodSpec): string | undefined {
  return pod.user ?? serviceUser(spec);
}

function shownUser(user: string | undefined): string {
  return user === undefined ? "(none: the framework's user)" : `'${abbreviate(user)}'`;
}

// Files a task wrote to its persistent volumes belong to its user; another user may not read them.
function userViolations(current: ServiceSpec, next: ServiceSpec): FieldViolation[] {
  const found: FieldViolation[] = [];
  const was = serviceUser(current);
  const now = serviceUser(next);
  if (was !== now) {
    found.push({
      field: `${FIELD}.scheduler.user`,
      reason: `user ${shownUser(now)} differs from the running ${shownUser(was)}; the user cannot change, as files in persistent volumes belong to it`,
    });
  }
  for (const pod of next.pods) {
    const old = current.pods.find((p) => p.type === pod.type);
    if (old === undefined) continue;
    const podWas = podUser(current, old);
    const podNow = podUser(next, pod);
    // A pod that follows the service user is reported once, on the service user.
    if (podWas !== podNow && !(old.user === undefined && pod.user === undefined)) {
      found.push({
        field: `${FIELD}.pods.${pod.type}.user`,
        reason: `user ${shownUser(podNow)} differs from the running ${shownUser(podWas)} of pod ${pod.type}; the user cannot change, as files in persistent volumes belong to it`,
      });
    }
  }
  return found;
}

function podCountViolations(current: ServiceSpec, next: ServiceSpec): FieldViolation[] {
  const found: FieldViolation[] = [];
  for (const old of current.pods) {
    const pod = next.pods.find((p) => p.type === old.type);
    if (pod === undefined) {
      if (!old.allowDecommission) {
        found.push({
          field: `${FIELD}.pods.${old.type}`,
          reason: `pod ${old.type} (count ${old.count}) is missing; to remove it, first put the current spec with allow-decommission: true on pod ${old.type}, then remove the pod`,
        });
      }
    } else if (pod.count < old.count && !pod.allowDecommission) {
      found.push({
        field: `${FIELD}.pods.${pod.type}.count`,
        reason: `count ${pod.count} is below the running ${old.count}; set allow-decommission: true on pod ${pod.type} to remove instances`,
      });
    }
  }
  return found;
}

function volumeViolations(current: ServiceSpec, next: ServiceSpec): FieldViolation[] {
  const found = new Map<string, FieldViolation>();
  for (const pod of next.pods) {
    const old = current.pods.find((p) => p.type === pod.type);
    if (old === undefined) continue;
    for (const task of pod.tasks) {
      const oldTask = old.tasks.find((t) => t.name === task.name);
      // A task added to or removed from a pod is not a volume change.
      if (oldTask === undefined) continue;
      const was = describeVolumes(taskVolumes(old, oldTask));
      const now = describeVolumes(taskVolumes(pod, task));
      if (was === now) continue;
      const field = volumesField(pod, task);
      found.set(field, {
        field,
        reason: `volumes of task ${task.name} cannot change while its pod runs (running: ${was}; new: ${now}); the volumes of a running pod keep their path, type and size`,
      });
    }
  }
  return [...found.values()];
}

function taskVolumes(pod: PodSpec, task: TaskSpec): readonly VolumeSpec[] {
  return pod.resourceSets.find((s) => s.id === task.resourceSetId)?.volumes ?? [];
}

/** The volumes in a canonical text, ordered by path: `[data ROOT 500 MB]`, `none`. */
function describeVolumes(volumes: readonly VolumeSpec[]): string {
  if (volumes.length === 0) return "none";
  const sorted = [...volumes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sorted.map((v) => `[${abbreviate(v.path)} ${v.type} ${v.sizeMb} MB]`).join(", ");
}

/** Where the YAML declares a task's volumes: inline on the task, or on its resource set. */
function volumesField(pod: PodSpec, task: TaskSpec): string {
  const inline = task.resourceSetId === inlineSetId(task);
  return inline
    ? `${FIELD}.pods.${pod.type}.tasks.${task.name}.volumes`
    : `${FIELD}.pods.${pod.type}.resource-sets.${task.resourceSetId}.volumes`;
}

function inlineSetId(task: TaskSpec): string {
  return `${task.name}-resource-set`;
}

/**
 * Two pod specs describe the same tasks (§1.13 item 6): equal but for count, placement and
 * allow-decommission. A task on a config whose pod is equivalent to the target's need not be
 * relaunched. The order of resource sets, tasks, ports and volumes, and of env keys, does not matter.
 */
export function podsEquivalent(a: PodSpec, b: PodSpec): boolean {
  return a === b || canonicalPod(a) === canonicalPod(b);
}

function canonicalPod(pod: PodSpec): string {
  // Every field but these three describes what the tasks run with, keys added later included.
  const { count: _count, placement: _placement, allowDecommission: _allow, ...rest } = pod;
  return canonicalJson({
    ...rest,
    resourceSets: byKey(pod.resourceSets.map(canonicalSet), (s) => s.id),
    tasks: byKey(pod.tasks, (t) => t.name),
    volumes: byKey(pod.volumes ?? [], (v) => v.path),
  });
}

function canonicalSet(set: ResourceSetSpec): ResourceSetSpec {
  return {
    ...set,
    ports: byKey(set.ports, (p) => p.name),
    volumes: byKey(set.volumes, (v) => v.path),
  };
}

function byKey<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * JSON with object keys sorted, so key order never makes two equal values differ; Infinity
 * (an `unlimited` resource limit) is spelled out, as JSON would make it null.
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === Infinity) return "Infinity";
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
    return sorted;
  });
}

/** What a new spec changes in the pods of the current one (by spec; tasks are not consulted). */
export interface PodChanges {
  /** Pod types in both specs whose pods are not equivalent (`podsEquivalent`), in `next` order. */
  readonly changed: readonly string[];
  /** Instances of changed pods present in both specs (`hello-0`): relaunched if they run. */
  readonly relaunched: readonly string[];
  /** Instances only in `next`: a pod added, or the indices a count raise adds. */
  readonly added: readonly string[];
  /** Instances only in `current`: a pod removed, or the indices a count shrink removes. */
  readonly removed: readonly string[];
}

/** The pod types and pod instances (`hello-0`) a change from `current` to `next` touches. */
export function podChanges(current: ServiceSpec, next: ServiceSpec): PodChanges {
  const changed: string[] = [];
  const relaunched: string[] = [];
  const added: string[] = [];
  const removed: string[] = [];
  for (const old of current.pods) {
    const pod = next.pods.find((p) => p.type === old.type);
    removed.push(...instanceNames(old.type, pod?.count ?? 0, old.count));
  }
  for (const pod of next.pods) {
    const old = current.pods.find((p) => p.type === pod.type);
    added.push(...instanceNames(pod.type, old?.count ?? 0, pod.count));
    if (old === undefined || podsEquivalent(old, pod)) continue;
    changed.push(pod.type);
    relaunched.push(...instanceNames(pod.type, 0, Math.min(old.count, pod.count)));
  }
  return { changed, relaunched, added, removed };
}

/** `hello-<from>` … `hello-<to - 1>`. */
function instanceNames(podType: string, from: number, to: number): string[] {
  const names: string[] = [];
  for (let i = from; i < to; i++) names.push(`${podType}-${i}`);
  return names;
}

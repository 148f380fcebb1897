/**
 * One pod type (`pods.<type>`, dcos-commons §4.2): count, resource sets and tasks, plus the
 * checks that span tasks (resource-set ids, duplicate static ports).
 */
import type { PodSpec, ResourceSetSpec, TaskSpec, VolumeSpec } from "./types.js";
import type { Issues, YamlMap } from "./fields.js";
import {
  LABEL,
  LABEL_RULE,
  NAME_LABEL,
  NAME_LABEL_RULE,
  checkKeys,
  checkLimit,
  isAbsent,
  readBool,
  readMap,
  readNumber,
  readString,
  violate,
  warn,
} from "./fields.js";
import { SPEC_LIMITS } from "./limits.js";
import { OLDER_POD_KEYS } from "./parse-older-keys.js";
import { POD_EXTRA_KEYS, parsePodExtras } from "./parse-pod-extras.js";
import { parseResourceSet, parseVolumes } from "./parse-resources.js";
import { parseTask } from "./parse-task.js";
import { parsePlacement } from "./placement-parse.js";

/** Every key a pod may have (the key table test checks each has a row). */
export const POD_KEYS: readonly string[] = [
  "count",
  "allow-decommission",
  "user",
  "placement",
  "resource-sets",
  "tasks",
  "volume",
  "volumes",
  ...POD_EXTRA_KEYS,
  ...OLDER_POD_KEYS,
];
export const RESOURCE_SET_KEYS: readonly string[] = ["cpus", "gpus", "memory", "ports", "volume", "volumes", "resource-limits"];

/** A resource set with the YAML path it came from, for messages about its ports. */
interface PlacedSet {
  readonly set: ResourceSetSpec;
  readonly field: string;
}

function parseResourceSets(issues: Issues, field: string, value: unknown): PlacedSet[] {
  const map = readMap(issues, field, value) ?? new Map<string, unknown>();
  if (
    !checkLimit(issues, field, "maxResourceSetsPerPod", map.size, SPEC_LIMITS.maxResourceSetsPerPod)
  )
    return [];
  const sets: PlacedSet[] = [];
  for (const [id, raw] of map) {
    const setField = `${field}.${id}`;
    if (!LABEL.test(id)) violate(issues, setField, `resource set id ${LABEL_RULE}`);
    const setMap = readMap(issues, setField, raw);
    if (!setMap) continue;
    checkKeys(issues, setField, setMap, RESOURCE_SET_KEYS);
    sets.push({ set: parseResourceSet(issues, setField, id, setMap), field: setField });
  }
  return sets;
}

function parseTasks(
  issues: Issues,
  field: string,
  value: unknown,
  explicit: readonly PlacedSet[],
): { tasks: TaskSpec[]; inline: PlacedSet[] } {
  const tasks: TaskSpec[] = [];
  const inline: PlacedSet[] = [];
  const map = readMap(issues, field, value);
  if (!map) return { tasks, inline };
  if (map.size === 0) violate(issues, field, "must define at least one task");
  if (!checkLimit(issues, field, "maxTasksPerPod", map.size, SPEC_LIMITS.maxTasksPerPod))
    return { tasks, inline };
  const setIds = explicit.map((p) => p.set.id);
  const seen = new Map<string, string>();
  for (const [name, raw] of map) {
    const taskField = `${field}.${name}`;
    if (!NAME_LABEL.test(name) || name.length > 63)
      violate(issues, taskField, `task name ${NAME_LABEL_RULE}, at most 63 characters`);
    const twin = seen.get(name.toLowerCase());
    if (twin !== undefined)
      violate(issues, taskField, `task ${name} differs from task ${twin} only in case; host names are case-insensitive`);
    seen.set(name.toLowerCase(), name);
    const parsed = parseTask(issues, taskField, name, raw, setIds);
    if (!parsed) continue;
    tasks.push(parsed.task);
    if (!parsed.inlineSet) continue;
    if (setIds.includes(parsed.inlineSet.id)) {
      violate(
        issues,
        taskField,
        `its inline resources form resource set ${parsed.inlineSet.id}, ` +
          "which resource-sets also defines",
      );
    }
    inline.push({ set: parsed.inlineSet, field: taskField });
  }
  return { tasks, inline };
}

/** Static ports share one agent per pod instance, so a number may appear only once per pod. */
function checkDuplicatePorts(issues: Issues, sets: readonly PlacedSet[]): void {
  const seen = new Map<number, string>();
  for (const { set, field } of sets) {
    for (const port of set.ports) {
      if (port.port === 0) continue;
      const portField = `${field}.ports.${port.name}.port`;
      const first = seen.get(port.port);
      if (first === undefined) seen.set(port.port, portField);
      else violate(issues, portField, `port ${port.port} is already used by ${first}`);
    }
  }
}

function warnUnusedSets(
  issues: Issues,
  sets: readonly PlacedSet[],
  tasks: readonly TaskSpec[],
): void {
  for (const { set, field } of sets) {
    if (!tasks.some((t) => t.resourceSetId === set.id)) warn(issues, field, "not used by any task");
  }
}

/** Parses pod `type` at `field`; undefined only when the value is not a mapping at all. */
export function parsePod(
  issues: Issues,
  field: string,
  type: string,
  value: unknown,
): PodSpec | undefined {
  if (!NAME_LABEL.test(type) || type.length > 63)
    violate(issues, field, `pod type ${NAME_LABEL_RULE}, at most 63 characters`);
  const map: YamlMap | undefined = readMap(issues, field, value);
  if (!map) return undefined;
  checkKeys(issues, field, map, POD_KEYS);
  // Required, as in the reference: silently deploying one instance would hide a missing parameter.
  const count =
    readNumber(issues, `${field}.count`, map.get("count"), { integer: true, min: 0 }) ?? 0;
  checkLimit(issues, `${field}.count`, "maxPodCount", count, SPEC_LIMITS.maxPodCount);
  const explicit = parseResourceSets(issues, `${field}.resource-sets`, map.get("resource-sets"));
  const { tasks, inline } = parseTasks(issues, `${field}.tasks`, map.get("tasks"), explicit);
  checkDuplicatePorts(issues, [...explicit, ...inline]);
  warnUnusedSets(issues, explicit, tasks);
  const volumes = parseVolumes(issues, field, map);
  const volumesField = `${field}.${isAbsent(map.get("volume")) ? "volumes" : "volume"}`;
  checkPodVolumePaths(issues, volumesField, volumes, [...explicit, ...inline]);
  const extras = parsePodExtras(issues, field, map);
  checkMountPaths(issues, field, volumes, extras, [...explicit, ...inline]);
  const user = readString(issues, `${field}.user`, map.get("user"), false);
  const placement = parsePlacement(issues, `${field}.placement`, map.get("placement"));
  return {
    type,
    count,
    allowDecommission: readBool(
      issues,
      `${field}.allow-decommission`,
      map.get("allow-decommission"),
      false,
    ),
    ...(user !== undefined ? { user } : {}),
    ...(placement !== undefined ? { placement } : {}),
    resourceSets: [...explicit, ...inline].map((p) => p.set),
    tasks,
    ...(volumes.length > 0 ? { volumes } : {}),
    ...extras,
  };
}

/**
 * Host volumes and secret files are mounted in every task's sandbox of the pod: none may sit
 * where another of them, a pod volume or a task volume is.
 */
function checkMountPaths(
  issues: Issues,
  field: string,
  volumes: readonly VolumeSpec[],
  extras: Pick<PodSpec, "hostVolumes" | "secrets">,
  sets: readonly PlacedSet[],
): void {
  const taken = new Map<string, string>();
  for (const v of volumes) taken.set(v.path, "a pod volume");
  for (const { set, field: at } of sets) for (const v of set.volumes) taken.set(v.path, `a volume of ${at}`);
  const mounts = [
    ...(extras.hostVolumes ?? []).map((h) => ({ path: h.containerPath, at: `${field}.host-volumes.${h.key}.container-path` })),
    ...(extras.secrets ?? []).flatMap((s) => (s.file === undefined ? [] : [{ path: s.file, at: `${field}.secrets.${s.key}.file` }])),
  ];
  for (const { path, at } of mounts) {
    const other = taken.get(path);
    if (other !== undefined) violate(issues, at, `path ${path} is already used by ${other}`);
    else taken.set(path, at);
  }
}

/** A pod volume is linked at its path in every task's sandbox: no task volume may sit there. */
function checkPodVolumePaths(
  issues: Issues,
  field: string,
  volumes: readonly VolumeSpec[],
  sets: readonly PlacedSet[],
): void {
  for (const volume of volumes) {
    const clash = sets.find((p) => p.set.volumes.some((v) => v.path === volume.path));
    if (clash) violate(issues, field, `path ${volume.path} is also a volume path of ${clash.field}`);
  }
}

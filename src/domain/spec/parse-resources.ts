/**
 * Resources of one resource set (dcos-commons §4.2): `cpus`, `gpus`, `memory`, `ports` and
 * `volume` | `volumes`, written either under a pod's `resource-sets.<id>` or inline on a task.
 */
import type { PortSpec, ResourceLimitsSpec, ResourceSetSpec, VolumeSpec } from "./types.js";
import { VALUE_LIMITS } from "./limits.js";
import type { Issues, YamlMap } from "./fields.js";
import {
  checkKeys,
  describe,
  isAbsent,
  readEnum,
  readList,
  readMap,
  readNumber,
  readString,
  violate,
  warn,
} from "./fields.js";
import { parsePortExtras } from "./parse-port-extras.js";

/** Keys that define resources, inline on a task or in a resource set. */
export const RESOURCE_KEYS: readonly string[] = [
  "cpus",
  "gpus",
  "memory",
  "ports",
  "volume",
  "volumes",
  "resource-limits",
];

export const PORT_KEYS: readonly string[] = ["port", "env-key", "advertise", "vip", "ranges"];
export const VOLUME_KEYS: readonly string[] = ["path", "type", "size", "profiles"];

const PORT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `PORT_<NAME>` with `-` → `_`, as the reference names a port's variable. */
export function defaultPortEnvKey(portName: string): string {
  return `PORT_${portName.toUpperCase().replaceAll("-", "_")}`;
}

function parsePort(
  issues: Issues,
  field: string,
  name: string,
  raw: unknown,
): PortSpec | undefined {
  if (!PORT_NAME.test(name)) {
    violate(
      issues,
      field,
      "port name must use only letters, digits, '_' and '-', starting with a letter or digit",
    );
  }
  const map = readMap(issues, field, raw);
  if (!map) return undefined;
  checkKeys(issues, field, map, PORT_KEYS);
  // 0 asks for any free port of the offer: the natural choice when no port is written.
  const port = readNumber(issues, `${field}.port`, map.get("port"), {
    integer: true,
    min: 0,
    max: 65535,
    default: 0,
  });
  const envKey =
    readString(issues, `${field}.env-key`, map.get("env-key"), false) ?? defaultPortEnvKey(name);
  if (!ENV_NAME.test(envKey)) {
    violate(issues, `${field}.env-key`, `${describe(envKey)} is not a valid environment variable name`);
  }
  const extras = parsePortExtras(issues, field, map, port);
  return port === undefined ? undefined : { name, port, envKey, ...extras };
}

function parsePorts(issues: Issues, field: string, raw: unknown): PortSpec[] {
  const ports: PortSpec[] = [];
  for (const [name, value] of readMap(issues, field, raw) ?? []) {
    const port = parsePort(issues, `${field}.${name}`, name, value);
    if (!port) continue;
    const clash = ports.find((p) => p.envKey === port.envKey);
    if (clash) {
      violate(
        issues,
        `${field}.${name}.env-key`,
        `${port.envKey} is already used by port ${clash.name}`,
      );
    }
    ports.push(port);
  }
  return ports;
}

function parseVolume(issues: Issues, field: string, raw: unknown): VolumeSpec | undefined {
  const map = readMap(issues, field, raw);
  if (!map) return undefined;
  checkKeys(issues, field, map, VOLUME_KEYS);
  const path = readString(issues, `${field}.path`, map.get("path"), true);
  // The path is joined to the sandbox; an absolute or `..` path would escape it.
  if (path !== undefined && (path.startsWith("/") || path.split("/").includes(".."))) {
    violate(issues, `${field}.path`, "must be relative to the task sandbox, without '..'");
  }
  const type = readEnum(issues, `${field}.type`, map.get("type"), ["ROOT", "MOUNT"] as const);
  const sizeMb = readNumber(issues, `${field}.size`, map.get("size"), {
    integer: true,
    above: 0,
    max: VALUE_LIMITS.maxVolumeMb,
    maxName: "VALUE_LIMITS.maxVolumeMb",
  });
  const profiles = parseProfiles(issues, `${field}.profiles`, map.get("profiles"), type);
  if (path === undefined || type === undefined || sizeMb === undefined) return undefined;
  return { path, type, sizeMb, ...(profiles.length > 0 ? { profiles } : {}) };
}

const PROFILE = /^[a-zA-Z0-9_.-]{1,128}$/;

/** `profiles`: disk profile names, as the reference checks them (MOUNT volumes only, unique). */
function parseProfiles(issues: Issues, field: string, raw: unknown, type: string | undefined): string[] {
  const profiles: string[] = [];
  (readList(issues, field, raw) ?? []).forEach((item, i) => {
    const name = readString(issues, `${field}[${i}]`, item, true);
    if (name === undefined) return;
    if (!PROFILE.test(name)) violate(issues, `${field}[${i}]`, `${describe(name)} must be 1–128 of a-z, A-Z, 0-9, '_', '.' and '-'`);
    else if (profiles.includes(name)) violate(issues, `${field}[${i}]`, `profile ${describe(name)} is listed twice`);
    else profiles.push(name);
  });
  if (profiles.length === 0) return profiles;
  if (type !== undefined && type !== "MOUNT") violate(issues, field, "profiles apply only to volumes of type MOUNT");
  // Nothing in Corral matches an offer's disk profile: a CSI resource provider would create it.
  warn(issues, field, "disk profiles need a CSI resource provider; the local agent ignores them and Corral reserves the volume without a profile");
  return profiles;
}

/** `volume` (one) or `volumes` (a map name → volume) of `map`; both at once is an error. */
export function parseVolumes(issues: Issues, field: string, map: YamlMap): VolumeSpec[] {
  const single = map.get("volume");
  const many = map.get("volumes");
  if (!isAbsent(single) && !isAbsent(many)) {
    violate(issues, `${field}.volumes`, "use either volume or volumes, not both");
    return [];
  }
  const entries: [string, unknown][] = isAbsent(single)
    ? [...(readMap(issues, `${field}.volumes`, many) ?? [])].map(([k, v]) => [`volumes.${k}`, v])
    : [["volume", single]];
  const volumes: VolumeSpec[] = [];
  for (const [key, raw] of entries) {
    const volume = parseVolume(issues, `${field}.${key}`, raw);
    if (!volume) continue;
    if (volumes.some((v) => v.path === volume.path)) {
      violate(
        issues,
        `${field}.${key}.path`,
        `path ${describe(volume.path)} is already used by another volume`,
      );
    }
    volumes.push(volume);
  }
  return volumes;
}

/**
 * A positive amount up to VALUE_LIMITS[`limit`]. Absent: 0 when `hint` is undefined (a named
 * set may leave it out), else "is required" with `hint` appended.
 */
function readAmount(
  issues: Issues,
  field: string,
  value: unknown,
  limit: "maxCpus" | "maxMemoryMb",
  hint: string | undefined,
): number | undefined {
  if (value === undefined && hint === undefined) return 0;
  if (isAbsent(value)) return violate(issues, field, `is required (> 0)${hint ?? ""}`);
  // cpus is a Mesos scalar kept to 0.001; memory is whole MB, as the reference reads it.
  const kind = limit === "maxCpus" ? { scalar: true } : { integer: true };
  const max = VALUE_LIMITS[limit];
  return readNumber(issues, field, value, { ...kind, above: 0, max, maxName: `VALUE_LIMITS.${limit}` });
}

/**
 * The resource set `id` from `map`, whose path is `field`. Always returns a set so later checks
 * can refer to it; problems are recorded in `issues`. With `hint` (a task's inline resources)
 * cpus and memory are required, `hint` ending "is required"; without it (a set under
 * `resource-sets`, which the reference lets hold only ports) an absent one is 0, not reserved,
 * but the set must define some resource.
 */
export function parseResourceSet(
  issues: Issues,
  field: string,
  id: string,
  map: YamlMap,
  hint?: string,
): ResourceSetSpec {
  const cpus = readAmount(issues, `${field}.cpus`, map.get("cpus"), "maxCpus", hint);
  const memoryMb = readAmount(issues, `${field}.memory`, map.get("memory"), "maxMemoryMb", hint);
  // Mesos allocates whole GPUs.
  const gpus = readNumber(issues, `${field}.gpus`, map.get("gpus"), {
    integer: true,
    min: 0,
    max: VALUE_LIMITS.maxGpus,
    maxName: "VALUE_LIMITS.maxGpus",
    default: 0,
  });
  const limits = parseLimits(issues, `${field}.resource-limits`, map.get("resource-limits"), cpus, memoryMb);
  const set: ResourceSetSpec = {
    id,
    cpus: cpus ?? 0,
    memoryMb: memoryMb ?? 0,
    gpus: gpus ?? 0,
    ports: parsePorts(issues, `${field}.ports`, map.get("ports")),
    volumes: parseVolumes(issues, field, map),
    ...(limits !== undefined ? { limits } : {}),
  };
  // A wrong amount is reported already; a set of nothing would reserve nothing.
  const read = cpus !== undefined && memoryMb !== undefined && gpus !== undefined;
  const empty = set.cpus + set.memoryMb + set.gpus === 0 && set.ports.length === 0 && set.volumes.length === 0;
  if (hint === undefined && read && empty) {
    violate(issues, field, "must define at least one resource: cpus, gpus, memory, a port or a volume");
  }
  return set;
}

/** One limit: a number, or `unlimited` (Infinity); at least the request, as Mesos requires. */
function readLimit(
  issues: Issues,
  field: string,
  value: unknown,
  request: number | undefined,
  limit: "maxCpus" | "maxMemoryMb",
): number | undefined {
  if (isAbsent(value)) return undefined;
  if (typeof value === "string" && value.trim().toLowerCase() === "unlimited") return Infinity;
  const kind = limit === "maxCpus" ? { scalar: true } : { integer: true };
  const n = readNumber(issues, field, value, { ...kind, above: 0, max: VALUE_LIMITS[limit], maxName: `VALUE_LIMITS.${limit}` });
  if (n !== undefined && request !== undefined && n < request) {
    return violate(issues, field, `must be at least the request (${request}) or unlimited, as Mesos requires`);
  }
  return n;
}

/** `resource-limits: {cpus, memory}` (Mesos TaskInfo.limits). */
function parseLimits(
  issues: Issues,
  field: string,
  raw: unknown,
  cpus: number | undefined,
  memoryMb: number | undefined,
): ResourceLimitsSpec | undefined {
  if (isAbsent(raw)) return undefined;
  const map = readMap(issues, field, raw);
  if (!map) return undefined;
  checkKeys(issues, field, map, ["cpus", "memory"]);
  const cpuLimit = readLimit(issues, `${field}.cpus`, map.get("cpus"), cpus, "maxCpus");
  const memLimit = readLimit(issues, `${field}.memory`, map.get("memory"), memoryMb, "maxMemoryMb");
  if (cpuLimit === undefined && memLimit === undefined) return undefined;
  return {
    ...(cpuLimit !== undefined ? { cpus: cpuLimit } : {}),
    ...(memLimit !== undefined ? { memoryMb: memLimit } : {}),
  };
}

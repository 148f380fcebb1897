/**
 * Keys of older reference specs (and reference keys Corral does not act on) that the newest
 * reference format renamed or dropped: each is read as its newer form, or named with what happens
 * instead, never passed over as "unknown".
 */
import type { Issues, YamlMap } from "./fields.js";
import { checkKeys, isAbsent, readMap, warn } from "./fields.js";

/** The older pod keys: read here, accepted by parsePod. */
export const OLDER_POD_KEYS = ["container", "capabilities", "isolate-tmp", "shared-memory", "shared-memory-size"];
/** The older task keys: read here, accepted by parseTask. */
export const OLDER_TASK_KEYS = ["shared-memory", "shared-memory-size"];

/** The newer name of each renamed key. */
const RENAMED: Readonly<Record<string, string>> = {
  "shared-memory": "ipc-mode",
  "shared-memory-size": "shm-size",
};

/** Keys the older `container:` block held, with the pod-level key each is read as. */
const CONTAINER_KEYS: Readonly<Record<string, string>> = {
  image: "image",
  "image-name": "image",
  networks: "networks",
  rlimits: "rlimits",
};

/** A value to read and the field path it was written at. */
export interface Written {
  readonly value: unknown;
  readonly at: string;
}

/**
 * `key` of `map` at `field`, or its older name when only that is written (with a warning
 * either way the older name appears).
 */
function newerOrOlder(issues: Issues, field: string, map: YamlMap, key: string): Written {
  const older = Object.keys(RENAMED).find((k) => RENAMED[k] === key);
  const newer: Written = { value: map.get(key), at: `${field}.${key}` };
  if (older === undefined || !map.has(older)) return newer;
  const at = `${field}.${older}`;
  if (map.has(key)) {
    warn(issues, at, `older name of ${key}; ignored because ${key} is also given`);
    return newer;
  }
  warn(issues, at, `older name of ${key}; read as ${key}`);
  return { value: map.get(older), at };
}

/** Reads a task's `ipc-mode` and `shm-size`, or their older names. */
export function taskLinuxKeys(issues: Issues, field: string, map: YamlMap): { ipcMode: Written; shmSize: Written } {
  return { ipcMode: newerOrOlder(issues, field, map, "ipc-mode"), shmSize: newerOrOlder(issues, field, map, "shm-size") };
}

/**
 * The pod keys read from elsewhere than `map.get(key)`: `ipc-mode`/`shm-size` (or their older
 * names) and `image`/`networks`/`rlimits` (or the older `container:` block's). Also warns about
 * the older pod keys Corral does not act on.
 */
export function podOlderKeys(issues: Issues, field: string, map: YamlMap): (key: string) => Written {
  if (map.has("capabilities")) {
    warn(
      issues,
      `${field}.capabilities`,
      "Linux capabilities are not granted: tasks run with the local agent's capabilities, or on Mesos the default ones; Corral does not pass them in LinuxInfo yet",
    );
  }
  if (map.has("isolate-tmp")) {
    warn(issues, `${field}.isolate-tmp`, "not acted on: tasks share the host's /tmp; the sandbox has no tmp/");
  }
  const fromContainer = containerKeys(issues, `${field}.container`, map);
  const linux = taskLinuxKeys(issues, field, map);
  const chosen = new Map<string, Written>([["ipc-mode", linux.ipcMode], ["shm-size", linux.shmSize]]);
  for (const [key, old] of fromContainer) {
    if (isAbsent(map.get(key))) chosen.set(key, old);
    else warn(issues, old.at, `also given at pod level as ${key}; the pod-level value is used`);
  }
  return (key) => chosen.get(key) ?? { value: map.get(key), at: `${field}.${key}` };
}

/** The pod-level key → value of the older `container:` block, with one warning for the block. */
function containerKeys(issues: Issues, field: string, pod: YamlMap): Map<string, Written> {
  const found = new Map<string, Written>();
  if (!pod.has("container")) return found;
  warn(issues, field, "older form; Corral reads its image/networks/rlimits as pod-level keys");
  const map = readMap(issues, field, pod.get("container"));
  if (!map) return found;
  checkKeys(issues, field, map, Object.keys(CONTAINER_KEYS));
  for (const [key, podKey] of Object.entries(CONTAINER_KEYS)) {
    if (!map.has(key)) continue;
    const at = `${field}.${key}`;
    if (found.has(podKey)) {
      warn(issues, at, `ignored: ${found.get(podKey)?.at ?? podKey} is also given`);
      continue;
    }
    found.set(podKey, { value: map.get(key), at });
  }
  return found;
}

/**
 * The task keys of §4.2 beyond goal, command, env, checks and resources: `labels`, `discovery`,
 * `transport-encryption`, `configs`, `ipc-mode` and `shm-size`.
 */
import { LABEL_READINESS_PASSED, LABEL_RESOURCE_ID, LABEL_FRAMEWORK_ID, LABEL_NAMESPACE, LABEL_TARGET_CONFIG } from "../cluster.js";
import { LABEL_OFFER_ATTRIBUTES, LABEL_OFFER_HOSTNAME, LABEL_OFFER_REGION, LABEL_OFFER_ZONE } from "../offer/agent-place.js";
import { LABEL_GOAL, LABEL_INDEX, LABEL_RESOURCE_SET, LABEL_TASK_TYPE } from "../offer/task-info.js";
import type { DiscoverySpec, TaskSpec } from "./types.js";
import type { Issues, YamlMap } from "./fields.js";
import { NAME_LABEL, checkKeys, describe, isAbsent, readEnum, readList, readMap, readString, violate, warn } from "./fields.js";
import { OLDER_TASK_KEYS, taskLinuxKeys } from "./parse-older-keys.js";
import { readIpcMode, readShmSize } from "./parse-pod-extras.js";
import { readLabels, relativePathProblem } from "./read-values.js";

export const TASK_EXTRA_KEYS = ["labels", "discovery", "transport-encryption", "configs", "ipc-mode", "shm-size", ...OLDER_TASK_KEYS];

/**
 * Label keys Corral's own TaskInfo carries (and the reference's: readiness_check,
 * permanently-failed); a spec label may not replace them.
 */
export function reservedLabelKeys(): readonly string[] {
  return [
    LABEL_TARGET_CONFIG,
    LABEL_TASK_TYPE,
    LABEL_INDEX,
    LABEL_RESOURCE_SET,
    LABEL_GOAL,
    LABEL_OFFER_HOSTNAME,
    LABEL_OFFER_ATTRIBUTES,
    LABEL_OFFER_ZONE,
    LABEL_OFFER_REGION,
    LABEL_RESOURCE_ID,
    LABEL_FRAMEWORK_ID,
    LABEL_NAMESPACE,
    LABEL_READINESS_PASSED,
    "readiness_check",
    "permanently-failed",
  ];
}

function parseTaskLabels(issues: Issues, field: string, value: unknown): Record<string, string> {
  const labels = readLabels(issues, field, value);
  const reserved = reservedLabelKeys();
  for (const key of Object.keys(labels)) {
    if (!reserved.includes(key)) continue;
    violate(issues, field, `label ${describe(key)} is reserved: Corral's own TaskInfo label (reserved: ${reserved.join(", ")})`);
    delete labels[key];
  }
  return labels;
}

function parseDiscovery(issues: Issues, field: string, value: unknown): DiscoverySpec | undefined {
  const map = readMap(issues, field, value);
  if (!map) return undefined;
  checkKeys(issues, field, map, ["prefix", "visibility"]);
  const prefix = readString(issues, `${field}.prefix`, map.get("prefix"), false);
  // The DiscoveryInfo name `<prefix>-<index>` is a host name label.
  if (prefix !== undefined && (!NAME_LABEL.test(prefix) || prefix.length > 50)) {
    violate(issues, `${field}.prefix`, "must be a DNS label (letters, digits and '-', starting and ending with a letter or digit), at most 50 characters");
  }
  const visibility = readEnum(issues, `${field}.visibility`, map.get("visibility"), ["FRAMEWORK", "CLUSTER", "EXTERNAL"] as const, "CLUSTER");
  if (visibility === undefined) return undefined;
  return { ...(prefix !== undefined ? { prefix } : {}), visibility };
}

type Encryption = NonNullable<TaskSpec["transportEncryption"]>[number];

function parseEncryption(issues: Issues, field: string, value: unknown): Encryption[] {
  const items: Encryption[] = [];
  (readList(issues, field, value) ?? []).forEach((raw, i) => {
    const at = `${field}[${i}]`;
    const map = readMap(issues, at, raw);
    if (!map) return;
    // custom_tls.yml's CUSTOM artifacts name a secret and where it is mounted.
    checkKeys(issues, at, map, ["name", "type", "secret", "mount-path"]);
    const name = readString(issues, `${at}.name`, map.get("name"), true);
    const type = readEnum(issues, `${at}.type`, map.get("type"), ["TLS", "KEYSTORE", "CUSTOM"] as const);
    if (name !== undefined && items.some((e) => e.name === name)) violate(issues, `${at}.name`, `${describe(name)} is listed twice`);
    if (name !== undefined && type !== undefined) items.push({ name, type });
  });
  if (items.length > 0) {
    warn(issues, field, "not acted on: TaskInfo has no field for it, and the TLS artifacts need the DC/OS CA; the task starts without them");
  }
  return items;
}

type Config = NonNullable<TaskSpec["configs"]>[number];

function parseConfigs(issues: Issues, field: string, value: unknown): Config[] {
  const configs: Config[] = [];
  for (const [name, raw] of readMap(issues, field, value) ?? []) {
    const at = `${field}.${name}`;
    const map = readMap(issues, at, raw);
    if (!map) continue;
    checkKeys(issues, at, map, ["template", "dest"]);
    const template = readString(issues, `${at}.template`, map.get("template"), true);
    const dest = readString(issues, `${at}.dest`, map.get("dest"), true);
    const problem = dest === undefined ? undefined : relativePathProblem(dest);
    if (problem !== undefined) violate(issues, `${at}.dest`, problem);
    if (dest !== undefined && configs.some((c) => c.dest === dest)) violate(issues, `${at}.dest`, `${describe(dest)} is already the dest of another config`);
    if (template === undefined || dest === undefined) continue;
    configs.push({ name, template, dest });
    warn(issues, at, `served by the reference's artifact endpoint; Corral does not render config templates yet — the task starts without ${dest}`);
  }
  return configs;
}

type TaskExtras = Pick<TaskSpec, "labels" | "discovery" | "transportEncryption" | "ipcMode" | "shmSizeMb" | "configs">;

/** The keys of TASK_EXTRA_KEYS from the task `map` at `field`; absent keys stay absent. */
export function parseTaskExtras(issues: Issues, field: string, map: YamlMap): TaskExtras {
  const at = (key: string) => `${field}.${key}`;
  const labels = parseTaskLabels(issues, at("labels"), map.get("labels"));
  const discovery = isAbsent(map.get("discovery")) ? undefined : parseDiscovery(issues, at("discovery"), map.get("discovery"));
  const transportEncryption = parseEncryption(issues, at("transport-encryption"), map.get("transport-encryption"));
  const configs = parseConfigs(issues, at("configs"), map.get("configs"));
  const linux = taskLinuxKeys(issues, field, map);
  const ipcMode = readIpcMode(issues, linux.ipcMode.at, linux.ipcMode.value);
  const shmSizeMb = readShmSize(issues, linux.shmSize.at, linux.shmSize.value, ipcMode);
  return {
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(discovery ? { discovery } : {}),
    ...(transportEncryption.length > 0 ? { transportEncryption } : {}),
    ...(configs.length > 0 ? { configs } : {}),
    ...(ipcMode !== undefined ? { ipcMode } : {}),
    ...(shmSizeMb !== undefined ? { shmSizeMb } : {}),
  };
}

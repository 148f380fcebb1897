/**
 * The pod keys of §4.2 beyond count, placement, resource sets and tasks: what the pod's
 * container runs with (image, networks, rlimits, secrets, host volumes, Linux namespaces),
 * what is fetched into it (uris) and where its resources come from (pre-reserved-role).
 */
import { secretNameProblems } from "../secret-name.js";
import type { HostVolumeSpec, IpcMode, NetworkSpec, PodSpec, RlimitName, RlimitSpec, SecretSpec } from "./types.js";
import type { Issues, YamlMap } from "./fields.js";
import { checkKeys, describe, isAbsent, readBool, readEnum, readList, readMap, readNumber, readString, violate, warn } from "./fields.js";
import { podOlderKeys } from "./parse-older-keys.js";
import { ENV_NAME, absolutePathProblem, readLabels, readPortList, relativePathProblem } from "./read-values.js";

/** Keys this file reads; parsePod accepts them. */
export const POD_EXTRA_KEYS = [
  "uris",
  "image",
  "networks",
  "rlimits",
  "secrets",
  "host-volumes",
  "external-volumes",
  "pre-reserved-role",
  "share-pid-namespace",
  "seccomp-unconfined",
  "seccomp-profile-name",
  "ipc-mode",
  "shm-size",
];

export const RLIMIT_NAMES: readonly RlimitName[] = [
  "RLIMIT_AS",
  "RLIMIT_CORE",
  "RLIMIT_CPU",
  "RLIMIT_DATA",
  "RLIMIT_FSIZE",
  "RLIMIT_LOCKS",
  "RLIMIT_MEMLOCK",
  "RLIMIT_MSGQUEUE",
  "RLIMIT_NICE",
  "RLIMIT_NOFILE",
  "RLIMIT_NPROC",
  "RLIMIT_RSS",
  "RLIMIT_RTPRIO",
  "RLIMIT_RTTIME",
  "RLIMIT_SIGPENDING",
  "RLIMIT_STACK",
];

/** Where a URI may come from: what the local agent's fetcher and the Mesos fetcher both read. */
const URI_SCHEME = /^(https?|file):\/\/\S+$/i;

function parseUris(issues: Issues, field: string, value: unknown): string[] {
  const uris: string[] = [];
  (readList(issues, field, value) ?? []).forEach((raw, i) => {
    const uri = readString(issues, `${field}[${i}]`, raw, true);
    if (uri === undefined) return;
    if (!URI_SCHEME.test(uri) && absolutePathProblem(uri) !== undefined) {
      violate(issues, `${field}[${i}]`, `${describe(uri)} must be an http://, https:// or file:// URI or an absolute path`);
      return;
    }
    uris.push(uri);
  });
  return uris;
}

function parseNetworks(issues: Issues, field: string, value: unknown): NetworkSpec[] {
  const networks: NetworkSpec[] = [];
  for (const [name, raw] of readMap(issues, field, value) ?? []) {
    const at = `${field}.${name}`;
    if (name.trim() === "") violate(issues, at, "a network name must not be empty");
    // `dcos:` with no body joins the network with no port mapping, as the reference reads it.
    const map = readMap(issues, at, raw);
    if (!map) continue;
    checkKeys(issues, at, map, ["host-ports", "container-ports", "labels"]);
    const hostPorts = readPortList(issues, `${at}.host-ports`, map.get("host-ports"));
    const containerPorts = readPortList(issues, `${at}.container-ports`, map.get("container-ports"));
    if (hostPorts.length !== containerPorts.length) {
      violate(issues, at, `host-ports (${hostPorts.length}) and container-ports (${containerPorts.length}) must list the same number of ports`);
    }
    networks.push({ name, hostPorts, containerPorts, labels: readLabels(issues, `${at}.labels`, map.get("labels")) });
  }
  return networks;
}

/** Mesos RLimitInfo: soft and hard both set (soft ≤ hard) or both unset (unlimited). */
function parseRlimits(issues: Issues, field: string, value: unknown): RlimitSpec[] {
  const limits: RlimitSpec[] = [];
  for (const [name, raw] of readMap(issues, field, value) ?? []) {
    const at = `${field}.${name}`;
    const known = RLIMIT_NAMES.find((n) => n === name);
    if (known === undefined) {
      violate(issues, at, `unknown rlimit ${describe(name)}; valid: ${RLIMIT_NAMES.join(", ")}`);
      continue;
    }
    const map = readMap(issues, at, raw);
    if (!map) continue;
    checkKeys(issues, at, map, ["soft", "hard"]);
    const rule = { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER, default: -1 };
    const soft = readNumber(issues, `${at}.soft`, map.get("soft"), rule);
    const hard = readNumber(issues, `${at}.hard`, map.get("hard"), rule);
    if (soft === undefined || hard === undefined) continue;
    if ((soft === -1) !== (hard === -1)) {
      violate(issues, at, "set both soft and hard, or neither (unlimited), as Mesos requires");
    } else if (soft > hard) {
      violate(issues, `${at}.soft`, `soft ${soft} is above hard ${hard}`);
    } else {
      limits.push(soft === -1 ? { name: known } : { name: known, soft, hard });
    }
  }
  return limits;
}

function parseSecrets(issues: Issues, field: string, value: unknown): SecretSpec[] {
  const secrets: SecretSpec[] = [];
  for (const [key, raw] of readMap(issues, field, value) ?? []) {
    const at = `${field}.${key}`;
    const map = readMap(issues, at, raw);
    if (!map) continue;
    checkKeys(issues, at, map, ["secret", "env-key", "file"]);
    const secret = readString(issues, `${at}.secret`, map.get("secret"), true);
    for (const p of secret === undefined ? [] : secretNameProblems(secret, `${at}.secret`)) violate(issues, p.field, p.reason);
    const envKey = readString(issues, `${at}.env-key`, map.get("env-key"), false);
    if (envKey !== undefined && !ENV_NAME.test(envKey)) violate(issues, `${at}.env-key`, `${describe(envKey)} is not a valid environment variable name`);
    let file = readString(issues, `${at}.file`, map.get("file"), false);
    const fileProblem = file === undefined ? undefined : relativePathProblem(file);
    if (fileProblem !== undefined) violate(issues, `${at}.file`, fileProblem);
    if (envKey !== undefined && secrets.some((s) => s.envKey === envKey)) violate(issues, `${at}.env-key`, `${envKey} is already used by another secret`);
    if (secret === undefined) continue;
    // With neither env-key nor file the reference exposes the secret as a file at its own path.
    if (envKey === undefined && file === undefined) file = secret;
    if (file !== undefined && secrets.some((s) => s.file === file)) violate(issues, `${at}.file`, `${describe(file)} is already used by another secret`);
    secrets.push({ key, secret, ...(envKey !== undefined ? { envKey } : {}), ...(file !== undefined ? { file } : {}) });
  }
  return secrets;
}

function parseHostVolumes(issues: Issues, field: string, value: unknown): HostVolumeSpec[] {
  const volumes: HostVolumeSpec[] = [];
  for (const [key, raw] of readMap(issues, field, value) ?? []) {
    const at = `${field}.${key}`;
    const map = readMap(issues, at, raw);
    if (!map) continue;
    checkKeys(issues, at, map, ["host-path", "container-path", "mode"]);
    const hostPath = readString(issues, `${at}.host-path`, map.get("host-path"), true);
    const hostProblem = hostPath === undefined ? undefined : absolutePathProblem(hostPath);
    if (hostProblem !== undefined) violate(issues, `${at}.host-path`, hostProblem);
    const containerPath = readString(issues, `${at}.container-path`, map.get("container-path"), true);
    const containerProblem = containerPath === undefined ? undefined : relativePathProblem(containerPath);
    if (containerProblem !== undefined) violate(issues, `${at}.container-path`, containerProblem);
    const mode = readEnum(issues, `${at}.mode`, map.get("mode"), ["RW", "RO"] as const, "RW");
    if (containerPath !== undefined && volumes.some((v) => v.containerPath === containerPath)) {
      violate(issues, `${at}.container-path`, `${describe(containerPath)} is already used by another host volume`);
    }
    if (hostPath === undefined || containerPath === undefined || mode === undefined) continue;
    volumes.push({ key, hostPath, containerPath, mode });
  }
  return volumes;
}

/** A Mesos role (mesos-v1-api roles): `/`-separated segments, none empty, `.`, `..` or starting with `-`. */
function parsePreReservedRole(issues: Issues, field: string, value: unknown): string | undefined {
  const role = readString(issues, field, value, false);
  // `*` is the reference's default: no pre-reserved role.
  if (role === undefined || role === "*") return undefined;
  const bad = role.split("/").some((s) => s === "" || s === "." || s === ".." || s.startsWith("-") || /[\s\\*]/.test(s));
  if (bad) {
    return violate(issues, field, `${describe(role)} is not a Mesos role: '/'-separated names, none empty, '.', '..', starting with '-' or holding whitespace, '\\' or '*'`);
  }
  return role;
}

export function readIpcMode(issues: Issues, field: string, value: unknown): IpcMode | undefined {
  return isAbsent(value) ? undefined : readEnum(issues, field, value, ["PRIVATE", "SHARE_PARENT"] as const);
}

/**
 * `shm-size` in MB. Mesos sizes /dev/shm only for a PRIVATE IPC namespace and refuses a size
 * with SHARE_PARENT; the reference's own specs write one there (the task shares the pod's
 * /dev/shm), so it is dropped with a warning rather than refused.
 */
export function readShmSize(issues: Issues, field: string, value: unknown, ipcMode: IpcMode | undefined): number | undefined {
  if (isAbsent(value)) return undefined;
  const size = readNumber(issues, field, value, { integer: true, above: 0, max: 2 ** 32 });
  if (size !== undefined && ipcMode === "SHARE_PARENT") {
    warn(issues, field, "ignored: with ipc-mode SHARE_PARENT the task shares its pod's /dev/shm (Mesos sizes /dev/shm only for PRIVATE)");
    return undefined;
  }
  return size;
}

type PodExtras = Pick<
  PodSpec,
  "uris" | "image" | "networks" | "rlimits" | "secrets" | "hostVolumes" | "preReservedRole" | "sharePidNamespace" | "seccomp" | "ipcMode" | "shmSizeMb"
>;

/** The pod keys of POD_EXTRA_KEYS from `map` (pod at `field`); absent keys stay absent. */
export function parsePodExtras(issues: Issues, field: string, map: YamlMap): PodExtras {
  const has = (key: string) => !isAbsent(map.get(key));
  const at = (key: string) => `${field}.${key}`;
  if (map.has("external-volumes")) {
    warn(issues, at("external-volumes"), "external (Docker volume driver) volumes are not supported by Corral; the tasks start without them");
  }
  const unconfined = readBool(issues, at("seccomp-unconfined"), map.get("seccomp-unconfined"), false);
  const profileName = readString(issues, at("seccomp-profile-name"), map.get("seccomp-profile-name"), false);
  if (unconfined && profileName !== undefined) {
    violate(issues, at("seccomp-profile-name"), "cannot specify seccomp-unconfined and seccomp-profile-name at the same time");
  }
  const src = podOlderKeys(issues, field, map);
  const image = readString(issues, src("image").at, src("image").value, false);
  const role = parsePreReservedRole(issues, at("pre-reserved-role"), map.get("pre-reserved-role"));
  const ipcMode = readIpcMode(issues, src("ipc-mode").at, src("ipc-mode").value);
  const shmSizeMb = readShmSize(issues, src("shm-size").at, src("shm-size").value, ipcMode);
  const list = <T>(key: string, read: (i: Issues, f: string, v: unknown) => T[]) => {
    const { value, at: where } = src(key);
    const items = isAbsent(value) ? [] : read(issues, where, value);
    return items.length > 0 ? items : undefined;
  };
  const extras: Record<string, unknown> = {
    uris: list("uris", parseUris),
    image,
    networks: list("networks", parseNetworks),
    rlimits: list("rlimits", parseRlimits),
    secrets: list("secrets", parseSecrets),
    hostVolumes: list("host-volumes", parseHostVolumes),
    preReservedRole: role,
    sharePidNamespace: readBool(issues, at("share-pid-namespace"), map.get("share-pid-namespace"), false) || undefined,
    seccomp: has("seccomp-unconfined") || profileName !== undefined ? { unconfined, ...(profileName !== undefined ? { profileName } : {}) } : undefined,
    ipcMode,
    shmSizeMb,
  };
  for (const key of Object.keys(extras)) if (extras[key] === undefined) delete extras[key];
  return extras as PodExtras;
}

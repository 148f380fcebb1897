/**
 * ContainerInfo, DiscoveryInfo and TaskInfo.limits as Mesos v1 JSON (mesos.proto `ContainerInfo`,
 * `Volume`, `NetworkInfo`, `LinuxInfo`, `RLimitInfo`, `DiscoveryInfo`, `TaskInfo.limits`;
 * mesos-v1-api.md §1.2: snake_case names, enum names, `limits` a map of Value.Scalar with
 * Infinity as a string). Decoding fails (a 400) on what the proto requires and on what this
 * codebase cannot hold (a DOCKER container, an APPC image, a VALUE secret, legacy volumes); what
 * the master would refuse with TASK_ERROR goes to `problems` instead.
 */
import type { ContainerInfo, ContainerVolume, DiscoveryInfo, LinuxInfo, NetworkInfo, Rlimit, SecretRef, TaskInfo, VolumeSource } from "../../../domain/cluster.js";
import { encodeDouble, encodeLabels, type JsonObject, type JsonReader } from "./json-codec.js";

/** Wire-only settings the domain does not model. */
export interface ContainerWire {
  /** `linux_info.share_cgroups`; Mesos's default is true. */
  readonly shareCgroups?: boolean;
}

export function encodeContainer(c: ContainerInfo, wire: ContainerWire = {}): JsonObject {
  const linux = encodeLinux(c.linuxInfo ?? {}, wire);
  return {
    type: "MESOS",
    ...(c.image !== undefined ? { mesos: { image: { type: "DOCKER", docker: { name: c.image } } } } : {}),
    ...(c.volumes?.length ? { volumes: c.volumes.map(encodeVolume) } : {}),
    ...(c.networkInfos?.length ? { network_infos: c.networkInfos.map(encodeNetwork) } : {}),
    ...(Object.keys(linux).length > 0 ? { linux_info: linux } : {}),
    ...(c.rlimitInfo !== undefined ? { rlimit_info: { rlimits: c.rlimitInfo.rlimits.map(encodeRlimit) } } : {}),
  };
}

function encodeVolume(v: ContainerVolume): JsonObject {
  return { container_path: v.containerPath, mode: v.mode, source: encodeSource(v.source) };
}

function encodeSource(s: VolumeSource): JsonObject {
  switch (s.type) {
    case "HOST_PATH":
      return { type: s.type, host_path: { path: s.hostPath.path } };
    case "SANDBOX_PATH":
      return { type: s.type, sandbox_path: { type: s.sandboxPath.type, path: s.sandboxPath.path } };
    case "SECRET":
      return { type: s.type, secret: encodeSecret(s.secret) };
  }
}

/** A Secret of type REFERENCE: only its name (and key) travels, never a value. */
export function encodeSecret(ref: SecretRef): JsonObject {
  return { type: "REFERENCE", reference: { name: ref.name, ...(ref.key !== undefined ? { key: ref.key } : {}) } };
}

function encodeNetwork(n: NetworkInfo): JsonObject {
  return {
    name: n.name,
    ...(n.labels !== undefined && Object.keys(n.labels).length > 0 ? { labels: encodeLabels(n.labels) } : {}),
    ...(n.portMappings?.length
      ? {
          port_mappings: n.portMappings.map((p) => ({
            host_port: p.hostPort,
            container_port: p.containerPort,
            ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
          })),
        }
      : {}),
  };
}

function encodeLinux(l: LinuxInfo, wire: ContainerWire): JsonObject {
  return {
    ...(l.sharePidNamespace !== undefined ? { share_pid_namespace: l.sharePidNamespace } : {}),
    ...(l.seccomp !== undefined
      ? { seccomp: { unconfined: l.seccomp.unconfined, ...(l.seccomp.profileName !== undefined ? { profile_name: l.seccomp.profileName } : {}) } }
      : {}),
    ...(l.ipcMode !== undefined ? { ipc_mode: l.ipcMode } : {}),
    ...(l.shmSize !== undefined ? { shm_size: l.shmSize } : {}),
    ...(wire.shareCgroups !== undefined ? { share_cgroups: wire.shareCgroups } : {}),
  };
}

function encodeRlimit(r: Rlimit): JsonObject {
  return { type: r.type, ...(r.soft !== undefined ? { soft: r.soft } : {}), ...(r.hard !== undefined ? { hard: r.hard } : {}) };
}

export function encodeDiscovery(d: DiscoveryInfo): JsonObject {
  return {
    visibility: d.visibility,
    ...(d.name !== undefined ? { name: d.name } : {}),
    ...(d.ports !== undefined
      ? {
          ports: {
            ports: d.ports.map((p) => ({
              number: p.number,
              ...(p.name !== undefined ? { name: p.name } : {}),
              protocol: p.protocol,
              ...(p.visibility !== undefined ? { visibility: p.visibility } : {}),
              ...(p.labels !== undefined && Object.keys(p.labels).length > 0 ? { labels: encodeLabels(p.labels) } : {}),
            })),
          },
        }
      : {}),
  };
}

/** `map<string, Value.Scalar>`: `{"cpus": {"value": 2}, "mem": {"value": "Infinity"}}`. */
export function encodeLimits(l: NonNullable<TaskInfo["limits"]>): JsonObject {
  return {
    ...(l.cpus !== undefined ? { cpus: { value: encodeDouble(l.cpus) } } : {}),
    ...(l.mem !== undefined ? { mem: { value: encodeDouble(l.mem) } } : {}),
  };
}

// ---- decoding ----------------------------------------------------------------------------

const VOLUME_MODES: ReadonlySet<"RW" | "RO"> = new Set(["RW", "RO"]);
const CONTAINER_TYPES: ReadonlySet<"DOCKER" | "MESOS"> = new Set(["DOCKER", "MESOS"]);
const IMAGE_TYPES: ReadonlySet<"APPC" | "DOCKER"> = new Set(["APPC", "DOCKER"]);
const SOURCE_TYPES: ReadonlySet<string> = new Set(["UNKNOWN", "DOCKER_VOLUME", "HOST_PATH", "SANDBOX_PATH", "SECRET", "CSI_VOLUME"]);
const SANDBOX_TYPES: ReadonlySet<"SELF" | "PARENT"> = new Set(["SELF", "PARENT"]);
const IPC_MODES: ReadonlySet<"PRIVATE" | "SHARE_PARENT"> = new Set(["PRIVATE", "SHARE_PARENT"]);
const VISIBILITIES: ReadonlySet<DiscoveryInfo["visibility"]> = new Set(["FRAMEWORK", "CLUSTER", "EXTERNAL"]);
/** RLimitInfo.RLimit.Type: an unknown name leaves the optional enum unset, which we keep as "UNKNOWN". */
export const RLIMIT_TYPES: ReadonlySet<string> = new Set([
  "RLMT_AS", "RLMT_CORE", "RLMT_CPU", "RLMT_DATA", "RLMT_FSIZE", "RLMT_LOCKS", "RLMT_MEMLOCK", "RLMT_MSGQUEUE",
  "RLMT_NICE", "RLMT_NOFILE", "RLMT_NPROC", "RLMT_RSS", "RLMT_RTPRIO", "RLMT_RTTIME", "RLMT_SIGPENDING", "RLMT_STACK",
]);

export interface DecodedContainer {
  readonly container: ContainerInfo;
  readonly wire: ContainerWire;
}

/** A ContainerInfo (`problems` collects what the master refuses with TASK_ERROR). */
export function decodeContainer(c: JsonReader, problems: string[]): DecodedContainer {
  if (c.at("type").enumOf(CONTAINER_TYPES) === "DOCKER") c.at("type").fail("Docker ContainerInfo is not supported (this agent runs MESOS containers only)");
  const image = decodeImage(c.at("mesos"));
  const volumes = c.at("volumes").list().flatMap((v) => decodeVolume(v, problems));
  const networkInfos = c.at("network_infos").list().map(decodeNetwork);
  const l = c.at("linux_info");
  const linuxInfo = l.present() ? decodeLinux(l) : undefined;
  const shareCgroups = l.present() ? l.at("share_cgroups").optBoolean() : undefined;
  const r = c.at("rlimit_info");
  const container: ContainerInfo = {
    type: "MESOS",
    ...(image !== undefined ? { image } : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(networkInfos.length > 0 ? { networkInfos } : {}),
    ...(linuxInfo !== undefined && Object.keys(linuxInfo).length > 0 ? { linuxInfo } : {}),
    ...(r.present() ? { rlimitInfo: { rlimits: r.at("rlimits").list().map(decodeRlimit) } } : {}),
  };
  return { container, wire: shareCgroups !== undefined ? { shareCgroups } : {} };
}

/** True when the decoded container says nothing the domain keeps (e.g. only `share_cgroups`). */
export function isBareContainer(c: ContainerInfo): boolean {
  return Object.keys(c).length === 1;
}

/** `MesosInfo.image`: `Image.type` is required (a 400 without it), only DOCKER images here. */
function decodeImage(m: JsonReader): string | undefined {
  if (!m.present() || !m.at("image").present()) return undefined;
  const image = m.at("image");
  if (image.at("type").enumOf(IMAGE_TYPES) !== "DOCKER") image.at("type").fail("only DOCKER images are supported");
  return image.at("docker").at("name").string();
}

/** A Volume with a `source` (container_path and mode are required); nothing = not kept, with a problem. */
function decodeVolume(v: JsonReader, problems: string[]): ContainerVolume[] {
  const containerPath = v.at("container_path").string();
  const mode = v.at("mode").enumOf(VOLUME_MODES);
  const s = v.at("source");
  // common/validation.cpp validateVolume: exactly one of host_path, image, source.
  if (!s.present() || v.at("host_path").present() || v.at("image").present()) {
    if (v.at("host_path").present() || v.at("image").present()) v.fail("legacy volumes (host_path, image) are not supported; use 'source'");
    problems.push("Invalid volume: Only one of them should be set: 'host_path', 'image' and 'source'");
    return [];
  }
  const type = s.at("type").optEnumOf(SOURCE_TYPES) ?? "UNKNOWN";
  const source = decodeSource(s, type, problems);
  return source !== undefined ? [{ containerPath, mode, source }] : [];
}

function decodeSource(s: JsonReader, type: string, problems: string[]): VolumeSource | undefined {
  switch (type) {
    case "HOST_PATH": {
      const h = s.at("host_path");
      if (!h.present()) return refuse(problems, "Invalid volume: 'source.host_path' is not set for HOST_PATH volume");
      return { type, hostPath: { path: h.at("path").string() } };
    }
    case "SANDBOX_PATH": {
      const p = s.at("sandbox_path");
      if (!p.present()) return refuse(problems, "Invalid volume: 'source.sandbox_path' is not set for SANDBOX_PATH volume");
      const path = p.at("path").string();
      // volume/sandbox_path isolator: an unset type fails the launch; not representable here.
      const kind = p.at("type").optEnumOf(SANDBOX_TYPES) ?? p.at("type").fail("SANDBOX_PATH volume needs type SELF or PARENT");
      return { type, sandboxPath: { type: kind, path } };
    }
    case "SECRET": {
      const ref = s.at("secret").present() ? decodeSecret(s.at("secret")) : undefined;
      if (ref === undefined) return refuse(problems, "Invalid volume: 'source.secret' is not set for SECRET volume");
      return { type, secret: ref };
    }
    case "UNKNOWN":
      return refuse(problems, "Invalid volume: 'source.type' is unknown");
    default:
      return s.at("type").fail(`${type} volumes are not supported by this agent`);
  }
}

/** Records what the master would refuse; the part is left out of the decoded value. */
function refuse(problems: string[], message: string): undefined {
  problems.push(message);
  return undefined;
}

/**
 * A Secret of type REFERENCE; undefined when `reference` is missing (the master: "Secret of
 * type REFERENCE must have the 'reference' field set"). VALUE secrets are refused (a 400): a
 * secret's value never travels in Corral.
 */
export function decodeSecret(s: JsonReader): SecretRef | undefined {
  const type = s.at("type").optString();
  if (type === "VALUE" || s.at("value").present()) s.fail("secrets of type VALUE are not supported; use a REFERENCE to the agent's secret store");
  const r = s.at("reference");
  if (!r.present()) return undefined;
  const key = r.at("key").optString();
  return { name: r.at("name").string(), ...(key !== undefined ? { key } : {}) };
}

function decodeNetwork(n: JsonReader): NetworkInfo {
  const labels = n.at("labels").labels();
  const portMappings = n.at("port_mappings").list().map((p) => {
    const protocol = p.at("protocol").optString();
    return { hostPort: p.at("host_port").integer(), containerPort: p.at("container_port").integer(), ...(protocol !== undefined ? { protocol } : {}) };
  });
  return {
    name: n.at("name").optString() ?? "",
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(portMappings.length > 0 ? { portMappings } : {}),
  };
}

function decodeLinux(l: JsonReader): LinuxInfo {
  const sharePidNamespace = l.at("share_pid_namespace").optBoolean();
  const s = l.at("seccomp");
  const profileName = s.present() ? s.at("profile_name").optString() : undefined;
  const ipcMode = l.at("ipc_mode").optEnumOf(IPC_MODES);
  const shmSize = l.at("shm_size").optInteger();
  return {
    ...(sharePidNamespace !== undefined ? { sharePidNamespace } : {}),
    ...(s.present() ? { seccomp: { unconfined: s.at("unconfined").optBoolean() ?? false, ...(profileName !== undefined ? { profileName } : {}) } } : {}),
    ...(ipcMode !== undefined ? { ipcMode } : {}),
    ...(shmSize !== undefined ? { shmSize } : {}),
  };
}

function decodeRlimit(r: JsonReader): Rlimit {
  const soft = r.at("soft").optInteger();
  const hard = r.at("hard").optInteger();
  return { type: r.at("type").optEnumOf(RLIMIT_TYPES) ?? "UNKNOWN", ...(soft !== undefined ? { soft } : {}), ...(hard !== undefined ? { hard } : {}) };
}

/** DiscoveryInfo: `visibility` is required, and so is each port's `number`. */
export function decodeDiscovery(d: JsonReader): DiscoveryInfo {
  const name = d.at("name").optString();
  const ports = d.at("ports").present()
    ? d.at("ports").at("ports").list().map((p) => {
        const portName = p.at("name").optString();
        const visibility = p.at("visibility").optEnumOf(VISIBILITIES);
        const labels = p.at("labels").labels();
        return {
          number: p.at("number").integer(),
          ...(portName !== undefined ? { name: portName } : {}),
          protocol: p.at("protocol").optString() ?? "",
          ...(visibility !== undefined ? { visibility } : {}),
          ...(Object.keys(labels).length > 0 ? { labels } : {}),
        };
      })
    : undefined;
  return { visibility: d.at("visibility").enumOf(VISIBILITIES), ...(name !== undefined ? { name } : {}), ...(ports !== undefined ? { ports } : {}) };
}

/** `limits`: any key but cpus and mem is a master TASK_ERROR ("Only cpus and mem may be included…"). */
export function decodeLimits(l: JsonReader, problems: string[]): TaskInfo["limits"] {
  const out: { cpus?: number; mem?: number } = {};
  for (const key of Object.keys(l.object())) {
    const value = l.at(key).at("value").double();
    if (key === "cpus" || key === "mem") out[key] = value;
    else problems.push("Only cpus and mem may be included in a task's resource limits");
  }
  return out;
}

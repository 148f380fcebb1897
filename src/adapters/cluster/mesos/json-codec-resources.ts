/**
 * Resource, reservation, disk and attribute JSON (mesos-v1-api.md §9, §9.1): the refined
 * `reservations` stack (RESERVATION_REFINEMENT), labels as `{labels: [{key, value}]}`, ranges as
 * `{range: [{begin, end}]}`, scalars rounded to 0.001. What Mesos sends and our domain `Resource`
 * lacks (the offer's allocation role, a disk's source) rides on `MesosResource` and is echoed
 * back when the resource is sent in an operation, since Mesos matches resources exactly.
 */
import type { DiskInfo, Range, Reservation, Resource } from "../../../domain/cluster.js";
import { encodeDouble, encodeLabels, roundScalar, type JsonObject, type JsonReader } from "./json-codec.js";

/** Where a disk resource lives (`DiskInfo.Source`): PATH is divisible; MOUNT must be used whole. */
export interface DiskSource {
  readonly type: "PATH" | "MOUNT" | "BLOCK" | "RAW";
  /** `path.root` or `mount.root`. */
  readonly root?: string;
  /** CSI volume id and profile (BLOCK/RAW). */
  readonly id?: string;
  readonly profile?: string;
}

/** A resource as Mesos sends it: our `Resource` plus what the domain does not model. */
export interface MesosResource extends Resource {
  /** `allocation_info.role`: the role the offer was allocated to. */
  readonly allocationRole?: string;
  readonly diskSource?: DiskSource;
}

/** A SET resource (e.g. custom agent resources); the domain has no SET type, so offers keep them apart. */
export interface MesosSetResource {
  readonly name: string;
  readonly items: readonly string[];
  readonly reservations?: readonly Reservation[];
  readonly allocationRole?: string;
}

const RESOURCE_TYPES: ReadonlySet<"SCALAR" | "RANGES" | "SET"> = new Set(["SCALAR", "RANGES", "SET"]);
const RESERVATION_TYPES: ReadonlySet<Reservation["type"]> = new Set(["DYNAMIC", "STATIC"]);
const VOLUME_MODES: ReadonlySet<"RW" | "RO"> = new Set(["RW", "RO"]);
const SOURCE_TYPES: ReadonlySet<DiskSource["type"]> = new Set(["PATH", "MOUNT", "BLOCK", "RAW"]);

/** One resource as Mesos JSON; extras from `MesosResource` are included when present. */
export function encodeResource(resource: Resource | MesosResource): JsonObject {
  const extra = resource as MesosResource;
  return {
    name: resource.name,
    type: resource.type,
    ...(resource.type === "SCALAR" ? { scalar: { value: encodeDouble(roundScalar(resource.scalar ?? 0)) } } : {}),
    ...(resource.type === "RANGES" ? { ranges: { range: (resource.ranges ?? []).map(encodeRange) } } : {}),
    ...(extra.allocationRole !== undefined ? { allocation_info: { role: extra.allocationRole } } : {}),
    ...(resource.reservations?.length ? { reservations: resource.reservations.map(encodeReservation) } : {}),
    ...(resource.disk !== undefined || extra.diskSource !== undefined ? { disk: encodeDisk(resource.disk ?? {}, extra.diskSource) } : {}),
  };
}

function encodeRange(range: Range): JsonObject {
  return { begin: range.begin, end: range.end };
}

function encodeReservation(r: Reservation): JsonObject {
  return {
    type: r.type,
    role: r.role,
    ...(r.principal !== undefined ? { principal: r.principal } : {}),
    ...(Object.keys(r.labels).length > 0 ? { labels: encodeLabels(r.labels) } : {}),
  };
}

function encodeDisk(disk: DiskInfo, source: DiskSource | undefined): JsonObject {
  const { persistence, volume } = disk;
  return {
    ...(persistence !== undefined
      ? { persistence: { id: persistence.id, ...(persistence.principal !== undefined ? { principal: persistence.principal } : {}) } }
      : {}),
    ...(volume !== undefined ? { volume: { container_path: volume.containerPath, mode: volume.mode } } : {}),
    ...(source !== undefined ? { source: encodeSource(source) } : {}),
  };
}

function encodeSource(s: DiskSource): JsonObject {
  const root = s.root !== undefined ? { root: s.root } : undefined;
  return {
    type: s.type,
    ...(s.type === "PATH" && root ? { path: root } : {}),
    ...(s.type === "MOUNT" && root ? { mount: root } : {}),
    ...(s.id !== undefined ? { id: s.id } : {}),
    ...(s.profile !== undefined ? { profile: s.profile } : {}),
  };
}

/** A decoded resource: SET resources come back apart, since `Resource` cannot hold them. */
export type DecodedResource = { readonly kind: "resource"; readonly resource: MesosResource } | { readonly kind: "set"; readonly resource: MesosSetResource };

/** Decodes one `Resource`; legacy `role`/`reservation` fields are ignored (we subscribe with RESERVATION_REFINEMENT). */
export function decodeResource(r: JsonReader): DecodedResource {
  const name = r.at("name").string();
  const type = r.at("type").enumOf(RESOURCE_TYPES);
  const reservations = r.at("reservations").list().map(decodeReservation);
  const allocationRole = r.at("allocation_info").present() ? r.at("allocation_info").at("role").optString() : undefined;
  const common = {
    ...(reservations.length > 0 ? { reservations } : {}),
    ...(allocationRole !== undefined ? { allocationRole } : {}),
  };
  if (type === "SET") {
    const items = r.at("set").present() ? r.at("set").at("item").list().map((i) => i.string()) : [];
    return { kind: "set", resource: { name, items, ...common } };
  }
  const disk = r.at("disk").present() ? decodeDisk(r.at("disk")) : undefined;
  const value =
    type === "SCALAR"
      ? { scalar: roundScalar(r.at("scalar").at("value").double()) }
      : { ranges: r.at("ranges").present() ? r.at("ranges").at("range").list().map(decodeRange) : [] };
  return {
    kind: "resource",
    resource: {
      name,
      type,
      ...value,
      ...common,
      ...(disk?.info !== undefined ? { disk: disk.info } : {}),
      ...(disk?.source !== undefined ? { diskSource: disk.source } : {}),
    },
  };
}

function decodeRange(r: JsonReader): Range {
  const begin = r.at("begin").integer();
  const end = r.at("end").integer();
  if (end < begin) r.fail(`range end ${end} before begin ${begin}`);
  return { begin, end };
}

function decodeReservation(r: JsonReader): Reservation {
  const principal = r.at("principal").optString();
  return {
    type: r.at("type").enumOf(RESERVATION_TYPES),
    role: r.at("role").string(),
    ...(principal !== undefined ? { principal } : {}),
    labels: r.at("labels").labels(),
  };
}

function decodeDisk(d: JsonReader): { info?: DiskInfo; source?: DiskSource } {
  const p = d.at("persistence");
  const v = d.at("volume");
  const principal = p.present() ? p.at("principal").optString() : undefined;
  const info: DiskInfo = {
    ...(p.present() ? { persistence: { id: p.at("id").string(), ...(principal !== undefined ? { principal } : {}) } } : {}),
    ...(v.present() ? { volume: { containerPath: v.at("container_path").string(), mode: v.at("mode").enumOf(VOLUME_MODES) } } : {}),
  };
  const source = d.at("source").present() ? decodeSource(d.at("source")) : undefined;
  return {
    ...(info.persistence !== undefined || info.volume !== undefined ? { info } : {}),
    ...(source !== undefined ? { source } : {}),
  };
}

function decodeSource(s: JsonReader): DiskSource {
  const type = s.at("type").enumOf(SOURCE_TYPES);
  const holder = type === "PATH" ? s.at("path") : type === "MOUNT" ? s.at("mount") : undefined;
  const root = holder?.present() ? holder.at("root").optString() : undefined;
  const id = s.at("id").optString();
  const profile = s.at("profile").optString();
  return {
    type,
    ...(root !== undefined ? { root } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(profile !== undefined ? { profile } : {}),
  };
}

const ATTRIBUTE_TYPES: ReadonlySet<"SCALAR" | "RANGES" | "SET" | "TEXT"> = new Set(["SCALAR", "RANGES", "SET", "TEXT"]);

/**
 * One agent attribute as `[name, text]`, in the text form an agent's `--attributes` flag uses
 * (and placement rules are written against): TEXT as is, SCALAR as Mesos prints it (rounded to
 * 0.001, no trailing zeros: `10`, `2.5`), RANGES `[a-b,c-d]`, SET `{a,b}`.
 */
export function decodeAttribute(a: JsonReader): [string, string] {
  const name = a.at("name").string();
  switch (a.at("type").enumOf(ATTRIBUTE_TYPES)) {
    case "TEXT":
      return [name, a.at("text").at("value").string()];
    case "SCALAR":
      return [name, String(roundScalar(a.at("scalar").at("value").double()))];
    case "RANGES": {
      const ranges = a.at("ranges").present() ? a.at("ranges").at("range").list().map(decodeRange) : [];
      return [name, `[${ranges.map((r) => `${r.begin}-${r.end}`).join(",")}]`];
    }
    case "SET": {
      const items = a.at("set").present() ? a.at("set").at("item").list().map((i) => i.string()) : [];
      return [name, `{${items.join(",")}}`];
    }
  }
}

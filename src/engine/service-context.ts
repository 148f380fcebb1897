/**
 * A service's context: everything needed to rebuild it after a restart (design doc
 * "Config serialization"). A 1:1 copy of the PutService input plus bookkeeping; the factory
 * must be deterministic over name/spec/parameters because it reruns on every start.
 */
import { SchedulerError } from "../domain/errors.js";
import type { ServiceSpec, SpecWarning } from "../domain/spec/types.js";
import { decodeJson, encodeJson } from "./store/codec.js";

/** The reference's context limit, well under ZooKeeper's 1 MB node limit. */
export const MAX_CONTEXT_BYTES = 100 * 1024;

export interface ServiceContext {
  readonly name: string;
  /** The ServiceSpec YAML template as given. */
  readonly spec: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly generation: number;
  readonly createdMs: number;
  readonly updatedMs: number;
  /**
   * A deployment of the service had completed when this context's config became the target:
   * the spec's `update` plan deploys it (the reference's `last-completed-update-type`), also
   * after a restart in the middle of it. Absent for a service's first config.
   */
  readonly deployed?: boolean;
  /**
   * Static and mono mode: what the template's preset variables are set to (SERVICE_NAME: the
   * file's base name, FRAMEWORK_NAME: the framework name). Absent (API puts): both are the
   * service name, and a parameter may not set them otherwise.
   */
  readonly presets?: ServicePresets;
  /**
   * The user of a spec that names none (the factory applies `spec.user ??= defaultUser`): "root"
   * in mono mode (the reference's mono default), and on an update the running service's user,
   * so that dropping a `user:` line (or the mono → multi migration) never changes a task's user.
   */
  readonly defaultUser?: string;
}

/** The values of the template's preset variables (`ServiceContext.presets`). */
export interface ServicePresets {
  readonly SERVICE_NAME: string;
  readonly FRAMEWORK_NAME: string;
}

/** A service as the factory builds it from a context, before anything is stored. */
export interface BuiltService {
  readonly context: ServiceContext;
  readonly rendered: string;
  readonly spec: ServiceSpec;
  readonly warnings: readonly SpecWarning[];
}

export function encodeContext(ctx: ServiceContext): Uint8Array {
  const parameters = Object.fromEntries(Object.entries(ctx.parameters).sort(([a], [b]) => (a < b ? -1 : 1)));
  const bytes = encodeJson({ ...ctx, parameters });
  if (bytes.byteLength > MAX_CONTEXT_BYTES) {
    throw SchedulerError.invalid([
      { field: "spec", reason: `service context is ${bytes.byteLength} bytes; the limit is ${MAX_CONTEXT_BYTES} (100 KiB)` },
    ]);
  }
  return bytes;
}

export function decodeContext(data: Uint8Array): ServiceContext {
  const v = decodeJson<Partial<ServiceContext>>(data);
  if (typeof v.name !== "string" || typeof v.spec !== "string") {
    throw new SchedulerError("internal", "stored service context lacks name or spec");
  }
  if (v.presets !== undefined && !isPresets(v.presets)) throw new SchedulerError("internal", "stored service context has malformed presets");
  return {
    name: v.name,
    spec: v.spec,
    parameters: v.parameters ?? {},
    generation: v.generation ?? 1,
    createdMs: v.createdMs ?? 0,
    updatedMs: v.updatedMs ?? 0,
    ...(v.deployed === true ? { deployed: true } : {}),
    ...(v.presets ? { presets: { SERVICE_NAME: v.presets.SERVICE_NAME, FRAMEWORK_NAME: v.presets.FRAMEWORK_NAME } } : {}),
    ...(typeof v.defaultUser === "string" ? { defaultUser: v.defaultUser } : {}),
  };
}

function isPresets(v: unknown): v is ServicePresets {
  const p = v as Partial<ServicePresets> | undefined;
  return typeof p === "object" && p !== null && typeof p.SERVICE_NAME === "string" && typeof p.FRAMEWORK_NAME === "string";
}

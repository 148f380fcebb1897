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
  return {
    name: v.name,
    spec: v.spec,
    parameters: v.parameters ?? {},
    generation: v.generation ?? 1,
    createdMs: v.createdMs ?? 0,
    updatedMs: v.updatedMs ?? 0,
    ...(v.deployed === true ? { deployed: true } : {}),
  };
}

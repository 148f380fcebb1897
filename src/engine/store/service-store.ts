/**
 * The dynamic service list (`ServiceList/<escaped>/Context`) plus the service's first config
 * target, written as one multi-operation so a crash leaves either no service or a whole one.
 */
import type { ServiceSpec } from "../../domain/spec/types.js";
import type { Persister, PersisterOp } from "../ports.js";
import type { ServiceContext } from "../service-context.js";
import { encodeContext, decodeContext } from "../service-context.js";
import { encodeJson, encodeText } from "./codec.js";
import { READS_IN_FLIGHT, RECOVERY_READ_PATHS, mapLimit } from "./concurrency.js";
import * as layout from "./layout.js";
import { chunks, getMany } from "./read-many.js";

export interface StoredContext {
  readonly name: string;
  readonly context: ServiceContext | undefined;
  /** Why the stored bytes could not be decoded. */
  readonly error?: string;
}

export class ServiceStore {
  constructor(private readonly persister: Persister) {}

  /** Ops that record a new service: its context, its config and the target pointing at it. */
  addOps(context: ServiceContext, configId: string, spec: ServiceSpec): PersisterOp[] {
    const name = context.name;
    return [
      { kind: "create", path: layout.contextPath(name), data: encodeContext(context) },
      { kind: "set", path: layout.configurationPath(name, configId), data: encodeJson(spec) },
      { kind: "set", path: layout.configTargetPath(name), data: encodeText(configId) },
    ];
  }

  /** Ops that replace a (quarantined) service's context and target config, keeping its tasks. */
  repairOps(context: ServiceContext, configId: string, spec: ServiceSpec): PersisterOp[] {
    const name = context.name;
    return [
      { kind: "set", path: layout.contextPath(name), data: encodeContext(context) },
      { kind: "set", path: layout.configurationPath(name, configId), data: encodeJson(spec) },
      { kind: "set", path: layout.configTargetPath(name), data: encodeText(configId) },
    ];
  }

  async add(context: ServiceContext, configId: string, spec: ServiceSpec): Promise<void> {
    await this.persister.multi(this.addOps(context, configId, spec));
  }

  /** Every listed service's context, by escaped name order. Undecodable entries are reported, not dropped. */
  async recover(): Promise<StoredContext[]> {
    const listed = await this.persister.children(layout.SERVICE_LIST);
    // Many contexts per read (a multiRead on ZooKeeper), several reads in flight; a slice is
    // decoded while the next ones are on their way.
    const slices = await mapLimit(chunks(listed, RECOVERY_READ_PATHS), READS_IN_FLIGHT, async (slice) => {
      const values = await getMany(
        this.persister,
        slice.map((escaped) => `${layout.SERVICE_LIST}/${escaped}/Context`),
      );
      return slice.map((escaped, i) => decodeStored(escaped, values[i]));
    });
    return slices.flat();
  }
}

function decodeStored(escaped: string, v: { data: Uint8Array } | undefined): StoredContext {
  const fallback = escaped.replaceAll("__", "/");
  if (!v) return { name: fallback, context: undefined, error: "context missing" };
  try {
    const context = decodeContext(v.data);
    return { name: context.name, context };
  } catch (err) {
    return { name: fallback, context: undefined, error: String(err) };
  }
}

/**
 * The store with a span per operation (`store.get`, `store.getMany`, `store.children`,
 * `store.multi`) naming the services whose paths it touches (service-attributes.ts). Optional
 * members are forwarded as they are: a store without `getMany` or `maxMultiBytes` stays
 * without, so read-many.ts and the multi splitting behave as on the bare store.
 */
import type { Attributes } from "@opentelemetry/api";
import type { Persister, PersisterOp, Versioned } from "../../engine/ports.js";
import { serviceAttributes, servicesOfPaths } from "./service-attributes.js";
import type { ServiceNames } from "./service-attributes.js";
import type { SpanRunner } from "./span-runner.js";

/** `monoService`: the framework's name, whose service the schema-1 (mono) root nodes are. */
export function tracedPersister(p: Persister, spans: SpanRunner, names: ServiceNames, monoService: string): Persister {
  /** The attributes naming the services of `paths`; each name is remembered for the driver's task IDs. */
  const about = (paths: Iterable<string>): Attributes => {
    const services = servicesOfPaths(paths, monoService);
    names.learn(services);
    return serviceAttributes(services);
  };
  const traced: Persister = {
    get: (path) => spans.leaf("store.get", () => ({ "store.path": path, ...about([path]) }), () => p.get(path)),
    children: (path) => spans.leaf("store.children", () => ({ "store.path": path, ...about([path]) }), () => p.children(path)),
    multi: (ops: readonly PersisterOp[]) =>
      spans.leaf("store.multi", () => ({ "store.ops": ops.length, ...about(ops.map((op) => op.path)) }), () => p.multi(ops)),
    close: () => p.close(),
  };
  if (p.getMany) {
    const getMany = p.getMany.bind(p);
    traced.getMany = (paths: readonly string[]): Promise<(Versioned | undefined)[]> =>
      spans.leaf("store.getMany", () => ({ "store.paths": paths.length, ...about(paths) }), () => getMany(paths));
  }
  // A getter: a store may learn its limit after it connected.
  if (p.maxMultiBytes !== undefined) Object.defineProperty(traced, "maxMultiBytes", { get: () => p.maxMultiBytes, enumerable: true });
  return traced;
}

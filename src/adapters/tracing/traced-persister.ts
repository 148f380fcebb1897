/**
 * The store with a span per operation (`store.get`, `store.getMany`, `store.children`,
 * `store.multi`) naming the services whose paths it touches (service-attributes.ts). Optional
 * members are forwarded as they are: a store without `getMany` or `maxMultiBytes` stays
 * without, so read-many.ts and the multi splitting behave as on the bare store.
 */
import type { Persister, PersisterOp, Versioned } from "../../engine/ports.js";
import { serviceAttributes, servicesOfPaths } from "./service-attributes.js";
import type { SpanRunner } from "./span-runner.js";

export function tracedPersister(p: Persister, spans: SpanRunner): Persister {
  const traced: Persister = {
    get: (path) => spans.inSpan("store.get", { "store.path": path, ...serviceAttributes(servicesOfPaths([path])) }, () => p.get(path)),
    children: (path) => spans.inSpan("store.children", { "store.path": path, ...serviceAttributes(servicesOfPaths([path])) }, () => p.children(path)),
    multi: (ops: readonly PersisterOp[]) =>
      spans.inSpan("store.multi", { "store.ops": ops.length, ...serviceAttributes(servicesOfPaths(ops.map((op) => op.path))) }, () => p.multi(ops)),
    close: () => p.close(),
  };
  if (p.getMany) {
    const getMany = p.getMany.bind(p);
    traced.getMany = (paths: readonly string[]): Promise<(Versioned | undefined)[]> =>
      spans.inSpan("store.getMany", { "store.paths": paths.length, ...serviceAttributes(servicesOfPaths(paths)) }, () => getMany(paths));
  }
  // A getter: a store may learn its limit after it connected.
  if (p.maxMultiBytes !== undefined) Object.defineProperty(traced, "maxMultiBytes", { get: () => p.maxMultiBytes, enumerable: true });
  return traced;
}

/**
 * A Persister that times every store operation into `corral_store_op_duration_seconds{op}`.
 * Optional members are forwarded as they are: a store without `getMany` stays without one (the
 * engine then falls back to one get per path, each timed as a get), `maxMultiBytes` keeps its value.
 */
import type { Histogram } from "prom-client";
import type { Persister } from "../../engine/ports.js";
import type { StoreOp } from "./corral-metrics.js";

export function meteredPersister(inner: Persister, histogram: Histogram<"op">): Persister {
  const timed = <T>(op: StoreOp, call: () => Promise<T>): Promise<T> => {
    const end = histogram.startTimer({ op });
    let result: Promise<T>;
    try {
      result = call();
    } catch (err) {
      end();
      throw err;
    }
    return result.finally(end);
  };
  const getMany = inner.getMany;
  return {
    get: (path) => timed("get", () => inner.get(path)),
    ...(getMany ? { getMany: (paths: readonly string[]) => timed("getMany", () => getMany.call(inner, paths)) } : {}),
    children: (path) => timed("children", () => inner.children(path)),
    multi: (ops) => timed("multi", () => inner.multi(ops)),
    ...(inner.maxMultiBytes !== undefined ? { maxMultiBytes: inner.maxMultiBytes } : {}),
    close: () => inner.close(),
  };
}

/**
 * A Persister that times every store operation into `corral_store_op_duration_seconds{op}`.
 * Optional members are forwarded as they are: a store without `getMany` stays without one (the
 * engine then falls back to one get per path, each timed as a get), `maxMultiBytes` keeps its value.
 */
import type { Persister } from "../../engine/ports.js";
import type { StoreOp } from "./corral-metrics.js";
import type { HistogramChild, LeanHistogram } from "./lean-metrics.js";
import { secondsSince } from "./lean-metrics.js";

export function meteredPersister(inner: Persister, histogram: LeanHistogram<"op">): Persister {
  // No closure made per call beyond the two callbacks (a named one costs a defineProperty under tsx).
  const timed = <T>(series: HistogramChild, call: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    let result: Promise<T>;
    try {
      result = call();
    } catch (err) {
      series.observe(secondsSince(started));
      throw err;
    }
    return result.then(
      (value) => {
        series.observe(secondsSince(started));
        return value;
      },
      (err: unknown) => {
        series.observe(secondsSince(started));
        throw err;
      },
    );
  };
  const op = (name: StoreOp): HistogramChild => histogram.child({ op: name });
  const series = { get: op("get"), getMany: op("getMany"), children: op("children"), multi: op("multi") };
  const getMany = inner.getMany;
  return {
    get: (path) => timed(series.get, () => inner.get(path)),
    ...(getMany ? { getMany: (paths: readonly string[]) => timed(series.getMany, () => getMany.call(inner, paths)) } : {}),
    children: (path) => timed(series.children, () => inner.children(path)),
    multi: (ops) => timed(series.multi, () => inner.multi(ops)),
    ...(inner.maxMultiBytes !== undefined ? { maxMultiBytes: inner.maxMultiBytes } : {}),
    close: () => inner.close(),
  };
}

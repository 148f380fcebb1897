/**
 * Batched reads for recovery. `Persister.getMany` is optional in the port (wrappers in tests and
 * benchmarks implement only get/children/multi); this falls back to one `get` per path, issued
 * together (pipelined on a remote store).
 */
import type { Persister, Versioned } from "../ports.js";

/** The values at `paths` in input order; undefined where a node is missing. */
export function getMany(persister: Persister, paths: readonly string[]): Promise<(Versioned | undefined)[]> {
  if (paths.length === 0) return Promise.resolve([]);
  if (persister.getMany) return persister.getMany(paths);
  return Promise.all(paths.map((p) => persister.get(p)));
}

/** `items` cut into consecutive slices of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

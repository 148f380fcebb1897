/**
 * Bounded parallelism for store reads. A remote store (ZooKeeper) answers requests issued
 * together pipelined over its one connection, so recovery issues many reads at once instead of
 * one round trip after another; the bound keeps memory and per-call deadlines in check.
 */

/** How many items recovery works on at once (each issues a handful of reads). */
export const READ_CONCURRENCY = 64;

/**
 * Recovery reads in batches: a batch's nodes go in one `getMany` (ZooKeeper: one multiRead
 * per ≤ 128 paths instead of a request per node). Contexts: this many per read.
 */
export const RECOVERY_READ_PATHS = 128;

/** Services per recovery batch: their Removal and ConfigTarget in one read, then all their task nodes in one (~9 each). */
export const RECOVERY_BATCH_SERVICES = 32;

/** Batched reads (or batches of services) in flight at once during recovery. */
export const READS_IN_FLIGHT = 8;

/** `fn` over `items` with at most `limit` calls running at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Bounded parallelism for store reads. A remote store (ZooKeeper) answers requests issued
 * together pipelined over its one connection, so recovery issues many reads at once instead of
 * one round trip after another; the bound keeps memory and per-call deadlines in check.
 */

/** How many items recovery works on at once (each issues a handful of reads). */
export const READ_CONCURRENCY = 64;

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

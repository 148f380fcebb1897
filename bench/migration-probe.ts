/**
 * Bench (p): a Persister that counts what passes through it — multis, set and delete ops, the
 * value bytes set, the time inside multis, and whether a marker node (`Migration`, `Restore`) was written, which tells
 * the marker path from the one-multi path. It forwards `getMany` and `maxMultiBytes`, so the
 * code under test reads and budgets exactly as on the bare store.
 */
import type { Persister, PersisterOp, Versioned } from "../src/engine/ports.js";

export interface Counts {
  multis: number;
  sets: number;
  deletes: number;
  /** Value bytes of the set/create ops. */
  bytes: number;
  /** Wall time spent inside multi calls (the rest of a step is its reads and planning). */
  multiMs: number;
  /** Root node names written with a value (set/create), e.g. the markers. */
  readonly written: Set<string>;
}

export class CountingPersister implements Persister {
  readonly getMany?: (paths: readonly string[]) => Promise<(Versioned | undefined)[]>;
  readonly maxMultiBytes?: number;
  counts: Counts = fresh();

  constructor(private readonly inner: Persister) {
    if (inner.getMany) this.getMany = (paths) => inner.getMany!(paths);
    if (inner.maxMultiBytes !== undefined) this.maxMultiBytes = inner.maxMultiBytes;
  }

  /** Starts counting afresh; returns what was counted so far. */
  reset(): Counts {
    const was = this.counts;
    this.counts = fresh();
    return was;
  }

  get(path: string): Promise<Versioned | undefined> {
    return this.inner.get(path);
  }

  children(path: string): Promise<string[]> {
    return this.inner.children(path);
  }

  async multi(ops: readonly PersisterOp[]): Promise<void> {
    const c = this.counts;
    c.multis++;
    for (const op of ops) {
      if (op.kind === "set" || op.kind === "create") {
        c.sets++;
        c.bytes += op.data.byteLength;
        if (!op.path.includes("/")) c.written.add(op.path);
      } else if (op.kind === "delete") {
        c.deletes++;
      }
    }
    const t = performance.now();
    await this.inner.multi(ops);
    c.multiMs += performance.now() - t;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function fresh(): Counts {
  return { multis: 0, sets: 0, deletes: 0, bytes: 0, multiMs: 0, written: new Set() };
}

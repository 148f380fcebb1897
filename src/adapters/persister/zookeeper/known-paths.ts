/**
 * Paths KNOWN TO EXIST under the persister's root (a positive cache only), so planning a multi
 * need not ask the server about parents it has already seen.
 *
 * Safe because the scheduler is the single writer of its root while its session holds the lock
 * (ZkLockKeeper): nobody else deletes our nodes while this session lives. So the cache is
 * cleared on every session event (disconnect, expiry, new client) and on every transaction that
 * does not succeed; a path is dropped with its subtree when our own multi deletes it. Should the
 * single-writer assumption be broken anyway, the op planned from the cache fails and the
 * persister clears the cache and plans again (zookeeper-persister.ts).
 *
 * A path's ancestors below the root are known with it (a node exists only under existing
 * parents), so the cache is a tree and a subtree drop walks only the cached children.
 * Additions carry the epoch their read or write started in: one answered after a clear is
 * ignored (it may describe the tree before another writer changed it).
 */
import { parentOf } from "./plan.js";

/** Beyond this many paths the cache is cleared (it only ever saves reads). */
export const ZK_KNOWN_PATHS_MAX = 200_000;

export class KnownPaths {
  /** Cached path → its cached children (full paths). */
  private readonly tree = new Map<string, Set<string>>();
  private current = 0;

  constructor(
    /** Absolute root ("/" or "/a/b"): always exists, never stored. */
    private readonly root: string,
    private readonly max = ZK_KNOWN_PATHS_MAX,
  ) {}

  /** Bumped by every clear. */
  get epoch(): number {
    return this.current;
  }

  get size(): number {
    return this.tree.size;
  }

  has(path: string): boolean {
    return path === this.root || this.tree.has(path);
  }

  /** Records that `path` (and so every ancestor) exists, if no clear happened since `epoch`. */
  add(path: string, epoch: number): void {
    if (epoch !== this.current || !this.below(path)) return;
    if (this.tree.size >= this.max && !this.tree.has(path)) this.clear();
    const missing: string[] = [];
    for (let p = path; this.below(p) && !this.tree.has(p); p = parentOf(p)) missing.push(p);
    // Outermost first: each one's parent is the root or already cached.
    for (const p of missing.reverse()) {
      this.tree.set(p, new Set());
      this.tree.get(parentOf(p))?.add(p);
    }
  }

  /** Forgets `path` and every cached path below it. */
  drop(path: string): void {
    const kids = this.tree.get(path);
    if (!kids) return;
    this.tree.delete(path);
    this.tree.get(parentOf(path))?.delete(path);
    const stack = [...kids];
    for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
      const below = this.tree.get(p);
      this.tree.delete(p);
      if (below) stack.push(...below);
    }
  }

  clear(): void {
    this.current++;
    this.tree.clear();
  }

  /** Strictly below the root. */
  private below(path: string): boolean {
    return this.root === "/" ? path.length > 1 : path.startsWith(`${this.root}/`);
  }
}

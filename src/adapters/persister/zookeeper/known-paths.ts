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
  /**
   * Cached path → its cached children (full paths), or null while it has none: most cached
   * paths are leaves (recovery reads ~12 per service), so they cost no Set.
   */
  private readonly tree = new Map<string, Set<string> | null>();
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
    if (epoch !== this.current || this.tree.has(path) || !this.below(path)) return;
    if (this.tree.size >= this.max) this.clear();
    // Innermost first, up to the first cached ancestor (or the root).
    let child = path;
    this.tree.set(child, null);
    for (let p = parentOf(child); this.below(p); child = p, p = parentOf(p)) {
      const kids = this.tree.get(p);
      if (kids) {
        kids.add(child);
        return;
      }
      this.tree.set(p, new Set([child]));
      if (kids === null) return; // it was cached, as a leaf: its own ancestors are too
    }
  }

  /** Forgets `path` and every cached path below it. */
  drop(path: string): void {
    if (!this.tree.has(path)) return;
    const kids = this.tree.get(path);
    this.tree.delete(path);
    this.tree.get(parentOf(path))?.delete(path);
    const stack = kids ? [...kids] : [];
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

/**
 * Turns a Persister multi into ZooKeeper transaction ops. ZooKeeper has no "create parents" and
 * no recursive delete, so the plan reads the tree first (exists / getChildren), then emits
 * explicit creates for missing ancestors and deletes for every descendant, deepest first, all in
 * the one transaction. Ops see the effect of earlier ops of the same multi through an overlay.
 * If the tree changes between planning and commit the transaction fails as a whole; the
 * persister then plans once more.
 *
 * Paths the reader already knows to exist (`known`, the persister's positive cache) are not
 * asked about; the rest is asked in ONE round: each node an op targets together with its
 * unknown ancestors, so a new subtree costs no second or third round.
 */
import type { PersisterOp } from "../../../engine/ports.js";

/**
 * A planned transaction op. `fromRead` marks ops chosen from what planning read (a missing
 * parent, a descendant, create-vs-setData of an unversioned set): if one of those fails, the
 * tree changed under us and the multi is planned again.
 */
export type ZkOp =
  | { readonly type: "create"; readonly path: string; readonly data: Buffer; readonly fromRead: boolean }
  | { readonly type: "setData"; readonly path: string; readonly data: Buffer; readonly version: number; readonly fromRead: boolean }
  | { readonly type: "remove"; readonly path: string; readonly fromRead: boolean }
  | { readonly type: "check"; readonly path: string; readonly version: number; readonly fromRead: false };

/** What the planner reads from the server. */
export interface TreeReader {
  exists(path: string): Promise<boolean>;
  getChildren(path: string): Promise<string[]>;
  /** True when `path` is known to exist without asking (a cache); false means "ask". */
  known?(path: string): boolean;
}

const EMPTY = Buffer.alloc(0);

export function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** Absolute ZooKeeper paths of the ancestors of `path` strictly below `root`, outermost first. */
function ancestorsBelow(root: string, path: string): string[] {
  const out: string[] = [];
  for (let p = parentOf(path); p.length > root.length && p !== "/"; p = parentOf(p)) out.push(p);
  return out.reverse();
}

const isUnder = (path: string, ancestor: string): boolean =>
  path.startsWith(ancestor === "/" ? "/" : `${ancestor}/`) && path !== ancestor;

/**
 * Plans `ops` (already validated, paths made absolute by `abs`) against the tree under `root`
 * (the persister's root node, which exists).
 */
export async function planMulti(
  root: string,
  ops: readonly PersisterOp[],
  abs: (relative: string) => string,
  reader: TreeReader,
): Promise<ZkOp[]> {
  /** Existence after the ops planned so far, for the paths they touched. */
  const overlay = new Map<string, boolean>();
  /** Paths removed so far: the server's view of anything below them is stale. */
  const removed: string[] = [];
  const serverExists = new Map<string, Promise<boolean>>();
  const out: ZkOp[] = [];

  const goneOnServer = (p: string): boolean => removed.some((r) => r === p || isUnder(p, r));
  const knownToExist = (p: string): boolean => p === root || reader.known?.(p) === true;
  const exists = async (p: string): Promise<boolean> => {
    const planned = overlay.get(p);
    if (planned !== undefined) return planned;
    if (p === root) return true;
    if (goneOnServer(p)) return false;
    if (knownToExist(p)) return true;
    let cached = serverExists.get(p);
    if (!cached) serverExists.set(p, (cached = reader.exists(p)));
    return cached;
  };
  const createAncestors = async (p: string): Promise<void> => {
    // A node exists only under existing parents (on the server and in the overlay alike): an
    // existing parent answers for every ancestor with one read.
    if (await exists(parentOf(p))) return;
    const ancestors = ancestorsBelow(root, p);
    const present = await Promise.all(ancestors.map(exists));
    ancestors.forEach((a, i) => {
      if (present[i]) return;
      out.push({ type: "create", path: a, data: EMPTY, fromRead: true });
      overlay.set(a, true);
    });
  };
  /** Every existing node strictly below `p` (server and overlay), deepest first. */
  const descendants = async (p: string): Promise<string[]> => {
    const found = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      const names = await reader.getChildren(dir);
      await Promise.all(
        names.map(async (n) => {
          const child = dir === "/" ? `/${n}` : `${dir}/${n}`;
          found.add(child);
          await walk(child);
        }),
      );
    };
    if (!goneOnServer(p)) await walk(p);
    for (const [q, there] of overlay) if (there && isUnder(q, p)) found.add(q);
    const live: string[] = [];
    for (const q of found) if (await exists(q)) live.push(q);
    const depth = (s: string): number => s.split("/").length;
    return live.sort((a, b) => depth(b) - depth(a) || (a < b ? 1 : a > b ? -1 : 0));
  };

  // The loop below decides op by op, in order; its reads are issued up front, all at once (one
  // round), so ZooKeeper answers them pipelined instead of one round trip per op.
  const prefetch = (p: string): void => {
    if (knownToExist(p) || serverExists.has(p)) return;
    const read = reader.exists(p);
    read.catch(() => undefined); // awaited (and its failure seen) in the loop, if needed
    serverExists.set(p, read);
  };
  /** `p` and, should it be missing, the ancestors the loop would then look at: up to the first known one. */
  const prefetchWithAncestors = (p: string): void => {
    for (let q = p; !knownToExist(q); q = parentOf(q)) prefetch(q);
  };
  for (const op of ops) {
    const path = abs(op.path);
    if (op.kind === "delete") prefetch(path);
    // An unversioned set of a missing node becomes a create, which needs its parents.
    if (op.kind === "set" && op.version === undefined) prefetchWithAncestors(path);
    if (op.kind === "create") prefetchWithAncestors(parentOf(path));
  }

  for (const op of ops) {
    const path = abs(op.path);
    switch (op.kind) {
      case "check":
        out.push({ type: "check", path, version: op.version, fromRead: false });
        break;
      case "create":
        await createAncestors(path);
        out.push({ type: "create", path, data: Buffer.from(op.data), fromRead: false });
        overlay.set(path, true);
        break;
      case "set":
        if (op.version !== undefined) {
          // The node must exist at that version; ZooKeeper answers NO_NODE or BAD_VERSION.
          out.push({ type: "setData", path, data: Buffer.from(op.data), version: op.version, fromRead: false });
        } else if (await exists(path)) {
          out.push({ type: "setData", path, data: Buffer.from(op.data), version: -1, fromRead: true });
        } else {
          await createAncestors(path);
          out.push({ type: "create", path, data: Buffer.from(op.data), fromRead: true });
          overlay.set(path, true);
        }
        break;
      case "delete": {
        if (!(await exists(path))) break;
        for (const d of await descendants(path)) {
          out.push({ type: "remove", path: d, fromRead: true });
          overlay.set(d, false);
        }
        out.push({ type: "remove", path, fromRead: true });
        overlay.set(path, false);
        removed.push(path);
        break;
      }
    }
  }
  return out;
}

/**
 * Whole subtrees for the migration and its rollback: read one (children level by level, values
 * with `getMany`), turn it into copy or delete ops, and cut ops into multis that stay under a
 * byte budget (a ZooKeeper request is bounded by jute.maxbuffer, 1 MiB, paths included).
 */
import type { Persister, PersisterOp } from "../ports.js";
import { chunks, getMany } from "./read-many.js";

/** One stored node: its full path and value. */
export interface TreeNode {
  readonly path: string;
  readonly data: Uint8Array;
}

/** Values read per `getMany` (ZooKeeper: one multiRead per 128 paths, so a few requests each). */
const READ_SLICE = 512;

/**
 * Bytes counted per op on top of its path and value: op header, version, ACL, and a store root
 * prefix of up to 75 bytes (ZooKeeper: a create costs 52 + |root| + 1 + |path| + |value| on the
 * wire). A store whose root is longer lowers its `maxMultiBytes` to match (zookeeper-persister.ts).
 */
export const OP_OVERHEAD_BYTES = 128;

const utf8 = new TextEncoder();

/** A path's length as sent: UTF-8 bytes. */
function pathBytes(path: string): number {
  // ASCII (every path Corral writes but a non-ASCII service or task name) needs no encoding.
  return /^[\x00-\x7f]*$/.test(path) ? path.length : utf8.encode(path).byteLength;
}

/**
 * Every node of the subtree at `path`, parents before children (level by level); [] when the
 * node is missing. A node that vanishes while it is read is left out.
 */
export async function readTree(persister: Persister, path: string): Promise<TreeNode[]> {
  const out: TreeNode[] = [];
  let level = [path];
  while (level.length > 0) {
    const [values, listed] = await Promise.all([
      readValues(persister, level),
      Promise.all(level.map((p) => persister.children(p))),
    ]);
    level.forEach((p, i) => {
      const v = values[i];
      if (v) out.push({ path: p, data: v.data });
    });
    level = level.flatMap((p, i) => (values[i] ? listed[i]!.map((name) => `${p}/${name}`) : []));
  }
  return out;
}

async function readValues(persister: Persister, paths: readonly string[]): ReturnType<typeof getMany> {
  const slices = await Promise.all(chunks(paths, READ_SLICE).map((slice) => getMany(persister, slice)));
  return slices.flat();
}

/** `nodes` (under `from`) set again under `to`, parents first: values byte for byte. */
export function copyOps(nodes: readonly TreeNode[], from: string, to: string): PersisterOp[] {
  return nodes.map((n) => ({ kind: "set", path: to + n.path.slice(from.length), data: n.data }));
}

/**
 * Deletes of `nodes` one by one, children before parents: each delete removes one node, so the
 * ops can be cut into multis of any size (a recursive delete of a big subtree could not).
 */
export function deleteEachOps(nodes: readonly TreeNode[]): PersisterOp[] {
  return [...nodes].reverse().map((n) => ({ kind: "delete", path: n.path }));
}

/** What an op adds to a request: path and value plus a fixed overhead (a delete counts one node). */
export function opBytes(op: PersisterOp): number {
  const data = op.kind === "set" || op.kind === "create" ? op.data.byteLength : 0;
  return OP_OVERHEAD_BYTES + pathBytes(op.path) + data;
}

/** What removing `nodes` (a recursive delete of their top) adds to a request. */
export function treeDeleteBytes(nodes: readonly TreeNode[]): number {
  return nodes.reduce((sum, n) => sum + OP_OVERHEAD_BYTES + pathBytes(n.path), 0);
}

/** `ops` in order, cut into multis of at most `maxBytes` each (an op larger than that alone). */
export function packOps(ops: readonly PersisterOp[], maxBytes: number): PersisterOp[][] {
  const out: PersisterOp[][] = [];
  let current: PersisterOp[] = [];
  let bytes = 0;
  for (const op of ops) {
    const size = opBytes(op);
    if (current.length > 0 && bytes + size > maxBytes) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(op);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * The deletion of the subtrees at `paths`, in order, as multis the store takes: one multi of
 * recursive deletes when it has no limit (`maxMultiBytes`), else one delete per node, children
 * first, cut to its budget (a recursive delete of a big subtree may not fit one ZooKeeper request).
 */
export async function wipeOpsBatches(persister: Persister, paths: readonly string[]): Promise<PersisterOp[][]> {
  if (paths.length === 0) return [];
  const max = persister.maxMultiBytes;
  if (max === undefined) return [paths.map((path): PersisterOp => ({ kind: "delete", path }))];
  const trees = await Promise.all(paths.map((path) => readTree(persister, path)));
  return packOps(trees.flatMap((tree) => deleteEachOps(tree)), max);
}

/** Writes `ops` in order, in multis of at most `maxBytes`. */
export async function writePacked(persister: Persister, ops: readonly PersisterOp[], maxBytes: number): Promise<void> {
  for (const multi of packOps(ops, maxBytes)) await persister.multi(multi);
}

/**
 * In-memory `Persister`: the reference semantics every other store (SQLite, ZooKeeper) must
 * match, checked by `test/contract/persister-contract.ts`.
 *
 * The tree is immutable with structural sharing: a multi folds its ops over the current root,
 * producing a new root only if every op succeeds, so all-or-nothing needs no undo log and later
 * ops of a multi see the effects of earlier ones.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { Persister, PersisterOp, Versioned } from "../../engine/ports.js";

export interface MemoryPersisterOptions {
  /** Largest value accepted by set/create, in bytes. @default 1_048_576 (1 MiB, ZooKeeper's jute.maxbuffer) */
  readonly maxValueBytes?: number;
}

/** 1 MiB. */
export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

interface Node {
  readonly data: Uint8Array;
  readonly version: number;
  readonly children: ReadonlyMap<string, Node>;
}

const EMPTY = new Uint8Array(0);

function leaf(data: Uint8Array, children: ReadonlyMap<string, Node> = new Map()): Node {
  return { data, version: 0, children };
}

/**
 * Splits a relative path ("a/b/c") into segments. Throws invalid_argument for an empty path, a
 * leading or trailing "/", an empty segment, "." / "..", or a NUL character.
 */
export function parsePersisterPath(path: string): string[] {
  const segments = path.split("/");
  const bad =
    path.length === 0 ||
    path.includes("\0") ||
    segments.some((s) => s === "" || s === "." || s === "..");
  if (bad) {
    throw SchedulerError.invalid([
      {
        field: "path",
        reason: `malformed path '${path}': want 'a/b/c', no leading or trailing '/'`,
      },
    ]);
  }
  return segments;
}

function lookup(root: Node, segments: readonly string[]): Node | undefined {
  let node: Node | undefined = root;
  for (const s of segments) node = node?.children.get(s);
  return node;
}

/** Rebuilds the path to `segments` with `fn`'s result at the end (undefined = remove). Missing parents become empty nodes. */
function updateAt(
  node: Node,
  segments: readonly string[],
  i: number,
  fn: (n: Node | undefined) => Node | undefined,
): Node {
  const name = segments[i]!;
  const child = node.children.get(name);
  const next =
    i === segments.length - 1 ? fn(child) : updateAt(child ?? leaf(EMPTY), segments, i + 1, fn);
  if (next === child) return node;
  const children = new Map(node.children);
  if (next === undefined) children.delete(name);
  else children.set(name, next);
  return { ...node, children };
}

/** The reference `Persister`: a versioned tree in memory, lost on restart (reuse the instance to "restart"). */
export class MemoryPersister implements Persister {
  private root: Node = leaf(EMPTY);
  private closed = false;
  private readonly maxValueBytes: number;

  constructor(options: MemoryPersisterOptions = {}) {
    this.maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  async get(path: string): Promise<Versioned | undefined> {
    this.ensureOpen();
    const node = lookup(this.root, parsePersisterPath(path));
    return node && { data: node.data.slice(), version: node.version };
  }

  async children(path: string): Promise<string[]> {
    this.ensureOpen();
    const node = lookup(this.root, parsePersisterPath(path));
    return node ? [...node.children.keys()].sort() : [];
  }

  async multi(ops: readonly PersisterOp[]): Promise<void> {
    this.ensureOpen();
    let root = this.root;
    ops.forEach((op, index) => {
      root = this.apply(root, op, `op ${index} (${op.kind} ${op.path})`);
    });
    this.root = root;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private ensureOpen(): void {
    if (this.closed) throw new SchedulerError("unavailable", "memory persister is closed");
  }

  private apply(root: Node, op: PersisterOp, what: string): Node {
    const segments = parsePersisterPath(op.path);
    const existing = lookup(root, segments);
    switch (op.kind) {
      case "check":
        if (!existing) throw new SchedulerError("not_found", `${what}: node does not exist`);
        if (existing.version !== op.version) throw conflict(what, op.version, existing.version);
        return root;
      case "delete":
        return existing ? updateAt(root, segments, 0, () => undefined) : root;
      case "create": {
        if (existing) throw new SchedulerError("already_exists", `${what}: node exists`);
        const data = this.copyValue(op.data, what);
        return updateAt(root, segments, 0, () => leaf(data));
      }
      case "set": {
        if (op.version !== undefined && !existing) {
          throw new SchedulerError("not_found", `${what}: node does not exist`);
        }
        if (op.version !== undefined && existing && existing.version !== op.version) {
          throw conflict(what, op.version, existing.version);
        }
        const data = this.copyValue(op.data, what);
        return updateAt(root, segments, 0, (n) =>
          n ? { ...n, data, version: n.version + 1 } : leaf(data),
        );
      }
    }
  }

  private copyValue(data: Uint8Array, what: string): Uint8Array {
    if (data.byteLength > this.maxValueBytes) {
      throw SchedulerError.invalid([
        {
          field: "data",
          reason: `${what}: value is ${data.byteLength} bytes, limit is ${this.maxValueBytes}`,
        },
      ]);
    }
    return data.slice();
  }
}

function conflict(what: string, expected: number, actual: number): SchedulerError {
  return new SchedulerError(
    "aborted",
    `${what}: expected version ${expected}, node is at ${actual}`,
  );
}

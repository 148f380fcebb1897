/**
 * In-memory `Persister`: the reference semantics every other store (SQLite, ZooKeeper) must
 * match, checked by `test/contract/persister-contract.ts`.
 *
 * The tree is mutable and updated in place, so a write costs O(path depth) whatever the size
 * of its directory. A multi applies its ops one by one (later ops see earlier ones) and
 * records how to undo each; if an op fails, the applied ones are undone in reverse order, so
 * the multi is all-or-nothing. Every op checks everything before it changes anything.
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
  data: Uint8Array;
  version: number;
  /** Absent while the node has no children (most nodes are leaves). */
  children: Map<string, Node> | undefined;
}

const EMPTY = new Uint8Array(0);

function leaf(data: Uint8Array): Node {
  return { data, version: 0, children: undefined };
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

function lookup(root: Node, segments: readonly string[], depth = segments.length): Node | undefined {
  let node: Node | undefined = root;
  for (let i = 0; i < depth && node; i++) node = node.children?.get(segments[i]!);
  return node;
}

/**
 * `name` as an internalized string (property keys are): a new node's key then shares one
 * string with every equal name ("TaskInfo" under each task) and pins no slice of the op's path.
 */
function ownName(name: string): string {
  const holder = Object.create(null) as Record<string, true>;
  holder[name] = true;
  return Object.keys(holder)[0]!;
}

function attach(parent: Node, name: string, child: Node): void {
  (parent.children ??= new Map()).set(name, child);
}

function detach(parent: Node, name: string): void {
  parent.children?.delete(name);
  if (parent.children?.size === 0) parent.children = undefined;
}

type Undo = () => void;

/** The reference `Persister`: a versioned tree in memory, lost on restart (reuse the instance to "restart"). */
export class MemoryPersister implements Persister {
  private readonly root: Node = leaf(EMPTY);
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

  async getMany(paths: readonly string[]): Promise<(Versioned | undefined)[]> {
    this.ensureOpen();
    const parsed = paths.map(parsePersisterPath);
    return parsed.map((segments) => {
      const node = lookup(this.root, segments);
      return node && { data: node.data.slice(), version: node.version };
    });
  }

  async children(path: string): Promise<string[]> {
    this.ensureOpen();
    const node = lookup(this.root, parsePersisterPath(path));
    return node?.children ? [...node.children.keys()].sort() : [];
  }

  async multi(ops: readonly PersisterOp[]): Promise<void> {
    this.ensureOpen();
    const undo: Undo[] = [];
    try {
      ops.forEach((op, index) => {
        const u = this.apply(op, `op ${index} (${op.kind} ${op.path})`);
        if (u) undo.push(u);
      });
    } catch (err) {
      for (let i = undo.length - 1; i >= 0; i--) undo[i]!();
      throw err;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private ensureOpen(): void {
    if (this.closed) throw new SchedulerError("unavailable", "memory persister is closed");
  }

  /** Applies one op in place after checking it; returns how to undo it (undefined: nothing changed). */
  private apply(op: PersisterOp, what: string): Undo | undefined {
    const segments = parsePersisterPath(op.path);
    const existing = lookup(this.root, segments);
    switch (op.kind) {
      case "check":
        if (!existing) throw new SchedulerError("not_found", `${what}: node does not exist`);
        if (existing.version !== op.version) throw conflict(what, op.version, existing.version);
        return undefined;
      case "delete": {
        if (!existing) return undefined;
        const parent = lookup(this.root, segments, segments.length - 1)!;
        const name = segments[segments.length - 1]!;
        detach(parent, name);
        return () => attach(parent, name, existing);
      }
      case "create": {
        if (existing) throw new SchedulerError("already_exists", `${what}: node exists`);
        return this.insert(segments, this.copyValue(op.data, what));
      }
      case "set": {
        if (op.version !== undefined && !existing) {
          throw new SchedulerError("not_found", `${what}: node does not exist`);
        }
        if (op.version !== undefined && existing && existing.version !== op.version) {
          throw conflict(what, op.version, existing.version);
        }
        const data = this.copyValue(op.data, what);
        if (!existing) return this.insert(segments, data);
        const { data: oldData, version: oldVersion } = existing;
        existing.data = data;
        existing.version = oldVersion + 1;
        return () => {
          existing.data = oldData;
          existing.version = oldVersion;
        };
      }
    }
  }

  /** Adds a new node at `segments` (which must not exist), creating missing parents empty. */
  private insert(segments: readonly string[], data: Uint8Array): Undo {
    let parent = this.root;
    let i = 0;
    for (; i < segments.length - 1; i++) {
      const next = parent.children?.get(segments[i]!);
      if (!next) break;
      parent = next;
    }
    // Build the missing chain detached, then hang it on the deepest existing node.
    const top = ownName(segments[i]!);
    const chain = i === segments.length - 1 ? leaf(data) : leaf(EMPTY);
    let node = chain;
    for (let j = i + 1; j < segments.length; j++) {
      const child = j === segments.length - 1 ? leaf(data) : leaf(EMPTY);
      attach(node, ownName(segments[j]!), child);
      node = child;
    }
    attach(parent, top, chain);
    return () => detach(parent, top);
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

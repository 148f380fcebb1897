/**
 * An event log in the store (event-log.ts), under its root node (store/layout.ts:
 * `UninstallEvents`, `PlanEvents`): `<root>/<first sequence, 20 digits>` → the batch of events
 * written together (consecutive sequence numbers), as its format encodes it (the uninstall log
 * writes one event per node); the root node's own value is the last sequence number given out,
 * set by every write, so numbers never go backwards across restarts even when retention deleted
 * every event. A node is deleted once retention dropped all of its events. Other children of the
 * root (not 20 digits) are the log's owner's.
 */
import type { Persister, PersisterOp } from "./ports.js";
import { decodeJson, encodeJson } from "./store/codec.js";
import { getMany } from "./store/read-many.js";
import { UNINSTALL_EVENT_DIGITS } from "./store/layout.js";
import type { SequencedEvent } from "./event-window.js";

const EVENT_NAME = new RegExp(`^[0-9]{${UNINSTALL_EVENT_DIGITS}}$`);
const DECIMAL = /^[0-9]{1,20}$/;

/** How one log's events are stored. `D` is an event as read, before `complete`. */
export interface EventFormat<E extends SequencedEvent, D = E> {
  readonly root: string;
  /** One node's value: a batch of events with consecutive sequence numbers. */
  encode(events: readonly E[]): Uint8Array;
  /** A node's events, or undefined when it is not a batch from `first` on. */
  decode(data: Uint8Array, first: bigint): readonly D[] | undefined;
  /** The events read, in sequence order, as the log holds them (all of them, expired ones too). */
  complete(decoded: readonly D[]): E[];
}

/** A stored node: the sequence numbers of its first and last event. */
export interface StoredNode {
  readonly first: bigint;
  readonly last: bigint;
}

export interface StoredLog<E> {
  /** The events of the newest `maxEvents` nodes not expired, in sequence order (maybe more than `maxEvents`). */
  readonly retained: readonly E[];
  /** Their nodes, in order. */
  readonly nodes: readonly StoredNode[];
  /** Nodes (by first sequence) beyond retention, expired or unreadable: to delete. */
  readonly unpurged: readonly bigint[];
  /** The last sequence number given out: the larger of the marker and the highest stored event. */
  readonly last: bigint;
}

export function eventPath(root: string, sequence: bigint): string {
  return `${root}/${sequence.toString().padStart(UNINSTALL_EVENT_DIGITS, "0")}`;
}

/**
 * Reads the stored log: only the newest `maxEvents` nodes are read, in one `getMany` (ZooKeeper:
 * multiReads of ≤ 128 nodes); older, unreadable and expired nodes (whose last event's `timeMs` is
 * before `oldestMs`) are returned as unpurged.
 */
export async function readStoredLog<E extends SequencedEvent, D>(
  persister: Persister,
  format: EventFormat<E, D>,
  maxEvents: number,
  oldestMs: number,
): Promise<StoredLog<E>> {
  const [children, marker] = await Promise.all([persister.children(format.root), persister.get(format.root)]);
  const sequences = children.filter((c) => EVENT_NAME.test(c)).map((c) => BigInt(c));
  sequences.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const keep = sequences.slice(Math.max(0, sequences.length - maxEvents));
  const unpurged = sequences.slice(0, sequences.length - keep.length);
  const values = await getMany(persister, keep.map((s) => eventPath(format.root, s)));
  const decoded: D[] = [];
  const read: { first: bigint; count: number }[] = [];
  keep.forEach((first, i) => {
    const data = values[i]?.data;
    const batch = data === undefined ? undefined : format.decode(data, first);
    if (batch === undefined || batch.length === 0) unpurged.push(first);
    else {
      decoded.push(...batch);
      read.push({ first, count: batch.length });
    }
  });
  // Expired events may still tell later ones something (uninstall: their removal).
  const events = format.complete(decoded);
  const retained: E[] = [];
  const nodes: StoredNode[] = [];
  let at = 0;
  for (const { first, count } of read) {
    const batch = events.slice(at, at + count);
    at += count;
    if (batch.at(-1)!.timeMs < oldestMs) unpurged.push(first);
    else {
      retained.push(...batch);
      nodes.push({ first, last: batch.at(-1)!.sequence });
    }
  }
  // A multi may interleave with another one and leave a lower marker; the newest stored node
  // then still holds the higher number, because retention never deletes the newest event.
  const highest = events.at(-1)?.sequence ?? 0n;
  const newest = sequences.at(-1) ?? 0n;
  const stored = marker === undefined ? 0n : decodeMarker(marker.data);
  const last = [highest, newest, stored].reduce((a, b) => (b > a ? b : a));
  return { retained, nodes, unpurged, last };
}

/** The ops that store `events` (one node), record the last one's sequence number, and delete the nodes `purge`. */
export function eventWriteOps<E extends SequencedEvent>(format: EventFormat<E, unknown>, events: readonly E[], purge: readonly bigint[]): PersisterOp[] {
  // `set`, not `create`: if a multi reported as failed was applied after all (a ZooKeeper
  // connection loss), the sequence number is reused and the next write overwrites it.
  const first = events[0]!.sequence;
  return [
    { kind: "set", path: format.root, data: encodeJson(events.at(-1)!.sequence.toString()) },
    { kind: "set", path: eventPath(format.root, first), data: format.encode(events) },
    ...purge.map((s): PersisterOp => ({ kind: "delete", path: eventPath(format.root, s) })),
  ];
}

/** The last sequence number stored on the root node (0 when unreadable). */
function decodeMarker(data: Uint8Array): bigint {
  try {
    const value: unknown = decodeJson(data);
    return typeof value === "string" && DECIMAL.test(value) ? BigInt(value) : 0n;
  } catch {
    return 0n;
  }
}

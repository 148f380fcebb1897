/**
 * An event log in the store (event-log.ts), under its root node (store/layout.ts:
 * `UninstallEvents`, `PlanEvents`): `<root>/<sequence, 20 digits>` → the event, as its format
 * encodes it; the root node's own value is the last sequence number given out, set by every
 * write, so numbers never go backwards across restarts even when retention deleted every event.
 * Other children of the root (not 20 digits) are the log's owner's.
 */
import type { Persister, PersisterOp } from "./ports.js";
import { decodeJson, encodeJson } from "./store/codec.js";
import { READ_CONCURRENCY, mapLimit } from "./store/concurrency.js";
import { UNINSTALL_EVENT_DIGITS } from "./store/layout.js";
import type { SequencedEvent } from "./event-window.js";

const EVENT_NAME = new RegExp(`^[0-9]{${UNINSTALL_EVENT_DIGITS}}$`);
const DECIMAL = /^[0-9]{1,20}$/;

/** How one log's events are stored. `D` is an event as read, before `complete`. */
export interface EventFormat<E extends SequencedEvent, D = E> {
  readonly root: string;
  encode(event: E): Uint8Array;
  /** The stored event, or undefined when it is not one (or not the one its path names). */
  decode(data: Uint8Array, sequence: bigint): D | undefined;
  /** The events read, in sequence order, as the log holds them (all of them, expired ones too). */
  complete(decoded: readonly D[]): E[];
}

export interface StoredLog<E> {
  /** The newest events within retention, in sequence order. */
  readonly retained: readonly E[];
  /** Stored events beyond retention or unreadable: to delete. */
  readonly unpurged: readonly bigint[];
  /** The last sequence number given out: the larger of the marker and the highest stored event. */
  readonly last: bigint;
}

export function eventPath(root: string, sequence: bigint): string {
  return `${root}/${sequence.toString().padStart(UNINSTALL_EVENT_DIGITS, "0")}`;
}

/**
 * Reads the stored log: only the newest `maxEvents` are read (64 reads in flight, see
 * store/concurrency.ts); older, expired (`timeMs` before `oldestMs`) and unreadable ones are
 * returned as unpurged.
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
  const values = await mapLimit(keep, READ_CONCURRENCY, (s) => persister.get(eventPath(format.root, s)));
  const decoded: D[] = [];
  keep.forEach((sequence, i) => {
    const data = values[i]?.data;
    const event = data === undefined ? undefined : format.decode(data, sequence);
    if (event === undefined) unpurged.push(sequence);
    else decoded.push(event);
  });
  // Expired events may still tell later ones something (uninstall: their removal).
  const retained: E[] = [];
  for (const event of format.complete(decoded)) {
    if (event.timeMs < oldestMs) unpurged.push(event.sequence);
    else retained.push(event);
  }
  // A multi may interleave with another one and leave a lower marker; the highest stored event
  // then still holds the higher number, because retention never deletes the newest event.
  const highest = sequences.at(-1) ?? 0n;
  const stored = marker === undefined ? 0n : decodeMarker(marker.data);
  return { retained, unpurged, last: highest > stored ? highest : stored };
}

/** The ops that store `events`, record the last one's sequence number, and delete `purge`. */
export function eventWriteOps<E extends SequencedEvent>(format: EventFormat<E, unknown>, events: readonly E[], purge: readonly bigint[]): PersisterOp[] {
  // `set`, not `create`: if a multi reported as failed was applied after all (a ZooKeeper
  // connection loss), the sequence number is reused and the next write overwrites it.
  const last = events.at(-1);
  return [
    ...(last === undefined ? [] : [{ kind: "set" as const, path: format.root, data: encodeJson(last.sequence.toString()) }]),
    ...events.map((e): PersisterOp => ({ kind: "set", path: eventPath(format.root, e.sequence), data: format.encode(e) })),
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

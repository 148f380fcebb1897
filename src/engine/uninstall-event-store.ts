/**
 * The uninstall event log in the store (store/layout.ts): `UninstallEvents/<sequence, 20
 * digits>` → the event as JSON; the `UninstallEvents` node's own value is the last sequence
 * number given out, set by every write, so numbers never go backwards across restarts even when
 * retention deleted every event.
 */
import type { Persister, PersisterOp } from "./ports.js";
import { encodeJson } from "./store/codec.js";
import { READ_CONCURRENCY, mapLimit } from "./store/concurrency.js";
import { UNINSTALL_EVENTS, UNINSTALL_EVENT_DIGITS, uninstallEventPath } from "./store/layout.js";
import { assignRemovalIds, decodeEvent, decodeMarker, encodeEvent } from "./uninstall-event-codec.js";
import type { DecodedEvent, LoggedEvent } from "./uninstall-event-codec.js";

const EVENT_NAME = new RegExp(`^[0-9]{${UNINSTALL_EVENT_DIGITS}}$`);

export interface StoredLog {
  /** The newest events within retention, in sequence order. */
  readonly retained: readonly LoggedEvent[];
  /** Stored events beyond retention or unreadable: to delete. */
  readonly unpurged: readonly bigint[];
  /** The last sequence number given out: the larger of the marker and the highest stored event. */
  readonly last: bigint;
}

/**
 * Reads the stored log: only the newest `maxEvents` are read (64 reads in flight, see
 * store/concurrency.ts); older, expired (`timeMs` before `oldestMs`) and unreadable ones are
 * returned as unpurged.
 */
export async function readStoredLog(persister: Persister, maxEvents: number, oldestMs: number): Promise<StoredLog> {
  const [children, marker] = await Promise.all([persister.children(UNINSTALL_EVENTS), persister.get(UNINSTALL_EVENTS)]);
  const sequences = children.filter((c) => EVENT_NAME.test(c)).map((c) => BigInt(c));
  sequences.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const keep = sequences.slice(Math.max(0, sequences.length - maxEvents));
  const unpurged = sequences.slice(0, sequences.length - keep.length);
  const values = await mapLimit(keep, READ_CONCURRENCY, (s) => persister.get(uninstallEventPath(s)));
  const decoded: DecodedEvent[] = [];
  keep.forEach((sequence, i) => {
    const data = values[i]?.data;
    const event = data === undefined ? undefined : decodeEvent(data, sequence);
    if (event === undefined) unpurged.push(sequence);
    else decoded.push(event);
  });
  // Expired events still tell later ones which removal they belong to.
  const retained: LoggedEvent[] = [];
  for (const event of assignRemovalIds(decoded)) {
    if (event.timeMs < oldestMs) unpurged.push(event.sequence);
    else retained.push(event);
  }
  // A multi may interleave with another one and leave a lower marker; the highest stored event
  // then still holds the higher number, because retention never deletes the newest event.
  const highest = sequences.at(-1) ?? 0n;
  const stored = marker === undefined ? 0n : decodeMarker(marker.data);
  return { retained, unpurged, last: highest > stored ? highest : stored };
}

/** The ops that store `event`, record its sequence number as the last one, and delete `purge`. */
export function eventWriteOps(event: LoggedEvent, purge: readonly bigint[]): PersisterOp[] {
  // `set`, not `create`: if a multi reported as failed was applied after all (a ZooKeeper
  // connection loss), the sequence number is reused and the next write overwrites it.
  return [
    { kind: "set", path: UNINSTALL_EVENTS, data: encodeJson(event.sequence.toString()) },
    { kind: "set", path: uninstallEventPath(event.sequence), data: encodeEvent(event) },
    ...purge.map((s): PersisterOp => ({ kind: "delete", path: uninstallEventPath(s) })),
  ];
}

/** Wipe (whole-scheduler uninstall): the ops that delete every stored event and the sequence number. */
export function wipeLogOps(): PersisterOp[] {
  return [{ kind: "delete", path: UNINSTALL_EVENTS }];
}

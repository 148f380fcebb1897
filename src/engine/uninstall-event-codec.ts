/**
 * How uninstall events are stored (`UninstallEvents/<sequence, 20 digits>` → JSON, bigints as
 * decimal strings) and read back, including stores written before events carried their
 * removal id: `assignRemovalIds` derives it when loading.
 */
import type { UninstallEventKind, UninstallEventView } from "./admin-api.js";
import { decodeJson, encodeJson } from "./store/codec.js";

const KINDS: ReadonlySet<string> = new Set<UninstallEventKind>(["STARTED", "PROGRESS", "COMPLETED", "FORCED"]);
const DECIMAL = /^[0-9]{1,20}$/;

export function isTerminal(event: { readonly kind: UninstallEventKind }): boolean {
  return event.kind === "COMPLETED" || event.kind === "FORCED";
}

/** An event of the log: its removal id is always known (0 when it cannot be). */
export type LoggedEvent = UninstallEventView & { readonly removalId: bigint };

/** An event as stored: JSON has no bigint, so the sequence number and removal id are strings. */
type StoredEvent = Omit<UninstallEventView, "sequence" | "removalId"> & { readonly sequence: string; readonly removalId: string };

/** A stored event as read: `removalId` is undefined when it was stored before removal ids. */
export type DecodedEvent = Omit<UninstallEventView, "removalId"> & { readonly removalId: bigint | undefined };

export function encodeEvent(event: LoggedEvent): Uint8Array {
  const stored: StoredEvent = { ...event, sequence: event.sequence.toString(), removalId: event.removalId.toString() };
  return encodeJson(stored);
}

/** The stored event, or undefined when it is not one (or not the one its path names). */
export function decodeEvent(data: Uint8Array, sequence: bigint): DecodedEvent | undefined {
  let raw: Partial<Record<keyof StoredEvent, unknown>>;
  try {
    raw = decodeJson(data);
  } catch {
    return undefined;
  }
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  const ok =
    typeof raw === "object" &&
    raw !== null &&
    raw.sequence === sequence.toString() &&
    (raw.removalId === undefined || (typeof raw.removalId === "string" && DECIMAL.test(raw.removalId) && BigInt(raw.removalId) <= sequence)) &&
    typeof raw.name === "string" &&
    typeof raw.kind === "string" &&
    KINDS.has(raw.kind) &&
    typeof raw.timeMs === "number" &&
    Number.isFinite(raw.timeMs) &&
    count(raw.stepsComplete) &&
    count(raw.stepsTotal) &&
    Array.isArray(raw.leftovers) &&
    raw.leftovers.every((l) => typeof l === "string") &&
    typeof raw.message === "string";
  if (!ok) return undefined;
  return {
    sequence,
    removalId: raw.removalId === undefined ? undefined : BigInt(raw.removalId as string),
    name: raw.name as string,
    kind: raw.kind as UninstallEventKind,
    timeMs: raw.timeMs as number,
    stepsComplete: raw.stepsComplete as number,
    stepsTotal: raw.stepsTotal as number,
    leftovers: Object.freeze([...(raw.leftovers as string[])]),
    message: raw.message as string,
  };
}

/**
 * Gives every event its removal id, in sequence order: a STARTED event is its own removal; an
 * event stored with an id keeps it; an event stored before removal ids belongs to the latest
 * STARTED of its name at or before it, unless a COMPLETED or FORCED of that name came in
 * between (its STARTED is gone then: 0, unknown), and so does one whose STARTED was not read.
 */
export function assignRemovalIds(events: readonly DecodedEvent[]): LoggedEvent[] {
  const current = new Map<string, bigint>();
  return events.map((e) => {
    const removalId = e.kind === "STARTED" ? e.sequence : (e.removalId ?? current.get(e.name) ?? 0n);
    if (isTerminal(e)) current.delete(e.name);
    else current.set(e.name, removalId);
    return Object.freeze({ ...e, removalId });
  });
}

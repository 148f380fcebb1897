/**
 * What one WatchUninstall watch of names wants of the uninstall event log (uninstall-events.ts
 * `watch`): which removal of each name it follows, and when it ends (every named service's last
 * delivered event is COMPLETED or FORCED).
 */
import { SchedulerError, abbreviateList } from "../domain/errors.js";
import type { WatchFilter } from "./event-watchers.js";
import type { RetainedEvents } from "./event-window.js";
import { isTerminal } from "./uninstall-event-codec.js";
import type { LoggedEvent } from "./uninstall-event-codec.js";

/**
 * The filter of a watch of `names` (empty: every service, never ending) from `after`, and the
 * sequence its replay starts after. Fails with not_found for a name that is no service
 * (`isKnown`) and has no retained event.
 */
export function uninstallFilter(
  events: RetainedEvents<LoggedEvent>,
  names: readonly string[],
  after: bigint,
  isKnown: (name: string) => boolean,
): { filter: WatchFilter<LoggedEvent>; start: bigint } {
  if (names.length === 0) return { filter: { names: undefined }, start: after };
  const wanted = new Set(names);
  const unknown = [...wanted].filter((n) => !isKnown(n) && events.lastOf(n) === undefined);
  if (unknown.length > 0) {
    throw new SchedulerError("not_found", `no service and no uninstall events for: ${abbreviateList(unknown)}`);
  }
  /** Named services whose last delivered event is not COMPLETED/FORCED; the watch ends when empty. */
  const open = new Set<string>();
  for (const n of wanted) {
    const last = events.lastOf(n);
    const done = last !== undefined && isTerminal(last) && last.sequence <= after && !isKnown(n);
    if (!done) open.add(n);
  }
  let start = after;
  /** Per named service, the first removal id it follows: its events of earlier removals are skipped. */
  let from: Map<string, bigint> | undefined;
  if (after === 0n) {
    const followed = followedRemovals(events, wanted, isKnown);
    if (followed.size > 0) from = followed;
    // Removal ids are sequence numbers: nothing before the lowest one followed is wanted.
    if (followed.size === wanted.size) start = [...followed.values()].reduce((a, b) => (b < a ? b : a)) - 1n;
  }
  const filter: WatchFilter<LoggedEvent> = {
    names: wanted,
    skips: (event) => {
      const first = from?.get(event.name);
      return first !== undefined && event.removalId < first;
    },
    took: (event) => {
      if (isTerminal(event)) open.delete(event.name);
      else open.add(event.name);
    },
    ended: () => open.size === 0,
  };
  return { filter, start };
}

/** For a watch from the start: the removal each name follows, where it is not "every removal". */
function followedRemovals(events: RetainedEvents<LoggedEvent>, names: ReadonlySet<string>, isKnown: (name: string) => boolean): Map<string, bigint> {
  const from = new Map<string, bigint>();
  for (const n of names) {
    const last = events.lastOf(n);
    if (last === undefined) continue; // no retained event: whatever comes
    if (!isTerminal(last)) from.set(n, last.removalId); // in progress
    else if (isKnown(n)) from.set(n, last.sequence + 1n); // put again: its next removal
    else from.set(n, last.removalId); // gone: its latest removal
  }
  for (const [n, id] of from) if (id === 0n) from.delete(n); // unknown removal: every one
  return from;
}

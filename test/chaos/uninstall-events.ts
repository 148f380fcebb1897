/**
 * "WatchUninstall clients see every event exactly once across failovers", checked on what one
 * client saw following every removal from the start (WatchUninstall without names, after 0):
 * sequence numbers strictly increasing without a gap (the store hands them out one by one, and a
 * failed write reuses its number), and every removal that had to complete ends in its terminal
 * event (COMPLETED or FORCED) with nothing after it. Pure, so the checker is tested too.
 */
import { UninstallEventKind } from "../../src/client/index.js";

export interface SeenEvent {
  readonly sequence: bigint;
  readonly name: string;
  readonly kind: UninstallEventKind;
  readonly removalId: bigint;
}

const TERMINAL = new Set([UninstallEventKind.COMPLETED, UninstallEventKind.FORCED]);

/**
 * What is wrong with `events` (in the order received). `mustComplete`: names whose removal was
 * acknowledged and has completed (it is gone from ListServices): their last removal must end in a
 * terminal event.
 */
export function uninstallEventProblems(events: readonly SeenEvent[], mustComplete: Iterable<string>): string[] {
  const problems: string[] = [];
  let previous: bigint | undefined;
  for (const e of events) {
    if (previous !== undefined && e.sequence <= previous) problems.push(`event ${e.sequence} (${e.name} ${UninstallEventKind[e.kind]}) after ${previous}: seen twice or out of order`);
    else if (previous !== undefined && e.sequence !== previous + 1n) problems.push(`events ${previous + 1n}–${e.sequence - 1n} never seen (a gap before ${e.name} ${UninstallEventKind[e.kind]})`);
    previous = previous === undefined || e.sequence > previous ? e.sequence : previous;
  }
  // Per removal: one STARTED first, at most one terminal event, and it is the last.
  const byRemoval = new Map<string, SeenEvent[]>();
  for (const e of events) {
    const key = `${e.name}#${e.removalId}`;
    byRemoval.set(key, [...(byRemoval.get(key) ?? []), e]);
  }
  for (const [key, list] of byRemoval) {
    const terminals = list.filter((e) => TERMINAL.has(e.kind));
    if (terminals.length > 1) problems.push(`removal ${key}: ${terminals.length} terminal events`);
    const t = list.findIndex((e) => TERMINAL.has(e.kind));
    if (t >= 0 && t < list.length - 1) problems.push(`removal ${key}: events after its terminal event`);
    if (list.filter((e) => e.kind === UninstallEventKind.STARTED).length > 1) problems.push(`removal ${key}: STARTED seen twice`);
  }
  for (const name of mustComplete) {
    const last = events.filter((e) => e.name === name).at(-1);
    if (last === undefined) problems.push(`the removal of ${name} completed, but the watcher saw none of its events`);
    else if (!TERMINAL.has(last.kind)) problems.push(`the removal of ${name} completed, but the watcher's last event of it is ${UninstallEventKind[last.kind]}`);
  }
  return problems;
}

/**
 * "No two replicas act as leader at once", checked from what the replicas themselves logged: a
 * replica leads from its "leading" line until its next "stepped down" line or its death (or the
 * end of the run). All replicas run on one machine, so their `time`s share a clock. Pure, so the
 * checker itself is tested (leader-intervals.test.ts).
 */
import type { RoleLine } from "./replica.js";

export interface ReplicaHistory {
  readonly name: string;
  readonly roles: readonly RoleLine[];
  /** When the process was seen dead (ms epoch); undefined while it runs. */
  readonly diedAt: number | undefined;
}

export interface LeaderInterval {
  readonly replica: string;
  readonly from: number;
  /** Step-down, death, or the end of the run. */
  readonly to: number;
}

/** Each replica's leadership intervals; `now` closes the ones still open. */
export function leaderIntervals(history: readonly ReplicaHistory[], now: number): LeaderInterval[] {
  const out: LeaderInterval[] = [];
  for (const h of history) {
    let from: number | undefined;
    for (const line of h.roles) {
      if (line.msg === "leading") from ??= line.time;
      else if (from !== undefined) {
        // "stepped down" ends it; so does "standing by" (a replica that stands by does not lead).
        out.push({ replica: h.name, from, to: line.time });
        from = undefined;
      }
    }
    if (from !== undefined) out.push({ replica: h.name, from, to: h.diedAt ?? now });
  }
  return out.sort((a, b) => a.from - b.from);
}

/** Every pair of intervals of different replicas that overlap, described. */
export function leaderOverlaps(intervals: readonly LeaderInterval[]): string[] {
  const problems: string[] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const a = intervals[i]!;
      const b = intervals[j]!;
      if (a.replica === b.replica) continue;
      if (b.from < a.to && a.from < b.to) {
        problems.push(
          `two leaders at once: replica ${a.replica} led ${iso(a.from)}–${iso(a.to)} and replica ${b.replica} ${iso(b.from)}–${iso(b.to)} (${Math.min(a.to, b.to) - Math.max(a.from, b.from)} ms together)`,
        );
      }
    }
  }
  return problems;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/**
 * Stores what the plan event log recorded (plan-events.ts), one write after the other: each
 * chunk of services' changes — their events and their baselines — is one fenced multi
 * (≤ MAX_CHUNK_BYTES, a service never split), written after the previous one, so events reach
 * watchers in sequence order and a service's stored baseline always matches the events stored
 * with it. The work unit that made the changes does not wait for the write.
 *
 * A failed write is abandoned with every chunk queued behind it (they were diffed on top of it):
 * their services go back to their last stored baselines and are diffed again at the next work
 * unit, so what was not stored is announced once more, never lost.
 */
import type { PlanEventView } from "./admin-api.js";
import type { EventLog } from "./event-log.js";
import type { PlanChange } from "./plan-event-baseline.js";
import type { Logger, PersisterOp } from "./ports.js";
import { PLAN_EVENTS } from "./store/layout.js";
import { escapeServiceName } from "../domain/names.js";

/** The value bytes one multi carries at most (ZooKeeper allows < 1 MiB per request). */
export const MAX_CHUNK_BYTES = 256 * 1024;

/** Where a service's baseline is stored. */
export const BASELINES = `${PLAN_EVENTS}/Seen`;

export function baselinePath(name: string): string {
  return `${BASELINES}/${escapeServiceName(name)}`;
}

/** One service's part of a work unit: its changes, and its new stored baseline (undefined: delete it). */
export interface ServiceRecord {
  readonly name: string;
  readonly changes: readonly PlanChange[];
  readonly baseline: Uint8Array | undefined;
}

interface Chunk {
  readonly events: readonly PlanEventView[];
  readonly ops: PersisterOp[];
  readonly records: readonly ServiceRecord[];
}

export interface WriterDeps {
  readonly log: EventLog<PlanEventView>;
  readonly persist: (ops: readonly PersisterOp[]) => Promise<void>;
  readonly logger: Logger;
  /** A chunk was stored: its services' baselines are the stored ones now. */
  readonly stored: (records: readonly ServiceRecord[]) => void;
  /** A chunk was not stored: these services go back to their stored baselines. */
  readonly lost: (names: readonly string[]) => void;
}

export class PlanEventWriter {
  readonly #queue: Chunk[] = [];
  #writing: Promise<void> | undefined;

  constructor(private readonly deps: WriterDeps) {}

  /** Sequences the records' changes (in order) and queues their writes. */
  write(records: readonly ServiceRecord[]): void {
    let start = 0;
    while (start < records.length) {
      let bytes = 0;
      let end = start;
      while (end < records.length) {
        const size = recordBytes(records[end]!);
        if (end > start && bytes + size > MAX_CHUNK_BYTES) break;
        bytes += size;
        end++;
      }
      this.#queue.push(this.#prepare(records.slice(start, end)));
      start = end;
    }
    this.#writing ??= this.#drain();
  }

  /** Resolves once everything queued so far is stored or given up. */
  async idle(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
  }

  #prepare(records: readonly ServiceRecord[]): Chunk {
    const changes = records.flatMap((r) => r.changes);
    const baselineOps = records.map((r): PersisterOp =>
      r.baseline === undefined ? { kind: "delete", path: baselinePath(r.name) } : { kind: "set", path: baselinePath(r.name), data: r.baseline },
    );
    if (changes.length === 0) return { events: [], ops: baselineOps, records };
    const { events, ops } = this.deps.log.prepare(changes.length, (first, timeMs) =>
      changes.map((c, i) => ({
        sequence: first + BigInt(i),
        name: c.name,
        generation: c.generation,
        plan: c.plan,
        phase: c.phase,
        step: c.step,
        stepId: c.stepId,
        status: c.status,
        message: c.message,
        taskIds: c.taskIds,
        timeMs,
        planStatus: c.planStatus,
      })),
    );
    return { events, ops: [...ops, ...baselineOps], records };
  }

  async #drain(): Promise<void> {
    for (let chunk = this.#queue.shift(); chunk !== undefined; chunk = this.#queue.shift()) {
      try {
        await this.deps.persist(chunk.ops);
      } catch (err) {
        const lost = [chunk, ...this.#queue.splice(0)];
        for (const c of lost) if (c.events.length > 0) this.deps.log.abandon(c.events);
        const names = [...new Set(lost.flatMap((c) => c.records.map((r) => r.name)))];
        this.deps.logger.warn({ err, events: lost.reduce((n, c) => n + c.events.length, 0), services: names.length }, "could not store plan events; they are announced again");
        this.deps.lost(names);
        break;
      }
      if (chunk.events.length > 0) this.deps.log.publish(chunk.events);
      this.deps.stored(chunk.records);
    }
    this.#writing = undefined;
  }
}

/** About what a record's writes weigh: its baseline and ~200 bytes plus the message per event. */
function recordBytes(r: ServiceRecord): number {
  let bytes = r.baseline?.byteLength ?? 0;
  for (const c of r.changes) bytes += 200 + c.message.length + c.taskIds.reduce((n, id) => n + id.length + 3, 0);
  return bytes;
}

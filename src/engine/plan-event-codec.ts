/**
 * How plan events are stored (`PlanEvents/<first sequence, 20 digits>` → the events written
 * together, as JSON rows) and read back; the format of the plan event log (plan-events.ts).
 */
import type { Status } from "../domain/plan/status.js";
import type { PlanEventView } from "./admin-api.js";
import type { EventFormat } from "./event-log-store.js";
import { decodeJson, encodeJson } from "./store/codec.js";
import { PLAN_EVENTS } from "./store/layout.js";

const STATUSES: ReadonlySet<string> = new Set<Status>([
  "ERROR",
  "WAITING",
  "PENDING",
  "PREPARED",
  "STARTING",
  "STARTED",
  "COMPLETE",
  "IN_PROGRESS",
  "DELAYED",
]);

/**
 * A batch as stored: its events have consecutive sequence numbers from the node's name on and
 * the same time, so neither is repeated; each event is a row
 * [name, generation, plan, phase, step, stepId, status, message, taskIds, planStatus].
 */
interface StoredBatch {
  readonly timeMs: number;
  readonly events: readonly StoredRow[];
}

type StoredRow = readonly [string, number, string, string, string, string, Status, string, readonly string[], Status];

function encode(events: readonly PlanEventView[]): Uint8Array {
  const batch: StoredBatch = {
    timeMs: events[0]!.timeMs,
    events: events.map((e): StoredRow => [e.name, e.generation, e.plan, e.phase, e.step, e.stepId, e.status, e.message, e.taskIds, e.planStatus]),
  };
  return encodeJson(batch);
}

function decode(data: Uint8Array, first: bigint): PlanEventView[] | undefined {
  let raw: Partial<Record<keyof StoredBatch, unknown>>;
  try {
    raw = decodeJson(data);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || typeof raw.timeMs !== "number" || !Number.isFinite(raw.timeMs) || !Array.isArray(raw.events)) {
    return undefined;
  }
  const timeMs = raw.timeMs;
  const events: PlanEventView[] = [];
  for (const [i, row] of (raw.events as unknown[]).entries()) {
    if (!isRow(row)) return undefined;
    const [name, generation, plan, phase, step, stepId, status, message, taskIds, planStatus] = row;
    events.push({ sequence: first + BigInt(i), name, generation, plan, phase, step, stepId, status, message, taskIds: [...taskIds], timeMs, planStatus });
  }
  return events;
}

function isRow(row: unknown): row is StoredRow {
  const text = (v: unknown): v is string => typeof v === "string";
  const status = (v: unknown): v is Status => typeof v === "string" && STATUSES.has(v);
  if (!Array.isArray(row) || row.length !== 10) return false;
  const [name, generation, plan, phase, step, stepId, s, message, taskIds, planStatus] = row as unknown[];
  return (
    text(name) &&
    Number.isSafeInteger(generation) &&
    (generation as number) >= 0 &&
    text(plan) &&
    text(phase) &&
    text(step) &&
    text(stepId) &&
    status(s) &&
    text(message) &&
    Array.isArray(taskIds) &&
    taskIds.every(text) &&
    status(planStatus)
  );
}

export const PLAN_EVENT_FORMAT: EventFormat<PlanEventView> = {
  root: PLAN_EVENTS,
  encode,
  decode,
  complete: (decoded) => [...decoded],
};

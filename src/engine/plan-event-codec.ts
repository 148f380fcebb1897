/**
 * How plan events are stored (`PlanEvents/<sequence, 20 digits>` → JSON, the sequence number as
 * a decimal string) and read back; the format of the plan event log (plan-events.ts).
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

/** A plan event as stored: JSON has no bigint. */
type StoredPlanEvent = Omit<PlanEventView, "sequence"> & { readonly sequence: string };

function encode(event: PlanEventView): Uint8Array {
  const stored: StoredPlanEvent = { ...event, sequence: event.sequence.toString() };
  return encodeJson(stored);
}

function decode(data: Uint8Array, sequence: bigint): PlanEventView | undefined {
  let raw: Partial<Record<keyof StoredPlanEvent, unknown>>;
  try {
    raw = decodeJson(data);
  } catch {
    return undefined;
  }
  if (typeof raw !== "object" || raw === null || raw.sequence !== sequence.toString()) return undefined;
  const text = (v: unknown): v is string => typeof v === "string";
  const status = (v: unknown): v is Status => typeof v === "string" && STATUSES.has(v);
  const ok =
    text(raw.name) &&
    Number.isSafeInteger(raw.generation) &&
    (raw.generation as number) >= 0 &&
    text(raw.plan) &&
    text(raw.phase) &&
    text(raw.step) &&
    text(raw.stepId) &&
    status(raw.status) &&
    text(raw.message) &&
    Array.isArray(raw.taskIds) &&
    raw.taskIds.every(text) &&
    typeof raw.timeMs === "number" &&
    Number.isFinite(raw.timeMs) &&
    status(raw.planStatus);
  if (!ok) return undefined;
  return Object.freeze({
    sequence,
    name: raw.name as string,
    generation: raw.generation as number,
    plan: raw.plan as string,
    phase: raw.phase as string,
    step: raw.step as string,
    stepId: raw.stepId as string,
    status: raw.status as Status,
    message: raw.message as string,
    taskIds: Object.freeze([...(raw.taskIds as string[])]),
    timeMs: raw.timeMs as number,
    planStatus: raw.planStatus as Status,
  });
}

export const PLAN_EVENT_FORMAT: EventFormat<PlanEventView> = {
  root: PLAN_EVENTS,
  encode,
  decode,
  complete: (decoded) => [...decoded],
};

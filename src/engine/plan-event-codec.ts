/**
 * How plan events are stored (`PlanEvents/<first sequence, 20 digits>` → the JSON array of the
 * events written together, sequence numbers as decimal strings) and read back; the format of the
 * plan event log (plan-events.ts).
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

function encode(events: readonly PlanEventView[]): Uint8Array {
  return encodeJson(events.map((e): StoredPlanEvent => ({ ...e, sequence: e.sequence.toString() })));
}

function decode(data: Uint8Array, first: bigint): PlanEventView[] | undefined {
  let raw: unknown;
  try {
    raw = decodeJson(data);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw)) return undefined;
  const events: PlanEventView[] = [];
  for (const [i, e] of raw.entries()) {
    const event = decodeOne(e as Partial<Record<keyof StoredPlanEvent, unknown>>, first + BigInt(i));
    if (event === undefined) return undefined;
    events.push(event);
  }
  return events;
}

function decodeOne(raw: Partial<Record<keyof StoredPlanEvent, unknown>>, sequence: bigint): PlanEventView | undefined {
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
  return {
    sequence,
    name: raw.name as string,
    generation: raw.generation as number,
    plan: raw.plan as string,
    phase: raw.phase as string,
    step: raw.step as string,
    stepId: raw.stepId as string,
    status: raw.status as Status,
    message: raw.message as string,
    taskIds: [...(raw.taskIds as string[])],
    timeMs: raw.timeMs as number,
    planStatus: raw.planStatus as Status,
  };
}

export const PLAN_EVENT_FORMAT: EventFormat<PlanEventView> = {
  root: PLAN_EVENTS,
  encode,
  decode,
  complete: (decoded) => [...decoded],
};

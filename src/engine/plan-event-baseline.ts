/**
 * What the plan event log last recorded of one service's plans, phases and steps, and the diff
 * of its plans against it (plan-events.ts). The stored form keeps a 53-bit fingerprint per
 * element (`PlanEvents/Seen/<escaped>`: {name, seen: [[element, fingerprint]…]}), written in the same multi as the events it records, so
 * a restarted scheduler compares the plans it rebuilt from task records with what watchers were
 * last told, and announces only what differs.
 *
 * An element is a plan (its status, its errors as the message, and the service's generation:
 * every put is announced by one event per plan), a phase (its status) or a step (its status as
 * shown, its message and its task ids). Elements are named, not identified: step ids are made
 * again when plans are rebuilt.
 */
import { aggregateStatus, phaseStatus, stepDisplayStatus } from "../domain/plan/aggregate.js";
import type { Plan } from "../domain/plan/model.js";
import type { Status } from "../domain/plan/status.js";
import type { PlanEventView } from "./admin-api.js";
import { decodeJson, encodeJson } from "./store/codec.js";

/** A plan event before the log gives it its sequence number and time. */
export type PlanChange = Omit<PlanEventView, "sequence" | "timeMs">;

/** One element as last recorded; `status` undefined: only its fingerprint is known (read from the store). */
interface Seen {
  readonly status: Status | undefined;
  readonly message: string;
  readonly taskIds: readonly string[];
  readonly generation: number;
  fingerprint: string | undefined;
}

const NO_IDS: readonly string[] = Object.freeze([]);
/** A step's task ids (task spec name → task ID); phases and plans have none. */
type TaskIds = ReadonlyMap<string, string>;
const NO_TASKS: TaskIds = new Map();
const SEP = "\u0001";

export class PlanBaseline {
  #seen: Map<string, Seen>;

  private constructor(seen: Map<string, Seen>) {
    this.#seen = seen;
  }

  static empty(): PlanBaseline {
    return new PlanBaseline(new Map());
  }

  /** From the stored form: the service's name and its baseline; undefined when unreadable. */
  static decode(data: Uint8Array): { name: string; baseline: PlanBaseline } | undefined {
    let raw: { name?: unknown; seen?: unknown };
    try {
      raw = decodeJson(data);
    } catch {
      return undefined;
    }
    if (typeof raw !== "object" || raw === null || typeof raw.name !== "string" || !Array.isArray(raw.seen)) return undefined;
    const seen = new Map<string, Seen>();
    for (const pair of raw.seen as unknown[]) {
      if (!Array.isArray(pair) || typeof pair[0] !== "string" || typeof pair[1] !== "string") continue;
      seen.set(pair[0], { status: undefined, message: "", taskIds: NO_IDS, generation: 0, fingerprint: pair[1] });
    }
    return { name: raw.name, baseline: new PlanBaseline(seen) };
  }

  /** The stored form: the service's name and [element, fingerprint] pairs. */
  encode(name: string): Uint8Array {
    const seen: [string, string][] = [];
    for (const [key, e] of this.#seen) seen.push([key, (e.fingerprint ??= fingerprint(e.status!, e.message, e.taskIds, e.generation))]);
    return encodeJson({ name, seen });
  }

  /**
   * What changed in `plans` since the last diff (or the stored baseline), in order: per plan its
   * steps, then its phases, then the plan itself; the baseline moves to `plans`. `vanished` tells
   * whether elements the baseline had are gone (a plan no longer there): the stored form changed.
   */
  diff(name: string, generation: number, plans: readonly Plan[]): { changes: PlanChange[]; vanished: boolean } {
    const before = this.#seen;
    const after = new Map<string, Seen>();
    const changes: PlanChange[] = [];
    const note = (key: string, status: Status, message: string, taskIds: TaskIds, gen: number, change: () => PlanChange): void => {
      const prev = before.get(key);
      if (prev !== undefined && same(prev, status, message, taskIds, gen)) {
        after.set(key, prev.status === undefined ? { status, message, taskIds: [...taskIds.values()], generation: gen, fingerprint: prev.fingerprint } : prev);
        return;
      }
      const event = change();
      after.set(key, { status, message, taskIds: event.taskIds, generation: gen, fingerprint: undefined });
      changes.push(event);
    };
    for (const plan of plans) {
      const phases = plan.phases.map(phaseStatus);
      const planStatus = aggregateStatus(phases, plan.interrupted, plan.errors.length > 0);
      const base = { name, generation, plan: plan.name, planStatus };
      for (const phase of plan.phases) {
        for (const step of phase.steps) {
          const status = stepDisplayStatus(step);
          note(plan.name + SEP + phase.name + SEP + step.name, status, step.message, step.taskIds, 0, () => ({
            ...base,
            phase: phase.name,
            step: step.name,
            stepId: step.id,
            status,
            message: step.message,
            taskIds: Object.freeze([...step.taskIds.values()]),
          }));
        }
      }
      plan.phases.forEach((phase, i) => {
        const status = phases[i]!;
        note(plan.name + SEP + phase.name, status, "", NO_TASKS, 0, () => ({ ...base, phase: phase.name, step: "", stepId: phase.id, status, message: "", taskIds: NO_IDS }));
      });
      const errors = plan.errors.join("; ");
      note(plan.name, planStatus, errors, NO_TASKS, generation, () => ({ ...base, phase: "", step: "", stepId: "", status: planStatus, message: errors, taskIds: NO_IDS }));
    }
    this.#seen = after;
    let vanished = false;
    for (const key of before.keys()) {
      if (!after.has(key)) {
        vanished = true;
        break;
      }
    }
    return { changes, vanished };
  }
}

function same(prev: Seen, status: Status, message: string, taskIds: TaskIds, generation: number): boolean {
  if (prev.status === undefined) return prev.fingerprint === fingerprint(status, message, [...taskIds.values()], generation);
  if (prev.status !== status || prev.message !== message || prev.generation !== generation) return false;
  if (prev.taskIds.length !== taskIds.size) return false;
  let i = 0;
  for (const id of taskIds.values()) if (prev.taskIds[i++] !== id) return false;
  return true;
}

/** A 53-bit hash (cyrb53) of what an element shows: a collision hides one change with odds of 2⁻⁵³. */
function fingerprint(status: Status, message: string, taskIds: readonly string[], generation: number): string {
  const text = `${status}\u0000${message}\u0000${taskIds.join("\u0000")}\u0000${generation}`;
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

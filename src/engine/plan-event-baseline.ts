/**
 * What the plan event log last recorded of one service's plans, phases and steps, and the diff
 * of its plans against it (plan-events.ts). The stored form keeps a 53-bit fingerprint per
 * element (`PlanEvents/Seen/<escaped>`: {name, seen: [[plan, phase, step, fingerprint]…]}), written in the same multi as the events it records, so
 * a restarted scheduler compares the plans it rebuilt from task records with what watchers were
 * last told, and announces only what differs.
 *
 * An element is a plan (its status, its errors as the message, and the service's generation:
 * every put is announced by one event per plan), a phase (its status) or a step (its status as
 * shown, its message and its task ids). Elements are named, not identified: step ids are made
 * again when plans are rebuilt.
 */
import { phaseStatus, planStatusFrom, stepDisplayStatus } from "../domain/plan/aggregate.js";
import type { Plan } from "../domain/plan/model.js";
import type { Status } from "../domain/plan/status.js";
import type { PlanEventView } from "./admin-api.js";
import { decodeJson, encodeJson } from "./store/codec.js";

/** A plan event before the log gives it its sequence number and time. */
export type PlanChange = Omit<PlanEventView, "sequence" | "timeMs">;

/**
 * One element as last recorded: a plan (`phase` and `step` ""), a phase (`step` "") or a step.
 * `status` undefined: only its fingerprint is known (read from the store).
 */
interface Seen {
  readonly plan: string;
  readonly phase: string;
  readonly step: string;
  status: Status | undefined;
  message: string;
  taskIds: readonly string[];
  generation: number;
  fingerprint: string | undefined;
}

/** A stored element: [plan, phase, step, fingerprint]. */
type StoredSeen = [string, string, string, string];

const NO_IDS: readonly string[] = [];
/** A step's task ids (task spec name → task ID); phases and plans have none. */
type TaskIds = ReadonlyMap<string, string>;
const NO_TASKS: TaskIds = new Map();

export class PlanBaseline {
  /** In the order a diff walks the plans, so that an unchanged layout is compared element by element. */
  #seen: Seen[];

  private constructor(seen: Seen[]) {
    this.#seen = seen;
  }

  static empty(): PlanBaseline {
    return new PlanBaseline([]);
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
    const seen: Seen[] = [];
    for (const e of raw.seen as unknown[]) {
      if (!Array.isArray(e) || e.length !== 4 || !e.every((x) => typeof x === "string")) continue;
      const [plan, phase, step, fp] = e as StoredSeen;
      seen.push({ plan, phase, step, status: undefined, message: "", taskIds: NO_IDS, generation: 0, fingerprint: fp });
    }
    return { name: raw.name, baseline: new PlanBaseline(seen) };
  }

  /** The stored form: the service's name and its elements' fingerprints. */
  encode(name: string): Uint8Array {
    const seen = this.#seen.map((e): StoredSeen => [e.plan, e.phase, e.step, (e.fingerprint ??= fingerprint(e.status!, e.message, e.taskIds, e.generation))]);
    return encodeJson({ name, seen });
  }

  /**
   * What changed in `plans` since the last diff (or the stored baseline), in order: per plan its
   * steps, then its phases, then the plan itself; the baseline moves to `plans`. `vanished` tells
   * whether elements the baseline had are gone (a plan no longer there): the stored form changed.
   */
  diff(name: string, generation: number, plans: readonly Plan[]): { changes: PlanChange[]; vanished: boolean } {
    const walk = new Walk(this.#seen);
    const changes: PlanChange[] = [];
    for (const plan of plans) {
      const phases = plan.phases.map(phaseStatus);
      const planStatus = planStatusFrom(plan, phases);
      for (const phase of plan.phases) {
        for (const step of phase.steps) {
          const status = stepDisplayStatus(step);
          const seen = walk.next(plan.name, phase.name, step.name);
          if (walk.same(seen, status, step.message, step.taskIds, 0)) continue;
          const taskIds = [...step.taskIds.values()];
          walk.record(seen, status, step.message, taskIds, 0);
          changes.push({ name, generation, plan: plan.name, phase: phase.name, step: step.name, stepId: step.id, status, message: step.message, taskIds, planStatus });
        }
      }
      plan.phases.forEach((phase, i) => {
        const status = phases[i]!;
        const seen = walk.next(plan.name, phase.name, "");
        if (walk.same(seen, status, "", NO_TASKS, 0)) return;
        walk.record(seen, status, "", NO_IDS, 0);
        changes.push({ name, generation, plan: plan.name, phase: phase.name, step: "", stepId: phase.id, status, message: "", taskIds: NO_IDS, planStatus });
      });
      const errors = plan.errors.length === 0 ? "" : plan.errors.join("; ");
      const seen = walk.next(plan.name, "", "");
      if (walk.same(seen, planStatus, errors, NO_TASKS, generation)) continue;
      walk.record(seen, planStatus, errors, NO_IDS, generation);
      changes.push({ name, generation, plan: plan.name, phase: "", step: "", stepId: "", status: planStatus, message: errors, taskIds: NO_IDS, planStatus });
    }
    const { seen, vanished } = walk.done();
    this.#seen = seen;
    return { changes, vanished };
  }
}

/**
 * One diff's walk over the recorded elements: while the plans are laid out as last time (the
 * usual case) each element is the next recorded one; after a difference in layout, elements are
 * looked up by name.
 */
class Walk {
  #index = 0;
  /** Set once the layout differs: the recorded elements by name, and the new order. */
  #byName: Map<string, Seen> | undefined;
  #order: Seen[] | undefined;
  #reused = 0;

  constructor(private readonly before: Seen[]) {}

  next(plan: string, phase: string, step: string): Seen {
    if (this.#byName === undefined) {
      const e = this.before[this.#index];
      if (e !== undefined && e.plan === plan && e.phase === phase && e.step === step) {
        this.#index++;
        this.#reused++;
        return e;
      }
      this.#byName = new Map(this.before.map((x) => [key(x.plan, x.phase, x.step), x]));
      this.#order = this.before.slice(0, this.#index);
    }
    const found = this.#byName.get(key(plan, phase, step));
    const e = found ?? { plan, phase, step, status: undefined, message: "", taskIds: NO_IDS, generation: 0, fingerprint: undefined };
    if (found !== undefined) {
      this.#byName.delete(key(plan, phase, step));
      this.#reused++;
    }
    this.#order!.push(e);
    return e;
  }

  same(e: Seen, status: Status, message: string, taskIds: TaskIds, generation: number): boolean {
    if (e.status === undefined) {
      // New (no fingerprint either), or read from the store.
      if (e.fingerprint === undefined || e.fingerprint !== fingerprint(status, message, [...taskIds.values()], generation)) return false;
      this.record(e, status, message, [...taskIds.values()], generation, e.fingerprint);
      return true;
    }
    if (e.status !== status || e.message !== message || e.generation !== generation || e.taskIds.length !== taskIds.size) return false;
    let i = 0;
    for (const id of taskIds.values()) if (e.taskIds[i++] !== id) return false;
    return true;
  }

  record(e: Seen, status: Status, message: string, taskIds: readonly string[], generation: number, fp?: string): void {
    e.status = status;
    e.message = message;
    e.taskIds = taskIds;
    e.generation = generation;
    e.fingerprint = fp;
  }

  /** The elements in the new order, and whether recorded ones are gone. */
  done(): { seen: Seen[]; vanished: boolean } {
    if (this.#order === undefined) return { seen: this.before.length === this.#index ? this.before : this.before.slice(0, this.#index), vanished: this.#index < this.before.length };
    return { seen: this.#order, vanished: this.#reused < this.before.length };
  }
}

function key(plan: string, phase: string, step: string): string {
  return `${plan}\u0001${phase}\u0001${step}`;
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

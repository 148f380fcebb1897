/**
 * The decision core of one running service (the reference's DefaultScheduler + PlanScheduler +
 * recovery/decommission plan managers, §1.8, §1.12, §3.3, §3.4, §3.6): given its state, the
 * offers it may use and the time, what it does now. Pure and synchronous: the input is not
 * changed (the plans are copied), ids come from `newId`.
 *
 *   1–3 (`work.ts`): DELAYED steps whose back-off is over go PENDING again;
 *      dead RUNNING-goal tasks no plan works on get their pod instance's recovery step (which
 *      kills the pod's live tasks first when an essential one died: it relaunches whole);
 *      candidates: deploy, then recovery, then decommission (a pod instance claimed once is skipped).
 *   4. Each candidate: tasks of it still running another config are killed first (a
 *      reconfiguration relaunches in place, so the old task must free the reservations); then
 *      the step is fitted into the first offer that takes it, or says why none did; a pod with
 *      placement constraints tries only the agents they allow, best first (offer/placement.ts).
 *      Decommission steps kill, release the pod's reservations found in the offers, erase.
 */
import type { Offer, Resource } from "../cluster.js";
import { LABEL_RESOURCE_ID } from "../cluster.js";
import type { LaunchContext } from "../offer/launch-context.js";
import type { PodFootprint } from "../offer/evaluate.js";
import { evaluateOffer } from "../offer/evaluate.js";
import { PlacementPass, PodPlacement, placedInstances } from "../offer/placement.js";
import { OfferPool, reservationLabels } from "../offer/pool.js";
import { cleanupOperations } from "../offer/release.js";
import { planStatus } from "../plan/aggregate.js";
import type { Plan, Step } from "../plan/model.js";
import { markPrepared } from "../plan/step.js";
import type { PodSpec, TaskSpec } from "../spec/types.js";
import { isDefaultService, reservationOwner } from "../reservation-owner.js";
import { taskInstanceName } from "../task-id.js";
import type {
  EraseDecision,
  KillDecision,
  LaunchDecision,
  ReleaseDecision,
  ServiceDecisions,
  ServiceState,
  UnplacedStep,
} from "./model.js";
import type { ServicePlans } from "./plans.js";
import { decommissionStepName } from "./plans.js";
import { deployAcquiring, waitForDeploySlot } from "./deploy-slot.js";
import type { StoredTask } from "./task-record.js";
import { isPermanentlyFailed, liveExecutorOf, mayBeLive, onConfig, podFootprint, podTasks } from "./task-record.js";
import { pausedTask } from "./pause.js";
import { prepareWork } from "./work.js";

type NewId = () => string;

function done(plan: Plan | undefined): boolean {
  return plan === undefined || planStatus(plan) === "COMPLETE";
}

/**
 * What the service does now. `offers` may be empty: kills and erases still happen and the steps
 * say they wait for offers. `undefined`: the status round only (§1.1) — the plans are brought up
 * to date and the candidates named, none is looked at.
 */
export function decideService(state: ServiceState, offers: readonly Offer[] | undefined, nowMs: number, newId: NewId): ServiceDecisions {
  const look = offers !== undefined && state.unreconciled.size === 0;
  const work = prepareWork(state, nowMs, newId, look);
  const out = new Decider(state, work.plans, offers ?? [], newId);
  out.recoveryKills();
  if (look) for (const step of work.candidates) out.step(step);
  const slotWait = state.deploySlotWait;
  const deployDone = done(work.plans.deploy);
  // A custom plan the operator started works like the others until it completes.
  const working = !(deployDone && done(work.plans.recovery) && done(work.plans.decommission)) || work.plans.custom.some((p) => !p.interrupted && !done(p));
  return {
    plans: work.plans,
    backoff: work.backoff,
    launches: out.launches,
    kills: out.kills,
    releases: out.releases,
    erases: out.erases,
    unplaced: slotWait === undefined ? out.unplaced : waitForDeploySlot(work.plans.deploy, work.plans.recovery, out.unplaced, slotWait),
    recoveries: work.recoveries,
    recoveryDeferred: work.recoveryDeferred,
    // A step waiting for its old tasks to stop wants no offer yet: once they are dead it is a
    // new candidate, which is new work (a revive brings back the offers of its agent).
    // Footprint while deploying, or while a pod moves (§3.6: a replace step wants new reservations).
    work: { working, footprint: (!deployDone && deployAcquiring(work.plans.deploy)) || (working && work.replacing), candidates: work.candidates.filter((s) => replacedTasks(state, s).length === 0 && "launch" in launchNow(state, s)).map((s) => s.id) },
  };
}

/**
 * Tasks of a step that (may) still run and are not the step's own launch — another config's, or
 * ones the operator's restart discarded: relaunching them kills them first.
 */
function replacedTasks(state: ServiceState, step: Step): StoredTask[] {
  return step.tasks
    .map((t) => [t, state.tasks.get(taskInstanceName(step.podType, step.podIndex, t))] as const)
    .filter(([t, s]) => s !== undefined && mayBeLive(s) && (!onConfig(s, state.configId) || step.taskIds.get(t) !== s.info.taskId))
    .map(([, s]) => s!);
}

/**
 * What a step launches now: every task, or — when some still run from the step's own launch —
 * the others if all of those are non-essential; else the running ones to kill first.
 */
function launchNow(state: ServiceState, step: Step): { launch: readonly string[] } | { kill: StoredTask[]; why: string } {
  const instance = (t: string): string => taskInstanceName(step.podType, step.podIndex, t);
  const running = new Map<string, StoredTask>();
  for (const t of step.tasks) {
    const s = state.tasks.get(instance(t));
    if (s && mayBeLive(s) && onConfig(s, state.configId) && step.taskIds.get(t) === s.info.taskId) running.set(t, s);
  }
  if (running.size === 0) return { launch: step.tasks };
  // A task that reached its goal on this launch (a FINISH task that exited 0) is neither
  // launched again nor a reason to relaunch the rest.
  const rest = step.tasks.filter((t) => !running.has(t) && step.progress.get(t) !== "COMPLETE");
  const essential = rest.find((t) => state.slots.get(instance(t))?.task.essential !== false);
  if (essential === undefined) return { launch: rest };
  return { kill: [...running.values()], why: `relaunching ${step.name} whole (its essential task ${instance(essential)} ended)` };
}

/** Why a recovery kills the live tasks of its pod: `relaunching pod hello-0 whole (task hello-0-server failed: …)`. */
function wholePodReason(step: Step): string {
  return `relaunching pod ${step.podType}-${step.podIndex} whole (${step.recovery?.why ?? "an essential task ended"})`;
}

/** A task of a plan started with parameters (§1.10 `plan start -p`) gets them as environment, over its spec's `env`. */
function withParameters(task: TaskSpec, parameters: Readonly<Record<string, string>> | undefined): TaskSpec {
  return parameters ? { ...task, env: { ...task.env, ...parameters } } : task;
}

/** Step 4, one candidate at a time; offers used by one step are not over-committed by the next. */
class Decider {
  readonly launches: LaunchDecision[] = [];
  readonly kills: KillDecision[] = [];
  readonly releases: ReleaseDecision[] = [];
  readonly erases: EraseDecision[] = [];
  readonly unplaced: UnplacedStep[] = [];
  /** Made on first use: most offers are never looked at by most services. */
  private readonly pools: (OfferPool | undefined)[];
  /** By pod type, made on first use; counts the launches of this decision too. */
  private readonly placements = new Map<string, PodPlacement>();
  private readonly ctx: LaunchContext;

  constructor(
    private readonly state: ServiceState,
    private readonly plans: ServicePlans,
    private readonly offers: readonly Offer[],
    newId: NewId,
  ) {
    this.pools = new Array<OfferPool | undefined>(offers.length);
    this.ctx = {
      service: state.name,
      sanitizedService: state.sanitizedName,
      frameworkId: state.frameworkId,
      frameworkName: state.framework.name,
      role: state.framework.role,
      principal: state.framework.principal,
      configId: state.configId,
      newId,
      ...(state.framework.mono === true ? { mono: true } : {}),
      ...(state.spec.user !== undefined ? { user: state.spec.user } : {}),
    };
  }

  step(step: Step): void {
    if (this.plans.decommission?.phases.some((ph) => ph.steps.includes(step))) return this.decommission(step);
    if (this.killOffConfig(step)) return;
    const tasks = this.launchable(step);
    if (tasks.length === 0) return;
    if (this.offers.length === 0) return this.waits(step, "waiting for offers");
    const slots = tasks.map((t) => this.state.slots.get(taskInstanceName(step.podType, step.podIndex, t)));
    const pod = slots[0]?.pod;
    if (!pod || slots.some((s) => !s)) {
      step.status = "ERROR";
      step.message = "step names tasks the spec does not have";
      return;
    }
    const records = podTasks(this.state.tasks, step.podType, step.podIndex);
    const footprint = podFootprint(records.values());
    // A sibling still running keeps its executor: the launch goes into it (offer/evaluate.ts).
    const liveExecutor = liveExecutorOf(records, new Set(tasks.map((t) => taskInstanceName(step.podType, step.podIndex, t))));
    const paused = this.state.paused?.has(`${step.podType}-${step.podIndex}`) === true;
    const request = { pod, podIndex: step.podIndex, tasks: slots.map((s) => withParameters(paused ? pausedTask(s!.task) : s!.task, step.parameters)), ...(footprint ? { footprint } : {}), ...(liveExecutor ? { liveExecutor } : {}) };
    const pass = this.placementPass(pod, step.podIndex, footprint);
    const order = footprint ? pass?.order : this.leavingLast(step, pass?.order);
    let reason = "no offer matched";
    let placed = false;
    const tries = order?.length ?? this.offers.length;
    for (let k = 0; k < tries; k++) {
      const i = order?.[k] ?? k;
      if (pass && !pass.allows(i)) continue;
      const pool = (this.pools[i] ??= OfferPool.of(this.offers[i]!));
      const result = evaluateOffer(this.ctx, request, pool);
      if (result.kind === "no-match") {
        // A placed pod's own agent says best why it waits.
        if (!footprint || pool.offer.agentId === footprint.agentId || !placed) reason = result.reason;
        placed ||= footprint !== undefined && pool.offer.agentId === footprint.agentId;
        continue;
      }
      this.pools[i] = result.pool;
      pass?.placed(pool.offer);
      this.launches.push({
        offerId: pool.offer.id,
        operations: result.operations,
        tasks: result.tasks,
        stepId: step.id,
        inPlace: result.tasks.filter((info) => this.relaunchedInPlace(info.name, info.resources)).map((i) => i.name),
      });
      return;
    }
    this.waits(step, pass ? pass.why(reason) : reason);
  }

  /**
   * A replaced pod (permanently failed: its agent is suspect, or gone) tries every other agent
   * before the one it leaves; `order` (placement's) is kept otherwise. Undefined: offer order.
   */
  private leavingLast(step: Step, order: readonly number[] | undefined): readonly number[] | undefined {
    const leaving = new Set([...podTasks(this.state.tasks, step.podType, step.podIndex).values()].filter(isPermanentlyFailed).map((t) => t.info.agentId));
    if (leaving.size === 0) return order;
    const base = order ?? this.offers.map((_, i) => i);
    const away = (i: number): boolean => !leaving.has(this.offers[i]!.agentId);
    return [...base.filter(away), ...base.filter((i) => !away(i))];
  }

  /**
   * Placement as filter → score → select over the offers for one pod instance. Undefined (every
   * offer, in order) for a pod without placement, and for one relaunched in place: it stays
   * where it is.
   */
  private placementPass(pod: PodSpec, podIndex: number, footprint: PodFootprint | undefined): PlacementPass | undefined {
    if (!pod.placement || (footprint && footprint.resourceSets.size > 0)) return undefined;
    let placement = this.placements.get(pod.type);
    if (!placement) {
      const staying = [...this.state.tasks.values()].filter((t) => !isPermanentlyFailed(t));
      placement = new PodPlacement(pod.placement, placedInstances(staying, pod.type));
      this.placements.set(pod.type, placement);
    }
    return new PlacementPass(placement, this.offers, `${pod.type}-${podIndex}`);
  }

  private waits(step: Step, reason: string): void {
    markPrepared(step, reason);
    this.unplaced.push({ stepId: step.id, reason });
  }

  /**
   * The live tasks a recovery kills before it relaunches their pod whole (an essential task
   * ended, `recovery.ts`), killed at once — also while its step waits out the back-off — until
   * they are dead or the step is done.
   */
  recoveryKills(): void {
    for (const step of this.plans.recovery.phases.flatMap((ph) => ph.steps)) {
      if (step.status === "COMPLETE" || !step.recovery?.kills) continue;
      for (const k of step.recovery.kills) {
        const t = this.state.tasks.get(k.instance);
        if (t?.info.taskId === k.taskId && mayBeLive(t)) this.kill(t, wholePodReason(step));
      }
    }
  }

  /** One kill per task and decision, whichever part decided it first. */
  private kill(t: StoredTask, reason: string): void {
    if (this.kills.some((k) => k.taskId === t.info.taskId)) return;
    this.kills.push({ taskId: t.info.taskId, agentId: t.info.agentId, reason });
  }

  /** Tasks of the step still (maybe) running another config are killed before it relaunches them. */
  private killOffConfig(step: Step): boolean {
    const old = replacedTasks(this.state, step);
    if (old.length === 0) return false;
    const killed = new Set(step.recovery?.kills?.map((k) => k.taskId));
    const why = old.some((s) => !onConfig(s, this.state.configId))
      ? "relaunching on the new config"
      : old.every((s) => killed.has(s.info.taskId))
        ? wholePodReason(step)
        : "relaunching (restarted by the operator)";
    for (const s of old) this.kill(s, why);
    this.waits(step, `waiting for ${old.map((s) => s.info.name).join(", ")} to stop before ${why}`);
    return true;
  }

  /**
   * The tasks of the step to launch now: all, or the others when some still run from its own
   * launch (one of its tasks ended since; a non-essential task is a task group of its own).
   * Only non-essential tasks are relaunched beside running siblings (§4.2); a dead essential
   * one relaunches the step whole, so the running ones are killed first and the step waits
   * (none to launch now).
   */
  private launchable(step: Step): readonly string[] {
    const next = launchNow(this.state, step);
    if ("launch" in next) return next.launch;
    for (const s of next.kill) this.kill(s, next.why);
    this.waits(step, `waiting for ${next.kill.map((s) => s.info.name).join(", ")} to stop before ${next.why}`);
    return [];
  }

  /** A task relaunched on reservations its previous, confirmed record held (none new). */
  private relaunchedInPlace(name: string, resources: readonly Resource[]): boolean {
    const before = this.state.tasks.get(name);
    if (!before?.confirmed) return false;
    const held = new Set(before.info.resources.map((r) => reservationLabels(r)?.[LABEL_RESOURCE_ID]));
    return resources.every((r) => held.has(reservationLabels(r)?.[LABEL_RESOURCE_ID]));
  }

  /** One decommission step: kill, or release every reservation of the pod found, or erase all records. */
  private decommission(step: Step): void {
    const phase = this.plans.decommission!.phases.find((ph) => ph.steps.includes(step))!;
    const prefix = (kind: keyof typeof decommissionStepName): string => decommissionStepName[kind]("");
    if (step.name.startsWith(prefix("kill"))) {
      const task = this.state.tasks.get(step.name.slice(prefix("kill").length));
      if (!task || !mayBeLive(task)) {
        step.status = "COMPLETE";
        step.message = "";
        return this.nextDecommission(phase.steps, step);
      }
      this.kill(task, "decommissioning its pod");
      step.status = "STARTED";
      step.message = "kill sent";
      return;
    }
    if (step.name.startsWith(prefix("unreserve"))) return this.release(phase.steps);
    this.erase(phase.steps);
  }

  private erase(steps: readonly Step[]): void {
    const prefix = decommissionStepName.erase("");
    const erase = steps.filter((s) => s.name.startsWith(prefix) && s.status !== "COMPLETE");
    this.erases.push({ tasks: erase.map((s) => s.name.slice(prefix.length)), stepIds: erase.map((s) => s.id) });
  }

  /** A kill step found its task dead: the phase goes on in the same decision. */
  private nextDecommission(steps: readonly Step[], after: Step): void {
    const next = steps[steps.indexOf(after) + 1];
    if (next && next.status !== "COMPLETE") this.decommission(next);
  }

  private release(steps: readonly Step[]): void {
    const prefix = decommissionStepName.unreserve("");
    const wanted = new Map(steps.filter((s) => s.name.startsWith(prefix) && s.status !== "COMPLETE").map((s) => [s.name.slice(prefix.length), s]));
    const { name, framework } = this.state;
    // The default service's reservations may carry no namespace label (mono, or made before a migration).
    const unlabelled = isDefaultService(name, framework.name) ? name : undefined;
    for (const offer of this.offers) {
      const mine = offer.resources.filter(
        (r) => reservationOwner(r, offer.frameworkId, unlabelled) === name && wanted.has(reservationLabels(r)?.[LABEL_RESOURCE_ID] ?? ""),
      );
      if (mine.length === 0) continue;
      const ids = [...new Set(mine.map((r) => reservationLabels(r)![LABEL_RESOURCE_ID]!))];
      this.releases.push({ offerId: offer.id, operations: cleanupOperations(mine), resourceIds: ids, stepIds: ids.map((id) => wanted.get(id)!.id) });
      for (const id of ids) wanted.delete(id);
    }
    for (const s of wanted.values()) this.waits(s, "waiting for an offer of this reservation");
    // The records go with the last release, in the same write (a refused release leaves
    // reservations no record owns: garbage collection takes them).
    if (wanted.size === 0) this.erase(steps);
  }
}

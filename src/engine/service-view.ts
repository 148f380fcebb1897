/** Read models of a service and its plans, for the admin API. */
import { SchedulerError, abbreviate, abbreviateList } from "../domain/errors.js";
import { phaseStatus, planStatus, stepDisplayStatus } from "../domain/plan/aggregate.js";
import type { Plan } from "../domain/plan/model.js";
import { DECOMMISSION_PLAN } from "../domain/service/plans.js";
import { allSteps } from "../domain/plan/model.js";
import type { Status } from "../domain/plan/status.js";
import type { PlanSummaryView, PlanView, SchedulerFigures, ServiceState, ServiceView } from "./admin-api.js";
import type { ServiceContext } from "./service-context.js";

/** What the views read of a service (running or being removed). */
interface Viewed {
  readonly name: string;
  readonly configId: string;
  allPlans(): readonly Plan[];
}

export function planSummary(plan: Plan): PlanSummaryView {
  const steps = allSteps(plan);
  return {
    name: plan.name,
    status: planStatus(plan),
    stepsComplete: steps.filter((s) => s.status === "COMPLETE").length,
    stepsTotal: steps.length,
  };
}

function serviceState(plans: readonly { readonly name: string; readonly status: Status }[]): ServiceState {
  if (plans.some((p) => p.status === "ERROR")) return "ERROR";
  const working = plans.filter((p) => p.name === "deploy" || p.name === "recovery" || p.name === DECOMMISSION_PLAN);
  return working.every((p) => p.status === "COMPLETE") ? "RUNNING" : "DEPLOYING";
}

/** What metrics read of the services: `SchedulerFigures` of admin-api.ts. */
export function schedulerFigures(services: Iterable<Viewed & { readonly removing: boolean }>, quarantined: number): SchedulerFigures {
  const states = new Map<ServiceState, number>();
  const steps = new Map<Status, number>();
  const plans: string[] = [];
  for (const svc of services) {
    const statuses: { readonly name: string; readonly status: Status }[] = [];
    for (const plan of svc.allPlans()) {
      const status = planStatus(plan);
      plans.push(svc.name, plan.name, status);
      statuses.push({ name: plan.name, status });
      for (const phase of plan.phases) {
        for (const step of phase.steps) {
          const shown = stepDisplayStatus(step);
          steps.set(shown, (steps.get(shown) ?? 0) + 1);
        }
      }
    }
    // As the views say (serviceView, removalView).
    const state: ServiceState = svc.removing ? "UNINSTALLING" : serviceState(statuses);
    states.set(state, (states.get(state) ?? 0) + 1);
  }
  if (quarantined > 0) states.set("QUARANTINED", quarantined);
  return { services: states, plans, steps };
}

export function serviceView(svc: Viewed & { readonly context: ServiceContext }): ServiceView {
  const plans = svc.allPlans().map(planSummary);
  const ctx = svc.context;
  return {
    name: svc.name,
    state: serviceState(plans),
    configId: svc.configId,
    generation: ctx.generation,
    plans,
    createdMs: ctx.createdMs,
    updatedMs: ctx.updatedMs,
  };
}

/** A service being removed: UNINSTALLING, with its uninstall plan. */
export function removalView(
  r: Viewed & { readonly context: ServiceContext | undefined; readonly startedMs: number; readonly removalId: bigint },
): ServiceView {
  const ctx = r.context;
  return {
    name: r.name,
    state: "UNINSTALLING",
    configId: r.configId,
    generation: ctx?.generation ?? 0,
    plans: r.allPlans().map(planSummary),
    createdMs: ctx?.createdMs ?? r.startedMs,
    updatedMs: r.startedMs,
    removalId: r.removalId,
  };
}

export function quarantinedView(q: { readonly name: string; readonly error: string; readonly sinceMs: number }): ServiceView {
  return {
    name: q.name,
    state: "QUARANTINED",
    configId: "",
    generation: 0,
    plans: [],
    error: q.error,
    createdMs: q.sinceMs,
    updatedMs: q.sinceMs,
  };
}

export function planView(svc: Viewed, name: string): PlanView {
  const plan = svc.allPlans().find((p) => p.name === name);
  if (!plan) {
    const known = abbreviateList(svc.allPlans().map((p) => p.name), 20);
    throw new SchedulerError("not_found", `service '${svc.name}' has no plan '${abbreviate(name)}' (plans: ${known})`);
  }
  return toPlanView(plan);
}

export function toPlanView(plan: Plan): PlanView {
  return {
    name: plan.name,
    status: planStatus(plan),
    strategy: plan.strategy,
    errors: [...plan.errors],
    phases: plan.phases.map((ph) => ({
      id: ph.id,
      name: ph.name,
      strategy: ph.strategy,
      status: phaseStatus(ph),
      steps: ph.steps.map((s) => ({
        id: s.id,
        name: s.name,
        status: stepDisplayStatus(s),
        message: s.message,
        taskIds: [...s.taskIds.values()],
      })),
    })),
  };
}

/**
 * Gauges read from the running scheduler when /metrics is scraped (prom-client `collect`), so
 * nothing is kept up to date between scrapes. No scheduler (a standby, or before the engine
 * started): no samples. Plans and steps (pick documented in docs/metrics.md):
 *   corral_plans{service,plan,status} 1     each plan of each service, labelled with its status
 *   corral_plan_steps{status}               the steps of every plan of every service, counted by status
 * so the per-service series are one per plan, and the step counts stay 9 series at any size.
 */
import { Gauge } from "prom-client";
import type { Registry } from "prom-client";
import type { Status } from "../../domain/plan/status.js";
import type { ServiceState } from "../../engine/admin-api.js";
import type { MultiServiceScheduler } from "../../engine/scheduler.js";

/** What the gauges read: the scheduler's public views. */
export type ScrapedScheduler = Pick<MultiServiceScheduler, "listServices" | "listPlans" | "deploySlots">;

const SERVICE_STATES: readonly ServiceState[] = ["DEPLOYING", "RUNNING", "ERROR", "UNINSTALLING", "QUARANTINED"];
const STATUSES: readonly Status[] = ["ERROR", "WAITING", "PENDING", "PREPARED", "STARTING", "STARTED", "COMPLETE", "IN_PROGRESS", "DELAYED"];

export class SchedulerGauges {
  private source: () => ScrapedScheduler | undefined = () => undefined;

  constructor(registry: Registry) {
    const current = (): ScrapedScheduler | undefined => this.source();
    new Gauge({
      name: "corral_services",
      help: "Services by state (QUARANTINED: stored but not built)",
      labelNames: ["state"] as const,
      registers: [registry],
      collect() {
        this.reset();
        const scheduler = current();
        if (!scheduler) return;
        const counts = new Map<ServiceState, number>(SERVICE_STATES.map((s) => [s, 0]));
        for (const view of scheduler.listServices()) counts.set(view.state, (counts.get(view.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: "corral_plans",
      help: "1 for each plan of each service, labelled with the plan's status",
      labelNames: ["service", "plan", "status"] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const view of current()?.listServices() ?? []) {
          for (const plan of view.plans) this.set({ service: view.name, plan: plan.name, status: plan.status }, 1);
        }
      },
    });
    new Gauge({
      name: "corral_plan_steps",
      help: "Steps of every plan of every service, by status",
      labelNames: ["status"] as const,
      registers: [registry],
      collect() {
        this.reset();
        const scheduler = current();
        if (!scheduler) return;
        const counts = new Map<Status, number>(STATUSES.map((s) => [s, 0]));
        for (const view of scheduler.listServices()) {
          if (view.state === "QUARANTINED") continue; // no plans to list
          for (const plan of scheduler.listPlans(view.name)) {
            for (const phase of plan.phases) for (const step of phase.steps) counts.set(step.status, (counts.get(step.status) ?? 0) + 1);
          }
        }
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    new Gauge({
      name: "corral_deploy_slots",
      help: "The deployment limit (--max-parallel-deploys): slots used and the limit; absent without a limit",
      labelNames: ["kind"] as const,
      registers: [registry],
      async collect() {
        this.reset();
        const slots = await current()?.deploySlots();
        if (!slots) return;
        this.set({ kind: "used" }, slots.used);
        this.set({ kind: "limit" }, slots.limit);
      },
    });
  }

  /** Where the gauges read from from now on (the keeper's current engine). */
  setSource(get: () => ScrapedScheduler | undefined): void {
    this.source = get;
  }
}

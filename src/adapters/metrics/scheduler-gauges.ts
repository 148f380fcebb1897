/**
 * Gauges read from the running scheduler when /metrics is scraped (lean-metrics.ts), so
 * nothing is kept up to date between scrapes; the scheduler is read once per scrape (one
 * snapshot for all the gauges). No scheduler (a standby, or before the engine started): no
 * samples. Plans and steps (the pick is documented in docs/metrics.md):
 *   corral_plans{service,plan,status} 1     each plan of each service, labelled with its status
 *   corral_plan_steps{status}               the steps of every plan of every service, counted by status
 * so the per-service series are one per plan, and the step counts stay 9 series at any size.
 */
import type { Status } from "../../domain/plan/status.js";
import type { SchedulerFigures, ServiceState } from "../../engine/admin-api.js";
import type { MultiServiceScheduler } from "../../engine/scheduler.js";
import type { CorralMetrics } from "./corral-metrics.js";
import { ScrapedGauge } from "./lean-metrics.js";

/** What the gauges read: the scheduler's figures (no views built) and its deployment slots. */
export type ScrapedScheduler = Pick<MultiServiceScheduler, "figures" | "deploySlots">;

const SERVICE_STATES: readonly ServiceState[] = ["DEPLOYING", "RUNNING", "ERROR", "UNINSTALLING", "QUARANTINED"];
const STATUSES: readonly Status[] = ["ERROR", "WAITING", "PENDING", "PREPARED", "STARTING", "STARTED", "COMPLETE", "IN_PROGRESS", "DELAYED"];

interface Snapshot {
  readonly scheduler: ScrapedScheduler;
  readonly figures: SchedulerFigures;
}

export class SchedulerGauges {
  private source: () => ScrapedScheduler | undefined = () => undefined;
  private scraping = false;
  private taken: Snapshot | null | undefined;

  constructor(metrics: CorralMetrics) {
    metrics.onScrape({
      begin: () => {
        this.scraping = true;
        this.taken = undefined;
      },
      end: () => {
        this.scraping = false;
        this.taken = undefined; // not kept between scrapes
      },
    });
    const snapshot = (): Snapshot | null => this.snapshot();
    const registers = [metrics.registry];
    new ScrapedGauge({ name: "corral_services", help: "Services by state (QUARANTINED: stored but not built)", registers }, () => {
      const snap = snapshot();
      return snap ? SERVICE_STATES.map((state) => ({ labels: { state }, value: snap.figures.services.get(state) ?? 0 })) : [];
    });
    new ScrapedGauge({ name: "corral_plans", help: "1 for each plan of each service, labelled with the plan's status", registers }, function* () {
      const plans = snapshot()?.figures.plans ?? [];
      for (let i = 0; i + 2 < plans.length; i += 3) yield { labels: { service: plans[i]!, plan: plans[i + 1]!, status: plans[i + 2]! }, value: 1 };
    });
    new ScrapedGauge({ name: "corral_plan_steps", help: "Steps of every plan of every service, by status", registers }, () => {
      const snap = snapshot();
      return snap ? STATUSES.map((status) => ({ labels: { status }, value: snap.figures.steps.get(status) ?? 0 })) : [];
    });
    new ScrapedGauge(
      { name: "corral_deploy_slots", help: "The deployment limit (--max-parallel-deploys): slots used and the limit; absent without a limit", registers },
      async () => {
        const slots = await snapshot()?.scheduler.deploySlots();
        return slots ? [{ labels: { kind: "used" }, value: slots.used }, { labels: { kind: "limit" }, value: slots.limit }] : [];
      },
    );
  }

  /** Where the gauges read from from now on (the keeper's current engine). */
  setSource(get: () => ScrapedScheduler | undefined): void {
    this.source = get;
  }

  /** The scheduler's figures: once per scrape; null without a scheduler. */
  private snapshot(): Snapshot | null {
    if (this.scraping && this.taken !== undefined) return this.taken;
    const scheduler = this.source();
    const snap = scheduler ? { scheduler, figures: scheduler.figures() } : null;
    if (this.scraping) this.taken = snap;
    return snap;
  }
}

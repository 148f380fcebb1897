/**
 * The façade's steering calls (plan and pod control, §1.10): checked and applied inside the
 * runner's work queue, one at a time with offer cycles and puts, stored (fenced) before they
 * are answered, their kills sent through the runner's killer.
 */
import { SchedulerError } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import type { PlanControlInput, PlanControlResult, PlanView, PodControlInput, PodControlResult, PodView, TaskView } from "./admin-api.js";
import type { ManagedService, PodState, PreparedControl } from "./managed-service.js";
import { NO_TRACER } from "./telemetry.js";
import type { SchedulerParts } from "./scheduler-parts.js";
import { planView } from "./service-view.js";
import { taskViews } from "./task-views.js";
import { StateStore } from "./store/state-store.js";

function checkName(name: string): void {
  const violations = validateServiceName(name);
  if (violations.length > 0) throw SchedulerError.invalid(violations);
}

export class ServiceSteering {
  constructor(private readonly parts: SchedulerParts) {}

  listPlans(name: string): PlanView[] {
    checkName(name);
    const svc = this.parts.mustGet(name);
    return svc.allPlans().map((p) => planView(svc, p.name));
  }

  controlPlan(input: PlanControlInput): Promise<PlanControlResult> {
    checkName(input.name);
    return this.inTurn(input.name, "control-plan", (svc) => svc.controlPlan(input));
  }

  async listPods(name: string): Promise<PodView[]> {
    checkName(name);
    this.parts.mustGet(name); // an unknown name is refused at once, not after waiting its turn
    // The records and the stored tasks of one moment: a work item stores a change and applies it
    // together, so between items they agree (read apart, a task could show RUNNING before its
    // reservations did).
    const { pods, stored } = await this.parts.runner.queue.run("list-pods", async () => ({
      pods: this.parts.mustGet(name).pods(),
      stored: await new StateStore(this.parts.persister, name).loadTasks(),
    }));
    const tasks = await taskViews(stored, this.parts.deps.driver.taskFiles);
    return pods.map((p) => podView(p, tasks));
  }

  async controlPod(input: PodControlInput): Promise<PodControlResult> {
    checkName(input.name);
    const outcome = await this.inTurn(input.name, "control-pod", (svc) => svc.controlPod(input.pod, input.action));
    const pod = (await this.listPods(input.name)).find((p) => p.name === input.pod);
    if (!pod) throw new SchedulerError("internal", `pod '${input.pod}' vanished after ${input.action}`);
    return { pod, killed: outcome.killed, changed: outcome.changed };
  }

  /** Prepared and applied in the runner's queue; the ops stored first, then applied, then the kills sent. */
  private inTurn<R>(name: string, what: string, prepare: (svc: ManagedService) => PreparedControl<R>): Promise<R> {
    this.parts.mustAct();
    // Queued after the service's turn comes: the request's span is no longer current by then.
    const trace = (this.parts.deps.tracer ?? NO_TRACER).current();
    return this.parts.inTurn(name, () =>
      this.parts.runner.queue.run(what, async () => {
        const prepared = prepare(this.parts.mustGet(name));
        if (prepared.ops.length > 0) await this.parts.persister.multi(prepared.ops);
        const result = prepared.apply();
        this.parts.runner.steered(prepared.kills);
        return result;
      }, trace),
    );
  }
}

function podView(pod: PodState, tasks: readonly TaskView[]): PodView {
  return {
    name: `${pod.podType}-${pod.podIndex}`,
    podType: pod.podType,
    podIndex: pod.podIndex,
    tasks: tasks.filter((t) => t.podType === pod.podType && t.podIndex === pod.podIndex),
    reservations: pod.reservations,
    paused: pod.paused,
    permanentlyFailed: pod.permanentlyFailed,
    agentId: pod.agentId,
    hostname: pod.hostname,
  };
}

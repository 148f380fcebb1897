/**
 * What the steering commands print (`plans`, `plan … ACTION`, `pod`): tables and short
 * sentences, in the conventions of render.ts.
 */
import { PlanAction, PodAction, Status, Strategy } from "../client/index.js";
import type { ControlPlanResponse, ControlPodResponse, Plan, Pod, Task } from "../client/index.js";
import { renderPlan, statusName, table } from "./render.js";

const strategyName = (s: Strategy): string => Strategy[s] ?? String(s);
const known = (value: string): string => (value === "" ? "-" : value);

/** One row per plan: name, status, strategy, steps complete/total. */
export function renderPlans(plans: readonly Plan[]): string {
  if (plans.length === 0) return "no plans";
  return table(
    ["PLAN", "STATUS", "STRATEGY", "STEPS"],
    plans.map((p) => {
      const steps = p.phases.flatMap((phase) => phase.steps);
      return [p.name, statusName(p.status), strategyName(p.strategy), `${steps.filter((s) => s.status === Status.COMPLETE).length}/${steps.length}`];
    }),
  );
}

/** The plan actions by their command-line word (`force-complete`), in the order help lists them. */
export const PLAN_ACTIONS: Readonly<Record<string, PlanAction>> = {
  start: PlanAction.START,
  stop: PlanAction.STOP,
  interrupt: PlanAction.INTERRUPT,
  continue: PlanAction.CONTINUE,
  "force-complete": PlanAction.FORCE_COMPLETE,
  restart: PlanAction.RESTART,
};

/** What a plan action acted on. */
export interface PlanTarget {
  readonly name: string;
  readonly plan: string;
  readonly action: string;
  readonly phase: string;
  readonly step: string;
}

/** `hello: plan deploy, phase world: continue done` (or that nothing changed), then the plan. */
export function renderPlanControl(t: PlanTarget, res: Pick<ControlPlanResponse, "changed" | "plan">): string {
  const what = [`plan ${t.plan}`, ...(t.phase === "" ? [] : [`phase ${t.phase}`]), ...(t.step === "" ? [] : [`step ${t.step}`])].join(", ");
  const outcome = res.changed ? `${t.action} done` : `nothing changed (it already was as ${t.action} leaves it)`;
  const plan = res.plan === undefined ? [] : ["", renderPlan(res.plan)];
  return [`${t.name}: ${what}: ${outcome}`, ...plan].join("\n");
}

/** The pod actions by their command-line word. */
export const POD_ACTIONS: Readonly<Record<string, PodAction>> = {
  restart: PodAction.RESTART,
  replace: PodAction.REPLACE,
  pause: PodAction.PAUSE,
  resume: PodAction.RESUME,
};

/** `paused`, `permanently failed`, both, or "" for a pod running its own tasks in place. */
function podNote(p: Pod): string {
  return [...(p.paused ? ["paused"] : []), ...(p.permanentlyFailed ? ["permanently failed"] : [])].join(", ");
}

/** One row per task, grouped by pod instance; a pod without tasks yet gets one row of its own. */
export function renderPods(pods: readonly Pod[]): string {
  if (pods.length === 0) return "no pods";
  const rows = pods.flatMap((p) => {
    const tail = [known(p.hostname), podNote(p)];
    if (p.tasks.length === 0) return [[p.name, "-", "-", known(p.agentId), ...tail]];
    return p.tasks.map((t) => [p.name, t.name, known(t.state), known(t.agentId || p.agentId), ...tail]);
  });
  return table(["POD", "TASK", "STATE", "AGENT", "HOSTNAME", "NOTE"], rows);
}

/** One pod in detail: where it runs, its tasks with their ids, and its reservations. */
export function renderPod(p: Pod): string {
  const yesNo = (b: boolean): string => (b ? "yes" : "no");
  const fields: [string, string][] = [
    ["pod", `${p.name} (type ${p.podType}, index ${p.podIndex})`],
    ["agent", p.agentId === "" ? "- (not launched yet)" : `${p.agentId}${p.hostname === "" ? "" : ` (${p.hostname})`}`],
    ["paused", yesNo(p.paused)],
    ["permanently failed", yesNo(p.permanentlyFailed)],
  ];
  const head = fields.map(([k, v]) => `${`${k}:`.padEnd(20)}${v}`).join("\n");
  const tasks = p.tasks.length === 0 ? "no tasks" : table(["TASK", "ID", "STATE", "PID", "AGENT", "MESSAGE"], p.tasks.map(taskRow));
  const reservations =
    p.reservations.length === 0
      ? "no reservations"
      : table(
          ["RESOURCE", "VALUE", "RESOURCE ID", "VOLUME"],
          p.reservations.map((r) => [r.resource, r.value, known(r.resourceId), r.persistenceId === "" ? "" : `${r.persistenceId} at ${r.containerPath}`]),
        );
  return [head, "", tasks, "", reservations].join("\n");
}

const taskRow = (t: Task): string[] => [t.name, t.id, known(t.state), t.pid === 0 ? "-" : String(t.pid), known(t.agentId), t.message];

const PAST: Readonly<Record<string, string>> = { restart: "restarted", replace: "replaced", pause: "paused", resume: "resumed" };
/** Why an action can change nothing. */
const ALREADY: Readonly<Record<string, string>> = {
  restart: "it has no task to kill",
  replace: "it already is marked permanently failed",
  pause: "already paused",
  resume: "it is not paused",
};

/** `hello: pod world-0 restarted; killed: <task ids>` (or that nothing changed), then the pod. */
export function renderPodControl(name: string, pod: string, action: string, res: ControlPodResponse): string {
  const killed = res.killed.length === 0 ? "no task killed" : `killed ${res.killed.join(", ")}`;
  const head = res.changed ? `${name}: pod ${pod} ${PAST[action] ?? action}; ${killed}` : `${name}: pod ${pod}: nothing changed (${ALREADY[action] ?? "already so"})`;
  return [head, ...(res.pod === undefined ? [] : ["", renderPod(res.pod)])].join("\n");
}

import { describe, expect, it } from "vitest";
import { phaseStatus, planStatus, stepDisplayStatus } from "./aggregate.js";
import type { PlanControlAction } from "./control.js";
import { applyPlanControl, checkControl } from "./control.js";
import type { Phase, Plan } from "./model.js";
import { newStep } from "./model.js";
import { applyOverride, captureOverrides } from "./overrides.js";
import type { Status } from "./status.js";
import { armCanary } from "./strategy.js";

type Level = "plan" | "phase" | "step";
type State = "pending" | "interrupted" | "complete";

function build(strategy: Phase["strategy"] = "serial", count = 2): Plan {
  const steps = Array.from({ length: count }, (_, i) => {
    const s = newStep(`s${i}`, `hello-${i}:[server]`, "hello", i, ["server"]);
    s.taskIds.set("server", `task-${i}`);
    return s;
  });
  const phase: Phase = { id: "ph", name: "hello", strategy, steps };
  armCanary(phase);
  return { name: "deploy", strategy: "serial", phases: [phase], errors: [], interrupted: false };
}

function inState(level: Level, state: State): Plan {
  const plan = build();
  const phase = plan.phases[0]!;
  if (state === "complete") for (const s of phase.steps) s.status = "COMPLETE";
  if (state === "interrupted") {
    if (level === "plan") plan.interrupted = true;
    if (level === "phase") phase.interrupted = true;
    if (level === "step") phase.steps[0]!.interrupted = true;
  }
  return plan;
}

const TARGET: Record<Level, { phase: string; step: string }> = {
  plan: { phase: "", step: "" },
  phase: { phase: "hello", step: "" },
  step: { phase: "hello", step: "hello-0:[server]" },
};

function statusOf(plan: Plan, level: Level): Status {
  if (level === "plan") return planStatus(plan);
  if (level === "phase") return phaseStatus(plan.phases[0]!);
  return stepDisplayStatus(plan.phases[0]!.steps[0]!);
}

const LEVELS: readonly Level[] = ["plan", "phase", "step"];

/** action, state before, whether it changes anything, status after (the same at every level). */
const TABLE: readonly [PlanControlAction, State, boolean, Status][] = [
  ["INTERRUPT", "pending", true, "WAITING"],
  ["INTERRUPT", "interrupted", false, "WAITING"],
  ["INTERRUPT", "complete", true, "COMPLETE"],
  ["CONTINUE", "interrupted", true, "PENDING"],
  ["CONTINUE", "pending", false, "PENDING"],
  ["FORCE_COMPLETE", "pending", true, "COMPLETE"],
  ["FORCE_COMPLETE", "interrupted", true, "COMPLETE"],
  ["FORCE_COMPLETE", "complete", false, "COMPLETE"],
  ["RESTART", "complete", true, "PENDING"],
  ["RESTART", "pending", false, "PENDING"],
  ["RESTART", "interrupted", false, "WAITING"],
  ["STOP", "complete", true, "WAITING"],
  ["STOP", "pending", true, "WAITING"],
  ["STOP", "interrupted", false, "WAITING"],
];

describe("plan control: action × level × state", () => {
  const cases = TABLE.flatMap(([action, state, changed, after]) => LEVELS.map((level) => ({ action, level, state, changed, after })));
  it.each(cases)("$action on a $state $level → changed $changed, $after", ({ action, level, state, changed, after }) => {
    const plan = inState(level, state);
    expect(applyPlanControl(plan, action, TARGET[level]).changed).toBe(changed);
    expect(statusOf(plan, level)).toBe(after);
  });

  it.each([
    { state: "interrupted", params: {}, changed: true, after: "PENDING" },
    { state: "pending", params: {}, changed: false, after: "PENDING" },
    { state: "pending", params: { A: "1" }, changed: true, after: "PENDING" },
    { state: "complete", params: {}, changed: true, after: "PENDING" },
  ] as const)("START on a $state plan with $params → changed $changed, $after", ({ state, params, changed, after }) => {
    const plan = inState("plan", state);
    expect(applyPlanControl(plan, "START", TARGET.plan, params).changed).toBe(changed);
    expect(planStatus(plan)).toBe(after);
    expect(plan.phases[0]!.steps.map((s) => s.parameters)).toEqual([params, params].map((p) => (Object.keys(p).length > 0 ? p : undefined)));
  });

  it("RESTART forgets the step's tasks and remembers them as discarded; back-off is the caller's to clear", () => {
    const plan = inState("step", "complete");
    const out = applyPlanControl(plan, "RESTART", TARGET.step);
    const step = plan.phases[0]!.steps[0]!;
    expect(out.reset).toEqual([step]);
    expect([...step.taskIds]).toEqual([]);
    expect(step.discarded).toEqual(["task-0"]);
    expect(step.message).toBe("restarted by the operator");
  });

  it("CONTINUE of a plan releases one canary step of its current phase per call", () => {
    const plan = build("parallel-canary", 4);
    const waiting = (): boolean[] => plan.phases[0]!.steps.map((s) => s.interrupted);
    expect(waiting()).toEqual([true, true, false, false]);
    expect(applyPlanControl(plan, "CONTINUE", TARGET.plan).changed).toBe(true);
    expect(waiting()).toEqual([false, true, false, false]);
    expect(applyPlanControl(plan, "CONTINUE", TARGET.phase).changed).toBe(true);
    expect(waiting()).toEqual([false, false, false, false]);
    expect(applyPlanControl(plan, "CONTINUE", TARGET.plan).changed).toBe(false);
  });

  it("an interrupted plan's CONTINUE un-interrupts the plan first, leaving the canary waiting", () => {
    const plan = build("canary", 2);
    plan.interrupted = true;
    applyPlanControl(plan, "CONTINUE", TARGET.plan);
    expect(plan.interrupted).toBe(false);
    expect(plan.phases[0]!.canary).toHaveLength(2);
  });

  it("FORCE_COMPLETE of a canary step takes it off the waiting list", () => {
    const plan = build("canary", 3);
    applyPlanControl(plan, "FORCE_COMPLETE", TARGET.step);
    expect(plan.phases[0]!.canary).toEqual(["hello-1:[server]"]);
  });
});

describe("checkControl", () => {
  it.each([
    { name: "step without phase", action: "CONTINUE", target: { phase: "", step: "x" }, params: {}, field: "step" },
    { name: "START of a step", action: "START", target: { phase: "p", step: "x" }, params: {}, field: "phase" },
    { name: "a key starting with a digit", action: "START", target: TARGET.plan, params: { "9A": "x" }, field: "parameters.9A" },
    { name: "a key with a dash", action: "START", target: TARGET.plan, params: { "A-B": "x" }, field: "parameters.A-B" },
    { name: "parameters on STOP", action: "STOP", target: TARGET.plan, params: { A: "x" }, field: "parameters" },
    { name: "too much", action: "START", target: TARGET.plan, params: { A: "x".repeat(70_000) }, field: "parameters" },
  ] as const)("$name → INVALID_ARGUMENT at $field", ({ action, target, params, field }) => {
    expect(() => checkControl(action, target, params)).toThrowError(expect.objectContaining({ code: "invalid_argument", violations: [expect.objectContaining({ field })] }));
  });

  it("accepts environment variable names", () => {
    expect(() => checkControl("START", TARGET.plan, { _A1: "x", b: "" })).not.toThrow();
  });
});

describe("overrides", () => {
  it("capture and apply give back the operator's state over a freshly built plan", () => {
    const plan = build("canary", 3);
    applyPlanControl(plan, "CONTINUE", TARGET.plan);
    applyPlanControl(plan, "START", TARGET.plan, { A: "1" });
    plan.phases[0]!.steps[0]!.status = "COMPLETE";
    applyPlanControl(plan, "RESTART", TARGET.step);
    applyPlanControl(plan, "FORCE_COMPLETE", { phase: "hello", step: "hello-2:[server]" });
    const stored = JSON.parse(JSON.stringify(captureOverrides([plan], "cfg"))) as ReturnType<typeof captureOverrides>;

    const fresh = build("canary", 3);
    // Resumed from the records: the restarted step's task still runs, so it looks complete.
    fresh.phases[0]!.steps[0]!.status = "COMPLETE";
    applyOverride(fresh, stored.plans[0]!, (step) => `task-${step.podIndex}`);
    const view = (p: Plan): unknown => p.phases[0]!.steps.map((s) => [s.status, s.interrupted, s.parameters, s.forced]);
    expect(view(fresh)).toEqual(view(plan));
    expect(fresh.phases[0]!.canary).toEqual(plan.phases[0]!.canary);
    expect(fresh.parameters).toEqual({ A: "1" });
  });

  it("a restarted step whose task was relaunched since resumes from its records", () => {
    const plan = build();
    plan.phases[0]!.steps[0]!.status = "COMPLETE";
    applyPlanControl(plan, "RESTART", TARGET.step);
    const fresh = build();
    fresh.phases[0]!.steps[0]!.status = "COMPLETE";
    applyOverride(fresh, captureOverrides([plan], "cfg").plans[0]!, () => "task-new");
    expect(fresh.phases[0]!.steps[0]!.status).toBe("COMPLETE");
  });
});

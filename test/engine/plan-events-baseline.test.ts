/**
 * The baseline of the plan event log (src/engine/plan-event-baseline.ts): what a diff tells when
 * the plans keep their layout, when steps or plans come and go, and after a round trip through
 * the stored form (fingerprints only), as after a restart.
 */
import { describe, expect, it } from "vitest";
import type { Plan, Step } from "../../src/domain/plan/model.js";
import { newStep } from "../../src/domain/plan/model.js";
import { planStatus } from "../../src/domain/plan/aggregate.js";
import { PlanBaseline } from "../../src/engine/plan-event-baseline.js";

function step(name: string, status: Step["status"] = "PENDING", taskId?: string): Step {
  const s = newStep(`id-${name}`, name, "pod", 0, ["server"]);
  s.status = status;
  if (taskId) s.taskIds.set("server", taskId);
  return s;
}

function plan(name: string, ...steps: Step[]): Plan {
  return { name, strategy: "serial", phases: [{ id: `ph-${name}`, name: "phase", strategy: "serial", steps }], errors: [], interrupted: false };
}

const told = (b: PlanBaseline, plans: Plan[], generation = 1): string[] =>
  b.diff("svc", generation, plans).changes.map((c) => `${c.plan}/${c.phase}/${c.step} ${c.status}${c.taskIds.length > 0 ? ` ${c.taskIds.join(",")}` : ""}`);

describe("plan event baseline", () => {
  it("tells the plan's status as GetPlan shows it: a serial plan whose first phase starts is STARTING", () => {
    const b = PlanBaseline.empty();
    const first = step("a", "STARTING", "t1");
    const deploy: Plan = {
      name: "deploy",
      strategy: "serial",
      errors: [],
      interrupted: false,
      phases: [
        { id: "p1", name: "one", strategy: "serial", steps: [first] },
        { id: "p2", name: "two", strategy: "serial", steps: [step("b")] },
      ],
    };
    const told = b.diff("svc", 1, [deploy]).changes;
    expect(planStatus(deploy)).toBe("STARTING");
    expect(told.map((c) => c.planStatus)).toEqual(told.map(() => "STARTING"));
    expect(told.find((c) => c.phase === "" && c.step === "")?.status).toBe("STARTING");
  });

  it("tells each element once, steps before their phase before their plan, then only what changes", () => {
    const b = PlanBaseline.empty();
    const a = step("a");
    const deploy = plan("deploy", a, step("b"));
    expect(told(b, [deploy])).toEqual(["deploy/phase/a PENDING", "deploy/phase/b PENDING", "deploy/phase/ PENDING", "deploy// PENDING"]);
    expect(told(b, [deploy])).toEqual([]);
    a.status = "STARTING";
    a.taskIds.set("server", "t1");
    // The serial phase works on a alone: it and its plan are STARTING (§1.12 candidates), b waits.
    expect(told(b, [deploy])).toEqual(["deploy/phase/a STARTING t1", "deploy/phase/ STARTING", "deploy// STARTING"]);
    a.status = "COMPLETE";
    expect(told(b, [deploy])).toEqual(["deploy/phase/a COMPLETE t1", "deploy/phase/ IN_PROGRESS", "deploy// IN_PROGRESS"]);
    a.message = "slow";
    expect(told(b, [deploy])).toEqual(["deploy/phase/a COMPLETE t1"]);
    // A new generation tells each plan once, nothing else.
    expect(told(b, [deploy], 2)).toEqual(["deploy// IN_PROGRESS"]);
  });

  it("a step inserted in the middle, a plan added and one removed: only those are told", () => {
    const b = PlanBaseline.empty();
    const deploy = plan("deploy", step("a"), step("b"));
    told(b, [deploy, plan("recovery")]);
    deploy.phases[0]!.steps.splice(1, 0, step("new"));
    const r = b.diff("svc", 1, [plan("extra", step("x")), deploy]);
    expect(r.changes.map((c) => `${c.plan}/${c.step}`)).toEqual(["extra/x", "extra/", "extra/", "deploy/new"]);
    expect(r.vanished).toBe(true); // recovery is gone
    expect(told(b, [plan("extra", step("x")), deploy])).toEqual([]);
  });

  it("after the stored form's round trip, unchanged elements are not told again and changed ones are", () => {
    const b = PlanBaseline.empty();
    const a = step("a", "STARTING", "t1");
    const deploy = plan("deploy", a, step("b"));
    told(b, [deploy]);
    const stored = PlanBaseline.decode(b.encode("svc"))!;
    expect(stored.name).toBe("svc");
    expect(told(stored.baseline, [deploy])).toEqual([]);
    const again = PlanBaseline.decode(b.encode("svc"))!.baseline;
    a.status = "COMPLETE";
    expect(told(again, [deploy])).toEqual(["deploy/phase/a COMPLETE t1", "deploy/phase/ IN_PROGRESS", "deploy// IN_PROGRESS"]);
    expect(PlanBaseline.decode(new TextEncoder().encode("not json"))).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import { phaseStatus, planStatus } from "./aggregate.js";
import type { Phase, Plan } from "./model.js";
import { newStep } from "./model.js";
import type { Status } from "./status.js";
import { armCanary, planCandidates } from "./strategy.js";
import { waitsForOperator } from "./waits-for-operator.js";

function phase(strategy: Phase["strategy"], statuses: Status[], name = "ph"): Phase {
  const steps = statuses.map((status, i) => {
    const s = newStep(`${name}-s${i}`, `p-${i}:[t]`, "p", i, ["t"]);
    s.status = status;
    return s;
  });
  const ph: Phase = { id: name, name, strategy, steps };
  armCanary(ph);
  return ph;
}

function plan(phases: Phase[], strategy: "serial" | "parallel" = "serial"): Plan {
  return { name: "deploy", strategy, phases, errors: [], interrupted: false };
}

/** What `continue` on the phase does to a canary (control.ts does this on a copy). */
function release(ph: Phase): void {
  const [first, ...rest] = ph.canary ?? [];
  ph.steps.find((s) => s.name === first)!.interrupted = false;
  ph.canary = rest;
}

const ids = (p: Plan): string[] => planCandidates(p).map((s) => s.id);

describe("canary strategies", () => {
  it.each(["canary", "serial-canary", "parallel-canary"] as const)("%s: the first two pending steps wait, WAITING", (strategy) => {
    const ph = phase(strategy, ["PENDING", "PENDING", "PENDING", "PENDING"]);
    expect(ph.canary).toEqual(["p-0:[t]", "p-1:[t]"]);
    expect(ids(plan([ph]))).toEqual([]);
    expect(phaseStatus(ph)).toBe("WAITING");
    expect(planStatus(plan([ph]))).toBe("WAITING");
    expect(waitsForOperator(plan([ph]))).toBe(true);
  });

  it("skips steps already complete when it picks the canary steps", () => {
    const ph = phase("parallel-canary", ["COMPLETE", "PENDING", "PENDING", "PENDING"]);
    expect(ph.canary).toEqual(["p-1:[t]", "p-2:[t]"]);
  });

  it("arms nothing on a complete phase, and nothing on a serial or parallel one", () => {
    expect(phase("canary", ["COMPLETE", "COMPLETE"]).canary).toEqual([]);
    expect(phase("serial", ["PENDING"]).canary).toBeUndefined();
    expect(phaseStatus(phase("canary", ["COMPLETE", "COMPLETE"]))).toBe("COMPLETE");
  });

  it.each([
    { strategy: "serial-canary", afterSecond: ["ph-s1"], afterFirstDone: ["ph-s2"] },
    { strategy: "parallel-canary", afterSecond: ["ph-s1", "ph-s2", "ph-s3"], afterFirstDone: ["ph-s2", "ph-s3"] },
  ] as const)("$strategy: each continue releases one step, then the wrapped strategy runs the rest", ({ strategy, afterSecond, afterFirstDone }) => {
    const ph = phase(strategy, ["PENDING", "PENDING", "PENDING", "PENDING"]);
    const p = plan([ph]);
    release(ph);
    expect(ids(p)).toEqual(["ph-s0"]);
    ph.steps[0]!.status = "STARTING";
    expect(waitsForOperator(p)).toBe(false);
    ph.steps[0]!.status = "COMPLETE";
    // The second canary step still waits: the phase shows WAITING, and nothing else runs.
    expect(ids(p)).toEqual([]);
    expect(ph.steps.map((s) => s.interrupted)).toEqual([false, true, false, false]);
    expect(phaseStatus(ph)).toBe("WAITING");
    expect(waitsForOperator(p)).toBe(true);
    release(ph);
    expect(ph.canary).toEqual([]);
    expect(phaseStatus(ph)).toBe("IN_PROGRESS");
    expect(ids(p)).toEqual(afterSecond);
    ph.steps[1]!.status = "COMPLETE";
    expect(ids(p)).toEqual(afterFirstDone);
    expect(waitsForOperator(p)).toBe(false);
  });

  it("a serial plan waits on its canary phase and shows WAITING although a later phase is PENDING", () => {
    const p = plan([phase("canary", ["PENDING", "PENDING"], "a"), phase("serial", ["PENDING"], "b")]);
    expect(planStatus(p)).toBe("WAITING");
    expect(ids(p)).toEqual([]);
  });

  it("a parallel plan runs its other phases while a canary waits", () => {
    const p = plan([phase("canary", ["PENDING", "PENDING"], "a"), phase("serial", ["PENDING"], "b")], "parallel");
    expect(ids(p)).toEqual(["b-s0"]);
    expect(waitsForOperator(p)).toBe(false);
  });
});

describe("waitsForOperator", () => {
  it.each([
    { name: "a running deploy", build: () => plan([phase("serial", ["COMPLETE", "STARTING", "PENDING"])]), want: false },
    { name: "a deploy wanting offers", build: () => plan([phase("serial", ["PENDING"])]), want: false },
    { name: "a complete plan, even interrupted", build: () => ({ ...plan([phase("serial", ["COMPLETE"])]), interrupted: true }), want: false },
    { name: "an interrupted plan", build: () => ({ ...plan([phase("serial", ["PENDING"])]), interrupted: true }), want: true },
    { name: "an interrupted phase", build: () => plan([{ ...phase("serial", ["PENDING"]), interrupted: true }]), want: true },
    { name: "a step in back-off", build: () => plan([phase("serial", ["DELAYED"])]), want: false },
    { name: "a plan in error", build: () => ({ ...plan([phase("canary", ["PENDING"])]), errors: ["bad"] }), want: false },
  ])("$name → $want", ({ build, want }) => {
    expect(waitsForOperator(build())).toBe(want);
  });
});

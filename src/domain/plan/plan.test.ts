import { describe, expect, it } from "vitest";
import { parseServiceSpec } from "../spec/parse.js";
import { aggregateStatus, planStatus } from "./aggregate.js";
import { buildPlans } from "./build.js";
import type { Phase, Plan } from "./model.js";
import { newStep } from "./model.js";
import { applyTaskStatus, markLaunched } from "./step.js";
import { planCandidates } from "./strategy.js";
import type { Status } from "./status.js";

function ids(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

function phase(strategy: Phase["strategy"], statuses: Status[], indexes?: number[]): Phase {
  const steps = statuses.map((status, i) => {
    const s = newStep(`s${i}`, `p-${indexes?.[i] ?? i}:[t]`, "p", indexes?.[i] ?? i, ["t"]);
    s.status = status;
    return s;
  });
  return { id: "ph", name: "ph", strategy, steps };
}

function plan(strategy: "serial" | "parallel", phases: Phase[]): Plan {
  return { name: "deploy", strategy, phases, errors: [], interrupted: false };
}

describe("strategies", () => {
  it.each([
    { name: "serial takes the first incomplete step", strategy: "serial", st: ["COMPLETE", "PENDING", "PENDING"], want: ["s1"] },
    { name: "serial waits while a step is starting", strategy: "serial", st: ["STARTING", "PENDING"], want: [] },
    { name: "parallel takes every pending step", strategy: "parallel", st: ["PENDING", "STARTING", "PREPARED"], want: ["s0", "s2"] },
    { name: "complete phase has none", strategy: "parallel", st: ["COMPLETE"], want: [] },
  ] as const)("$name", ({ strategy, st, want }) => {
    expect(planCandidates(plan("serial", [phase(strategy, [...st])])).map((s) => s.id)).toEqual(want);
  });

  it("keeps the steps of one pod instance sequential inside a parallel phase", () => {
    const ph = phase("parallel", ["PENDING", "PENDING", "PENDING", "PENDING"], [0, 0, 1, 1]);
    expect(planCandidates(plan("serial", [ph])).map((s) => s.id)).toEqual(["s0", "s2"]);
  });

  it("serial plans work one phase at a time; parallel plans all", () => {
    const a = phase("serial", ["PENDING"]);
    const b = phase("serial", ["PENDING"]);
    expect(planCandidates(plan("serial", [a, b]))).toHaveLength(1);
    expect(planCandidates(plan("parallel", [a, b]))).toHaveLength(2);
  });

  it("interrupted plans offer nothing", () => {
    const p = plan("serial", [phase("serial", ["PENDING"])]);
    p.interrupted = true;
    expect(planCandidates(p)).toEqual([]);
    expect(planStatus(p)).toBe("WAITING");
  });
});

describe("status aggregation", () => {
  it.each([
    { children: ["COMPLETE", "COMPLETE"], want: "COMPLETE" },
    { children: ["COMPLETE", "ERROR"], want: "ERROR" },
    { children: ["COMPLETE", "PENDING"], want: "IN_PROGRESS" },
    { children: ["PENDING", "PENDING"], want: "PENDING" },
    { children: ["PREPARED", "PENDING"], want: "IN_PROGRESS" },
    { children: ["STARTING", "PENDING"], want: "PENDING" },
    { children: ["STARTING"], want: "STARTING" },
    { children: ["STARTED"], want: "STARTED" },
    { children: ["DELAYED", "COMPLETE"], want: "DELAYED" },
    { children: [], want: "COMPLETE" },
  ] as { children: Status[]; want: Status }[])("$children → $want", ({ children, want }) => {
    expect(aggregateStatus(children, false, false)).toBe(want);
  });

  // §1.12: the candidates (the children the strategy works on) decide, not the children behind them.
  it.each([
    { children: ["STARTING", "PENDING"], candidates: ["STARTING"], want: "STARTING" },
    { children: ["STARTED", "PENDING"], candidates: ["STARTED"], want: "STARTED" },
    { children: ["COMPLETE", "STARTING", "PENDING"], candidates: ["STARTING"], want: "IN_PROGRESS" },
    { children: ["PENDING", "PENDING"], candidates: ["PENDING"], want: "PENDING" },
  ] as { children: Status[]; candidates: Status[]; want: Status }[])("$children, candidates $candidates → $want", ({ children, candidates, want }) => {
    expect(aggregateStatus(children, false, false, candidates)).toBe(want);
  });

  it("a serial deploy plan whose first step is starting is STARTING, not PENDING", () => {
    const hello = newStep("a", "hello-0:[server]", "hello", 0, ["server"]);
    hello.status = "STARTING";
    const world = newStep("b", "world-0:[server]", "world", 0, ["server"]);
    const plan: Plan = {
      name: "deploy",
      strategy: "serial",
      errors: [],
      interrupted: false,
      phases: [
        { id: "p1", name: "hello", strategy: "serial", steps: [hello] },
        { id: "p2", name: "world", strategy: "serial", steps: [world] },
      ],
    };
    expect(planStatus(plan)).toBe("STARTING");
  });
});

describe("plans from a spec", () => {
  it("generates the reference's deploy plan without plans:", () => {
    const { spec } = parseServiceSpec(
      "name: s\npods:\n  hello:\n    count: 1\n    tasks:\n      server: {cmd: x, cpus: 1, memory: 1}\n" +
        "  world:\n    count: 2\n    tasks:\n      server: {cmd: x, cpus: 1, memory: 1}\n",
    );
    const [deploy] = buildPlans(spec, ids());
    expect(deploy!.phases.map((p) => [p.name, p.steps.map((s) => s.name)])).toEqual([
      ["hello", ["hello-0:[server]"]],
      ["world", ["world-0:[server]", "world-1:[server]"]],
    ]);
  });
});

describe("invalid steps", () => {
  it("marks a step ERROR when its tasks share a resource set", () => {
    const { spec } = parseServiceSpec(
      "name: s\npods:\n  p:\n    count: 1\n    resource-sets:\n      rs: {cpus: 1, memory: 1}\n" +
        "    tasks:\n      a: {cmd: x, resource-set: rs}\n      b: {cmd: x, resource-set: rs}\n",
    );
    const [deploy] = buildPlans(spec, ids());
    const step = deploy!.phases[0]!.steps[0]!;
    expect(step.status).toBe("ERROR");
    expect(step.message).toMatch(/share resource set 'rs'/);
    expect(planStatus(deploy!)).toBe("ERROR");
  });
});

describe("step transitions", () => {
  const running = (taskId: string, extra = {}) => ({ taskId, state: "TASK_RUNNING" as const, timestampMs: 0, ...extra });

  it("completes a RUNNING-goal step only after its readiness check passed", () => {
    const step = newStep("s", "web-0:[server]", "web", 0, ["server"]);
    markLaunched(step, new Map([["server", "t1"]]));
    expect(step.status).toBe("STARTING");
    applyTaskStatus(step, "server", running("t1"), "RUNNING", true);
    expect(step.status).toBe("STARTED");
    applyTaskStatus(step, "server", running("t1", { checkStatus: { exitCode: 0 } }), "RUNNING", true);
    expect(step.status).toBe("COMPLETE");
  });

  it("ignores statuses of task IDs it did not launch", () => {
    const step = newStep("s", "web-0:[server]", "web", 0, ["server"]);
    markLaunched(step, new Map([["server", "t2"]]));
    expect(applyTaskStatus(step, "server", running("t1"), "RUNNING", false)).toBe(false);
    expect(step.status).toBe("STARTING");
  });

  it.each([
    { goal: "RUNNING", state: "TASK_FINISHED", want: "PENDING" },
    { goal: "FINISH", state: "TASK_FINISHED", want: "COMPLETE" },
    { goal: "ONCE", state: "TASK_FINISHED", want: "COMPLETE" },
    { goal: "FINISH", state: "TASK_FAILED", want: "PENDING" },
    { goal: "RUNNING", state: "TASK_LOST", want: "PENDING" },
  ] as const)("goal $goal + $state → $want", ({ goal, state, want }) => {
    const step = newStep("s", "p-0:[t]", "p", 0, ["t"]);
    markLaunched(step, new Map([["t", "t1"]]));
    applyTaskStatus(step, "t", { taskId: "t1", state, timestampMs: 0 }, goal, false);
    expect(step.status).toBe(want);
  });
});

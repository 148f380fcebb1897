import { describe, expect, it } from "vitest";
import type { TaskState, TaskStatus } from "../cluster.js";
import type { Plan } from "./model.js";
import { newStep } from "./model.js";
import type { FailedTask, PodMember, RecoveryInput } from "./recovery.js";
import { applyRecoveryDecision, planRecovery, recoveryLogLine, recoveryStep } from "./recovery.js";
import { markComplete, markLaunched, markPrepared } from "./step.js";
import { describeTaskEnd } from "./task-end.js";

function ids(): () => string {
  let n = 0;
  return () => `id-${++n}`;
}

function emptyRecovery(): Plan {
  return { name: "recovery", strategy: "parallel", phases: [], errors: [], interrupted: false };
}

function failed(pod: string, index: number, task: string, over: Partial<TaskStatus> = {}, permanent = false): FailedTask {
  const instance = `${pod}-${index}-${task}`;
  return { podType: pod, podIndex: index, task, instance, status: { taskId: `${instance}__1`, state: "TASK_FAILED", timestampMs: 0, ...over }, permanent };
}

function input(over: Partial<RecoveryInput>): RecoveryInput {
  return { plans: [], recovery: emptyRecovery(), failed: [], failuresInARow: () => 1, ...over };
}

/** A one-step plan working on `pod-index`. */
function otherPlan(pod: string, index: number, status: "PENDING" | "STARTING" | "COMPLETE", interrupted = false): Plan {
  const step = newStep("d", `${pod}-${index}:[t]`, pod, index, ["t"]);
  step.status = status;
  return { name: "deploy", strategy: "serial", phases: [{ id: "p", name: pod, strategy: "serial", steps: [step] }], errors: [], interrupted };
}

/** The plan with its phase interrupted (plan control on a phase), the plan itself not. */
function interruptedPhase(plan: Plan): Plan {
  return { ...plan, phases: plan.phases.map((ph) => ({ ...ph, interrupted: true })) };
}

describe("planRecovery", () => {
  it("relaunches a pod instance's failed tasks at once the first time, later after the back-off", () => {
    const first = planRecovery(input({ failed: [failed("hello", 0, "server")] }));
    expect(first.deferred).toBe(false);
    expect(first.decisions).toMatchObject([{ stepName: "hello-0:[server]", tasks: ["server"], attempt: 1, delayMs: 0 }]);
    const third = planRecovery(input({ failed: [failed("hello", 0, "server")], failuresInARow: () => 4 }));
    expect(third.decisions[0]!.delayMs).toBe(4000);
  });

  it.each([
    { name: "a deploy step still working on it", plans: [otherPlan("hello", 0, "PENDING")], deferred: true },
    { name: "a deploy step of another instance", plans: [otherPlan("hello", 1, "STARTING")], deferred: false },
    { name: "a complete deploy step", plans: [otherPlan("hello", 0, "COMPLETE")], deferred: false },
    { name: "a waiting step of an interrupted plan", plans: [otherPlan("hello", 0, "PENDING", true)], deferred: false },
    { name: "a started step of an interrupted plan", plans: [otherPlan("hello", 0, "STARTING", true)], deferred: true },
    { name: "a waiting step of an interrupted phase", plans: [interruptedPhase(otherPlan("hello", 0, "PENDING"))], deferred: false },
  ])("defers to $name: $deferred", ({ plans, deferred }) => {
    const r = planRecovery(input({ plans, failed: [failed("hello", 0, "server")] }));
    expect(r.deferred).toBe(deferred);
    expect(r.decisions).toHaveLength(deferred ? 0 : 1);
  });

  it("answers a failure once, and the next failure of a relaunch with the next attempt of the same step", () => {
    const recovery = emptyRecovery();
    const f = failed("hello", 0, "server");
    const [d] = planRecovery(input({ recovery, failed: [f] })).decisions;
    const { step } = applyRecoveryDecision(recovery, d!, ids());
    expect(planRecovery(input({ recovery, failed: [f] })).decisions).toEqual([]); // the same status again
    markLaunched(step, new Map([["server", "hello-0-server__2"]]));
    const again = planRecovery(input({ recovery, failed: [failed("hello", 0, "server", { taskId: "hello-0-server__2", message: "command exited with status 1" })] }));
    expect(again.decisions).toMatchObject([{ attempt: 2, why: "task hello-0-server failed: command exited with status 1" }]);
  });

  it("waits for a step's launch under way before recovering another task of its pod instance", () => {
    const recovery = emptyRecovery();
    const [d] = planRecovery(input({ recovery, failed: [failed("hello", 0, "server")] })).decisions;
    const { step } = applyRecoveryDecision(recovery, d!, ids());
    markLaunched(step, new Map([["server", "hello-0-server__2"]]));
    const r = planRecovery(input({ recovery, failed: [failed("hello", 0, "sidecar")] }));
    expect(r).toEqual({ decisions: [], deferred: true });
  });

  it("folds a late failure of the same group into the attempt not yet relaunched, naming the earliest as the cause", () => {
    const recovery = emptyRecovery();
    const server = failed("hello", 0, "server", { timestampMs: 5, message: "command exited with status 1" });
    const [d] = planRecovery(input({ recovery, failed: [server] })).decisions;
    applyRecoveryDecision(recovery, d!, ids());
    const sidecar = failed("hello", 0, "sidecar", { state: "TASK_KILLED", timestampMs: 6 });
    const [next] = planRecovery(input({ recovery, failed: [server, sidecar] })).decisions;
    expect(next).toMatchObject({ attempt: 1, tasks: ["server", "sidecar"], stepName: "hello-0:[server, sidecar]", cause: { task: "sidecar" } });
  });
});

describe("applyRecoveryDecision", () => {
  it("keeps one phase per pod type and one step per pod instance, in index order, reusing the step", () => {
    const recovery = emptyRecovery();
    const newId = ids();
    const apply = (f: FailedTask, failures = 1): void => {
      const [d] = planRecovery(input({ recovery, failed: [f], failuresInARow: () => failures })).decisions;
      const { step } = applyRecoveryDecision(recovery, d!, newId);
      markLaunched(step, new Map([[f.task, `${f.instance}__${newId()}`]]));
    };
    apply(failed("world", 1, "server"));
    apply(failed("hello", 0, "server"));
    apply(failed("world", 0, "server"));
    const before = recoveryStep(recovery, "world", 1)!;
    apply(failed("world", 1, "server", { taskId: before.taskIds.get("server")! }), 3);
    expect(recovery.phases.map((p) => [p.name, p.strategy, p.steps.map((s) => s.name)])).toEqual([
      ["world", "parallel", ["world-0:[server]", "world-1:[server]"]],
      ["hello", "parallel", ["hello-0:[server]"]],
    ]);
    expect(recoveryStep(recovery, "world", 1)).toBe(before);
    expect(before.recovery?.attempt).toBe(2);
  });

  it("goes DELAYED with the back-off's wait, forgets the dead task IDs, and keeps the reason in front of later messages", () => {
    const recovery = emptyRecovery();
    const f = failed("hello", 0, "server", { message: "command exited with status 1" });
    const [d] = planRecovery(input({ recovery, failed: [f], failuresInARow: () => 3 })).decisions;
    const { step } = applyRecoveryDecision(recovery, d!, ids());
    expect(step).toMatchObject({ status: "DELAYED", message: "attempt 1 (transient): task hello-0-server failed: command exited with status 1; relaunching in 2 s" });
    expect(step.taskIds.size).toBe(0);
    step.status = "PENDING";
    markPrepared(step, "waiting for offers");
    expect(step.message).toBe("attempt 1 (transient): task hello-0-server failed: command exited with status 1; waiting for offers");
  });

  it("replaces the step, keeping its id and place, when other tasks died this time", () => {
    const recovery = emptyRecovery();
    const newId = ids();
    const [a] = planRecovery(input({ recovery, failed: [failed("hello", 0, "server")] })).decisions;
    const first = applyRecoveryDecision(recovery, a!, newId).step;
    markLaunched(first, new Map([["server", "x"]]));
    markComplete(first, "recovered");
    const [b] = planRecovery(input({ recovery, failed: [failed("hello", 0, "sidecar")] })).decisions;
    const applied = applyRecoveryDecision(recovery, b!, newId);
    expect(applied.replaced).toBe(first);
    expect(applied.step).toMatchObject({ id: first.id, name: "hello-0:[sidecar]", recovery: { attempt: 2 } });
    expect(recovery.phases[0]!.steps).toEqual([applied.step]);
  });

  it("recovers a pod with a permanently failed task permanently, at once, whatever the back-off says", () => {
    const gone = failed("hello", 0, "server", { state: "TASK_GONE_BY_OPERATOR" }, true);
    const [d] = planRecovery(input({ failed: [gone, failed("hello", 0, "sidecar")], failuresInARow: () => 5 })).decisions;
    expect(d).toMatchObject({ permanent: true, delayMs: 0, tasks: ["server", "sidecar"], cause: gone, attempt: 1 });
    const recovery = emptyRecovery();
    const { step } = applyRecoveryDecision(recovery, d!, ids());
    expect(step).toMatchObject({ status: "PENDING", recovery: { permanent: true } });
    expect(step.message).toBe("attempt 1 (permanent): task hello-0-server was marked gone by the operator; relaunching");
  });

  it("plans a transient recovery again when its failure turns permanent (a pod replaced while it backs off)", () => {
    const recovery = emptyRecovery();
    const transient = failed("hello", 0, "server");
    const [a] = planRecovery(input({ recovery, failed: [transient], failuresInARow: () => 3 })).decisions;
    applyRecoveryDecision(recovery, a!, ids());
    expect(recoveryStep(recovery, "hello", 0)).toMatchObject({ status: "DELAYED", recovery: { attempt: 1 } });
    expect(planRecovery(input({ recovery, failed: [transient], failuresInARow: () => 3 })).decisions).toEqual([]); // answered
    const [b] = planRecovery(input({ recovery, failed: [{ ...transient, permanent: true }], failuresInARow: () => 3 })).decisions;
    expect(b).toMatchObject({ permanent: true, delayMs: 0, attempt: 2 });
    applyRecoveryDecision(recovery, b!, ids());
    expect(recoveryStep(recovery, "hello", 0)!.message).toMatch(/^attempt 2 \(permanent\): task hello-0-server failed; relaunching$/);
    expect(planRecovery(input({ recovery, failed: [{ ...transient, permanent: true }] })).decisions).toEqual([]);
  });
});

describe("planRecovery with essential and non-essential tasks (§4.2)", () => {
  /** Pod `app` index 0: `server` (essential), `sidecar` and `metrics` (not), each live unless dead. */
  function members(dead: readonly string[]): PodMember[] {
    return [
      ["server", true],
      ["sidecar", false],
      ["metrics", false],
    ].map(([task, essential]) => ({
      podType: "app",
      podIndex: 0,
      task: task as string,
      instance: `app-0-${task as string}`,
      essential: essential as boolean,
      ...(dead.includes(task as string) ? {} : { liveTaskId: `app-0-${task as string}__1` }),
    }));
  }

  it("a non-essential task's end relaunches it alone and kills nothing", () => {
    const [d] = planRecovery(input({ failed: [failed("app", 0, "sidecar")], members: members(["sidecar"]) })).decisions;
    expect(d).toMatchObject({ stepName: "app-0:[sidecar]", tasks: ["sidecar"], kills: [] });
    expect([...d!.handled]).toEqual(["app-0-sidecar__1"]);
  });

  it("an essential task's end relaunches the whole pod instance in spec order, killing its live tasks first", () => {
    const [d] = planRecovery(input({ failed: [failed("app", 0, "server")], members: members(["server"]) })).decisions;
    expect(d).toMatchObject({ stepName: "app-0:[server, sidecar, metrics]", tasks: ["server", "sidecar", "metrics"] });
    expect(d!.kills).toEqual([
      { instance: "app-0-sidecar", taskId: "app-0-sidecar__1" },
      { instance: "app-0-metrics", taskId: "app-0-metrics__1" },
    ]);
    // The ends of the tasks it kills are its own doing: no new failure, no new decision.
    expect([...d!.handled].sort()).toEqual(["app-0-metrics__1", "app-0-server__1", "app-0-sidecar__1"]);
    expect(recoveryLogLine(d!)).toBe("recovering app-0:[server, sidecar, metrics]: attempt 1 (transient): task app-0-server failed; killing app-0-sidecar, app-0-metrics first; relaunching now");
    const recovery = emptyRecovery();
    const { step } = applyRecoveryDecision(recovery, d!, ids());
    expect(step.recovery?.kills).toEqual(d!.kills);
    const killed = [failed("app", 0, "server"), failed("app", 0, "sidecar", { state: "TASK_KILLED" })];
    expect(planRecovery(input({ recovery, failed: killed, members: members(["server", "sidecar"]) })).decisions).toEqual([]);
  });

  it("a non-essential end then an essential one: the pod's step grows to the whole pod, the same attempt", () => {
    const recovery = emptyRecovery();
    const [first] = planRecovery(input({ recovery, failed: [failed("app", 0, "sidecar")], members: members(["sidecar"]) })).decisions;
    applyRecoveryDecision(recovery, first!, ids());
    const both = [failed("app", 0, "server", { timestampMs: 5 }), failed("app", 0, "sidecar")];
    const [second] = planRecovery(input({ recovery, failed: both, members: members(["server", "sidecar"]) })).decisions;
    expect(second).toMatchObject({ tasks: ["server", "sidecar", "metrics"], kills: [{ instance: "app-0-metrics" }], attempt: 1, why: "task app-0-server failed" });
  });

  it("a permanently failed pod moves whole, also when only a non-essential task was marked", () => {
    const [d] = planRecovery(input({ failed: [failed("app", 0, "sidecar", {}, true)], members: members(["sidecar"]) })).decisions;
    expect(d).toMatchObject({ permanent: true, tasks: ["server", "sidecar", "metrics"] });
    expect(d!.kills.map((k) => k.instance)).toEqual(["app-0-server", "app-0-metrics"]);
  });

  it("without members every task counts as essential and only the dead ones are relaunched (as before)", () => {
    const [d] = planRecovery(input({ failed: [failed("app", 0, "server")] })).decisions;
    expect(d).toMatchObject({ tasks: ["server"], kills: [] });
  });
});

describe("describeTaskEnd", () => {
  it.each<{ name: string; state: TaskState; reason?: string; message?: string; healthy?: boolean; want: string }>([
    { name: "exit code", state: "TASK_FAILED", reason: "REASON_COMMAND_EXECUTOR_FAILED", message: "command exited with status 1", want: "task t failed: command exited with status 1" },
    { name: "signal", state: "TASK_FAILED", message: "command was terminated by SIGKILL", want: "task t failed: command was terminated by SIGKILL" },
    { name: "health check", state: "TASK_KILLED", reason: "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", message: "health check failed 3 times in a row", want: "task t was killed (failed health check): health check failed 3 times in a row" },
    { name: "unhealthy, no reason", state: "TASK_KILLED", healthy: false, want: "task t was killed (failed health check)" },
    { name: "agent lost", state: "TASK_LOST", reason: "REASON_AGENT_REMOVED", message: "agent is unreachable", want: "task t was lost (agent lost): agent is unreachable" },
    { name: "gone", state: "TASK_GONE", reason: "REASON_RECONCILIATION", message: "Reconciliation: Task is unknown", want: "task t is gone (reconciliation): Reconciliation: Task is unknown" },
    { name: "unknown reason", state: "TASK_FAILED", reason: "REASON_IO_SWITCHBOARD_EXITED", want: "task t failed (io switchboard exited)" },
    { name: "exit 0 of a RUNNING task", state: "TASK_FINISHED", message: "command exited with status 0", want: "task t exited although its goal is RUNNING: command exited with status 0" },
  ])("$name", ({ state, reason, message, healthy, want }) => {
    const status: TaskStatus = { taskId: "x", state, timestampMs: 0, ...(reason ? { reason } : {}), ...(message ? { message } : {}), ...(healthy === undefined ? {} : { healthy }) };
    expect(describeTaskEnd("t", status)).toBe(want);
  });

  it("abbreviates a long message", () => {
    const text = describeTaskEnd("t", { taskId: "x", state: "TASK_FAILED", timestampMs: 0, message: "x".repeat(5000) });
    expect(text.length).toBeLessThan(300);
  });
});

/**
 * Recovery of a pod with a non-essential task (§4.2 `essential: false`), as decisions: a dead
 * non-essential task is relaunched alone while its siblings run on; a dead essential one
 * relaunches the whole pod, its live tasks killed first — at once, also during the back-off.
 */
import { describe, expect, it } from "vitest";
import { ids, launched, offer, record, serviceState, spec, steps } from "../../../test/fixtures/service-state.js";
import type { Resource } from "../cluster.js";
import { decideService } from "./decide.js";
import type { StoredTask } from "./task-record.js";

const APP = spec(`
name: app
pods:
  app:
    count: 1
    tasks:
      server: { goal: RUNNING, cmd: serve, cpus: 0.1, memory: 64 }
      sidecar: { goal: RUNNING, cmd: watch, cpus: 0.1, memory: 64, essential: false }
`);

/** Deployed on a1: both tasks' records RUNNING. */
function deployed(): Map<string, StoredTask> {
  const d = decideService(serviceState(APP), [offer("o1", "a1")], 0, ids("n"));
  return new Map([...launched(d).values()].map((info) => [info.name, record(info, "TASK_RUNNING")]));
}

function offerBack(tasks: Map<string, StoredTask>): ReturnType<typeof offer> {
  const held: Resource[] = [...tasks.values()].flatMap((t) => t.info.resources);
  return offer("o2", "a1", {}, held);
}

/** The records with `name` ended in `state`, and the plans as they were while all ran. */
function ended(name: string, state: "TASK_FAILED" | "TASK_KILLED" = "TASK_FAILED"): { tasks: Map<string, StoredTask>; plans: ReturnType<typeof serviceState>["plans"] } {
  const tasks = deployed();
  const { plans } = serviceState(APP, { tasks: new Map(tasks) });
  tasks.set(name, record(tasks.get(name)!.info, state));
  return { tasks, plans };
}

describe("recovery of a pod with a non-essential task", () => {
  it("a dead non-essential task is relaunched alone; its essential sibling is not killed", () => {
    const { tasks, plans } = ended("app-0-sidecar");
    const d = decideService(serviceState(APP, { tasks, plans }), [offerBack(tasks)], 0, ids());
    expect(d.recoveries.map((r) => [r.stepName, r.kills])).toEqual([["app-0:[sidecar]", []]]);
    expect(d.kills).toEqual([]);
    expect([...launched(d).keys()]).toEqual(["app-0-sidecar"]);
  });

  it("a dead essential task kills the live non-essential one first, then relaunches both", () => {
    const { tasks, plans } = ended("app-0-server");
    const sidecar = tasks.get("app-0-sidecar")!.info;
    const d = decideService(serviceState(APP, { tasks, plans }), [offerBack(tasks)], 0, ids());
    expect(d.recoveries.map((r) => r.stepName)).toEqual(["app-0:[server, sidecar]"]);
    const reason = "relaunching pod app-0 whole (task app-0-server failed)";
    expect(d.kills).toEqual([{ taskId: sidecar.taskId, agentId: "a1", reason }]);
    expect(d.launches).toEqual([]);
    expect(steps(d.plans.recovery)).toEqual([["app-0:[server, sidecar]", "PREPARED", `attempt 1 (transient): task app-0-server failed; waiting for app-0-sidecar to stop before ${reason}`]]);

    // Its end is the recovery's doing: no new decision; with both dead, both are relaunched.
    tasks.set("app-0-sidecar", record(sidecar, "TASK_KILLED"));
    const next = decideService(serviceState(APP, { tasks, plans: d.plans }), [offerBack(tasks)], 0, ids());
    expect(next.recoveries).toEqual([]);
    expect(next.kills).toEqual([]);
    expect([...launched(next).keys()].sort()).toEqual(["app-0-server", "app-0-sidecar"]);
  });

  it("the kill goes at once, while the step waits out the back-off", () => {
    const { tasks, plans } = ended("app-0-server");
    const backoff = { counts: new Map([["app-0", { failures: 3 }]]), heldUntilMs: new Map<string, number>() };
    const d = decideService(serviceState(APP, { tasks, plans, backoff }), [], 0, ids());
    expect(steps(d.plans.recovery)[0]!.slice(0, 2)).toEqual(["app-0:[server, sidecar]", "DELAYED"]);
    expect(d.kills.map((k) => k.taskId)).toEqual([tasks.get("app-0-sidecar")!.info.taskId]);
    // Decided again (no new recovery), the kill is repeated until the task is dead.
    const again = decideService(serviceState(APP, { tasks, plans: d.plans, backoff: d.backoff }), [], 500, ids());
    expect(again.kills.map((k) => k.taskId)).toEqual([tasks.get("app-0-sidecar")!.info.taskId]);
  });

  describe("while the deploy step still launches the pod (a task ended before the step completed)", () => {
    /** The deploy launched both; `server` runs, `sidecar` is `sidecar` now; the step saw both statuses. */
    function deploying(server: "TASK_RUNNING" | "TASK_FAILED", sidecar: "TASK_RUNNING" | "TASK_FAILED") {
      const state = serviceState(APP);
      const d = decideService(state, [offer("o1", "a1")], 0, ids("n"));
      const infos = launched(d);
      const tasks = new Map([
        ["app-0-server", record(infos.get("app-0-server")!, server)],
        ["app-0-sidecar", record(infos.get("app-0-sidecar")!, sidecar)],
      ]);
      const step = d.plans.deploy.phases[0]!.steps[0]!;
      for (const [task, info] of [["server", infos.get("app-0-server")!], ["sidecar", infos.get("app-0-sidecar")!]] as const) {
        step.taskIds.set(task, info.taskId);
        step.progress.set(task, tasks.get(info.name)!.status!.state === "TASK_RUNNING" ? "COMPLETE" : "PENDING");
      }
      step.status = "PENDING";
      return { tasks, plans: d.plans, infos };
    }

    it("a dead non-essential task is relaunched alone beside its running sibling", () => {
      const { tasks, plans } = deploying("TASK_RUNNING", "TASK_FAILED");
      const d = decideService(serviceState(APP, { tasks, plans }), [offerBack(tasks)], 0, ids());
      expect(d.kills).toEqual([]);
      expect([...launched(d).keys()]).toEqual(["app-0-sidecar"]);
    });

    it("a dead essential task: its running sibling is killed first, then the step relaunches both", () => {
      const { tasks, plans, infos } = deploying("TASK_FAILED", "TASK_RUNNING");
      const d = decideService(serviceState(APP, { tasks, plans }), [offerBack(tasks)], 0, ids());
      const why = "relaunching app-0:[server, sidecar] whole (its essential task app-0-server ended)";
      expect(d.kills).toEqual([{ taskId: infos.get("app-0-sidecar")!.taskId, agentId: "a1", reason: why }]);
      expect(d.launches).toEqual([]);
      expect(d.unplaced.map((u) => u.reason)).toEqual([`waiting for app-0-sidecar to stop before ${why}`]);
      expect(d.work.candidates).toEqual([]);
      tasks.set("app-0-sidecar", record(infos.get("app-0-sidecar")!, "TASK_KILLED"));
      const next = decideService(serviceState(APP, { tasks, plans: d.plans }), [offerBack(tasks)], 0, ids());
      expect([...launched(next).keys()].sort()).toEqual(["app-0-server", "app-0-sidecar"]);
    });
  });
});

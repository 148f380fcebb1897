/** Folding task statuses into a service's plans, as scenarios (§1.12 step transitions). */
import { describe, expect, it } from "vitest";
import { ids, launched, offer, record, serviceState, spec, status, steps } from "../../../test/fixtures/service-state.js";
import { NO_BACKOFF } from "../plan/backoff.js";
import { markLaunched } from "../plan/step.js";
import { decideService } from "./decide.js";
import { erasedWithStatus, foldStatus } from "./status.js";
import type { StoredTask } from "./task-record.js";

const SVC = spec(`
name: svc
pods:
  web:
    count: 2
    allow-decommission: true
    tasks:
      server: { goal: RUNNING, cmd: serve, cpus: 0.1, memory: 64 }
  init:
    count: 1
    tasks:
      setup: { goal: FINISH, cmd: setup, cpus: 0.1, memory: 64 }
`);

/** The state after web-0's launch was stored: its step STARTING with the task ID. */
function launchedWeb0(): { state: ReturnType<typeof serviceState>; taskId: string } {
  const state = serviceState(SVC);
  const d = decideService(state, [offer("o1", "a1")], 0, ids());
  const info = launched(d).get("web-0-server")!;
  markLaunched(d.plans.deploy.phases[0]!.steps[0]!, new Map([["server", info.taskId]]));
  return { state: { ...state, plans: d.plans, tasks: new Map([[info.name, record(info)]]) }, taskId: info.taskId };
}

describe("task statuses", () => {
  it("RUNNING completes the step that launched the task; a status of another task ID changes nothing", () => {
    const { state, taskId } = launchedWeb0();
    const slot = state.slots.get("web-0-server");
    foldStatus(state.plans, NO_BACKOFF, "web-0-server", slot, status("svc__web-0-server__old", "TASK_RUNNING"), 0);
    expect(steps(state.plans.deploy)[0]?.[1]).toBe("STARTING");
    foldStatus(state.plans, NO_BACKOFF, "web-0-server", slot, status(taskId, "TASK_RUNNING"), 0);
    expect(steps(state.plans.deploy)[0]?.[1]).toBe("COMPLETE");
  });

  it("a FINISH task failing again and again holds its deploy step DELAYED for the back-off", () => {
    const state = serviceState(SVC);
    const step = state.plans.deploy.phases[1]!.steps[0]!;
    const slot = state.slots.get("init-0-setup");
    let backoff = NO_BACKOFF;
    for (const [i, at] of [0, 10].entries()) {
      markLaunched(step, new Map([["setup", `svc__init-0-setup__${i}`]]));
      backoff = foldStatus(state.plans, backoff, "init-0-setup", slot, status(`svc__init-0-setup__${i}`, "TASK_FAILED"), at).backoff;
    }
    expect([step.status, step.message]).toEqual(["DELAYED", "relaunching in 1 s: failed 2 times in a row"]);
    expect([...backoff.heldUntilMs.values()]).toEqual([1010]);
  });

  it("TASK_GONE_BY_OPERATOR sends the deploy step back to PENDING at once and forgets the pod's failures", () => {
    const state = serviceState(SVC);
    const step = state.plans.deploy.phases[1]!.steps[0]!;
    const slot = state.slots.get("init-0-setup");
    const failing = { counts: new Map([["init-0", { failures: 4 }]]), heldUntilMs: new Map<string, number>() };
    markLaunched(step, new Map([["setup", "svc__init-0-setup__1"]]));
    const fold = foldStatus(state.plans, failing, "init-0-setup", slot, status("svc__init-0-setup__1", "TASK_GONE_BY_OPERATOR"), 0);
    expect(step.status).toBe("PENDING");
    expect(fold.backoff.counts.has("init-0")).toBe(false);
    expect(fold.backoff.heldUntilMs.size).toBe(0);
  });

  it("a decommissioned task's end completes its kill step; a pod holding no reservation is erased with that status", () => {
    const web1: StoredTask = {
      info: { name: "web-1-server", taskId: "svc__web-1-server__1", agentId: "a1", resources: [], command: { value: "x", environment: {} }, labels: { task_type: "web", index: "1" } },
      confirmed: false,
    };
    const shrunk = { ...SVC, pods: SVC.pods.map((p) => (p.type === "web" ? { ...p, count: 1 } : p)) };
    const state = serviceState(shrunk, { tasks: new Map([[web1.info.name, web1]]) });
    expect(steps(state.plans.decommission!).map(([n]) => n)).toEqual(["kill-web-1-server", "erase-web-1-server"]);
    const erase = erasedWithStatus(state.plans, "web-1-server");
    expect(erase?.tasks).toEqual(["web-1-server"]);
    const fold = foldStatus(state.plans, NO_BACKOFF, "web-1-server", undefined, status(web1.info.taskId, "TASK_KILLED"), 0);
    expect(fold.slotless).toBe(true);
    expect(steps(state.plans.decommission!)[0]?.[1]).toBe("COMPLETE");
  });
});

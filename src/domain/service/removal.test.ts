/** The decision core of a service being removed, as scenarios (§3.7). */
import { describe, expect, it } from "vitest";
import type { Resource, TaskInfo } from "../cluster.js";
import { ids, offer, record } from "../../../test/fixtures/service-state.js";
import { markKill } from "../plan/uninstall.js";
import { decideRemoval, removalPlan } from "./removal.js";
import type { StoredTask } from "./task-record.js";

function reserved(id: string, name: string, volume = false): Resource {
  const labels = { resource_id: id, namespace: "svc", framework_id: "fw-1" };
  return {
    name,
    type: "SCALAR",
    scalar: 1,
    reservations: [{ type: "DYNAMIC", role: "r", labels }],
    ...(volume ? { disk: { persistence: { id: `v-${id}` }, volume: { containerPath: "data", mode: "RW" as const } } } : {}),
  };
}

function info(name: string, resources: Resource[]): TaskInfo {
  return { name, taskId: `svc__${name}__1`, agentId: "a1", resources, command: { value: "x", environment: {} }, labels: {} };
}

const RUNNING = record(info("web-0-server", [reserved("r1", "cpus"), reserved("r2", "disk", true)]), "TASK_RUNNING");
/** Stored but never reported on: it may never have reserved anything. */
const UNCONFIRMED: StoredTask = { info: info("web-1-server", [reserved("r3", "cpus")]), confirmed: false };

describe("removal", () => {
  it("plans a kill per task and a release per reservation of the confirmed records", () => {
    const plan = removalPlan(new Map([[RUNNING.info.name, RUNNING], [UNCONFIRMED.info.name, UNCONFIRMED]]), new Set(["r2"]), ids());
    expect(plan.phases.map((p) => p.steps.map((s) => [s.name, s.status]))).toEqual([
      [["kill-task-svc__web-0-server__1", "PENDING"], ["kill-task-svc__web-1-server__1", "PENDING"]],
      [["unreserve-r1", "PENDING"], ["unreserve-r2", "COMPLETE"]],
      [["deregister-service", "PENDING"]],
    ]);
  });

  it("waits for no reservation of a permanently failed record (its agent is gone, or they were collected)", () => {
    const gone = record({ ...info("web-2-server", [reserved("r4", "cpus")]), labels: { "permanently-failed": "true" } }, "TASK_GONE_BY_OPERATOR");
    const plan = removalPlan(new Map([[RUNNING.info.name, RUNNING], [gone.info.name, gone]]), new Set(), ids());
    expect(plan.phases[1]!.steps.map((s) => s.name)).toEqual(["unreserve-r1", "unreserve-r2"]);
  });

  it("kills every task not known dead, and releases nothing until all are dead", () => {
    const tasks = new Map([[RUNNING.info.name, RUNNING]]);
    const plan = removalPlan(tasks, new Set(), ids());
    const withReservations = offer("o1", "a1", {}, RUNNING.info.resources);
    const d = decideRemoval("svc", plan, tasks, [withReservations]);
    expect(d.kills.map((k) => k.taskId)).toEqual(["svc__web-0-server__1"]);
    expect(d.releases).toEqual([]);
  });

  it("once every task is dead, releases every reservation of its namespace offered: DESTROY the volumes, then UNRESERVE", () => {
    const dead = record(RUNNING.info, "TASK_KILLED");
    const tasks = new Map([[dead.info.name, dead]]);
    const plan = removalPlan(tasks, new Set(), ids());
    markKill(plan, dead.info.taskId, true);
    const foreign = { ...reserved("x", "mem"), reservations: [{ type: "DYNAMIC" as const, role: "r", labels: { resource_id: "x", namespace: "other" } }] };
    const d = decideRemoval("svc", plan, tasks, [offer("o1", "a1", {}, [...RUNNING.info.resources, foreign]), offer("o2", "a2")]);
    expect(d.kills).toEqual([]);
    expect(d.releases.map((r) => [r.offerId, r.operations.map((o) => o.type), r.resourceIds])).toEqual([["o1", ["DESTROY", "UNRESERVE"], ["r1", "r2"]]]);
  });
});

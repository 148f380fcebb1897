import { describe, expect, it } from "vitest";
import type { ExecutorInfo, Resource, TaskInfo, TaskState } from "../cluster.js";
import { LABEL_PERMANENTLY_FAILED, liveExecutorOf, podFootprint, unownedReservations } from "./task-record.js";
import type { StoredTask } from "./task-record.js";

const reserved = (name: string, id: string, extra: Partial<Resource> = {}): Resource => ({
  name,
  type: "SCALAR",
  scalar: 1,
  reservations: [{ type: "DYNAMIC", role: "r", labels: { resource_id: id, namespace: "svc" } }],
  ...extra,
});
const volume = (id: string, path: string): Resource =>
  reserved("disk", id, { disk: { persistence: { id: `p-${id}` }, volume: { containerPath: path, mode: "RW" } } });

function executor(id: string, volumes: Resource[]): ExecutorInfo {
  return { executorId: id, frameworkId: "f", resources: [{ name: "cpus", type: "SCALAR", scalar: 0.01 }, ...volumes], labels: {} };
}

function record(task: string, exec: ExecutorInfo | undefined, state?: TaskState, extra: Partial<TaskInfo> = {}): StoredTask {
  const info: TaskInfo = {
    name: `pod-0-${task}`,
    taskId: `svc__pod-0-${task}__1`,
    agentId: "a1",
    resources: [reserved("cpus", `c-${task}`)],
    command: { value: "x", environment: {} },
    labels: { task_type: "pod", index: "0", resource_set: `${task}-rs` },
    ...(exec ? { executor: exec } : {}),
    ...extra,
  };
  return { info, confirmed: true, ...(state ? { status: { taskId: info.taskId, state, timestampMs: 0 } } : {}) };
}

describe("task records and the pod's executor", () => {
  const shared = volume("v1", "shared");

  it("podFootprint carries the pod-level volumes of the executors the records ran in, once each", () => {
    const e1 = executor("e1", [shared]);
    const e2 = executor("e2", [shared]);
    const fp = podFootprint([record("a", e1), record("b", e2)]);
    expect(fp?.executorVolumes).toEqual([shared]);
    expect([...fp!.resourceSets.keys()]).toEqual(["a-rs", "b-rs"]);
    expect(podFootprint([record("a", executor("e", []))])?.executorVolumes).toBeUndefined();
    // A replaced pod holds nothing, its executor's volume neither.
    const failed = record("a", e1, undefined, { labels: { task_type: "pod", index: "0", [LABEL_PERMANENTLY_FAILED]: "true" } });
    expect(podFootprint([failed])).toBeUndefined();
  });

  it("unownedReservations treats an executor's volume held by any record as owned", () => {
    const offered = [shared, reserved("cpus", "c-a"), reserved("cpus", "stray")];
    expect(unownedReservations([record("a", executor("e1", [shared]))], offered).map((r) => r.reservations![0]!.labels["resource_id"])).toEqual(["stray"]);
    expect(unownedReservations([record("a", undefined)], offered).map((r) => r.reservations![0]!.labels["resource_id"])).toEqual(["v1", "stray"]);
  });

  it("liveExecutorOf gives the executor of a live sibling not being relaunched, if any", () => {
    const e1 = executor("e1", [shared]);
    const records = new Map([
      ["pod-0-a", record("a", e1, "TASK_FAILED")],
      ["pod-0-b", record("b", e1, "TASK_RUNNING")],
    ]);
    expect(liveExecutorOf(records, new Set(["pod-0-a"]))).toBe(e1);
    expect(liveExecutorOf(records, new Set(["pod-0-a", "pod-0-b"]))).toBeUndefined();
    const killing = new Map([["pod-0-b", record("b", e1, "TASK_KILLING")]]);
    expect(liveExecutorOf(killing, new Set(["pod-0-a"]))).toBeUndefined();
    const noExecutor = new Map([["pod-0-b", record("b", undefined, "TASK_RUNNING")]]);
    expect(liveExecutorOf(noExecutor, new Set(["pod-0-a"]))).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import type { ExecutorInfo, Operation, Resource, TaskInfo } from "../../domain/cluster.js";
import { harness, scalar, states, task, volume } from "./sim-test-kit.js";

function executor(resources: readonly Resource[], over: Partial<ExecutorInfo> = {}): ExecutorInfo {
  return { executorId: "pod-0-exec", frameworkId: "fw-1", resources, labels: {}, ...over };
}

function group(exec: ExecutorInfo, ...tasks: TaskInfo[]): Operation {
  return { type: "LAUNCH_GROUP", executor: exec, tasks };
}

const NOW = { refuseSeconds: 0 };
const EXEC = [scalar("cpus", 0.1), scalar("mem", 32)];
const used = (r: readonly Resource[], name: string): number =>
  r.filter((x) => x.name === name).reduce((n, x) => n + (x.scalar ?? 0), 0);

describe("SimulatedCluster: LAUNCH_GROUP into a live executor (mesos-v1-api.md §11)", () => {
  it("accepts a later group with an identical ExecutorInfo and holds the executor's resources once", async () => {
    const h = await harness({ agents: 1 });
    const a = h.agent0;
    await h.cluster.accept([h.offerFor(a).id], [group(executor(EXEC), task("t1", a, [scalar("cpus", 1)]))], NOW);
    await h.settle();
    await h.cluster.accept([h.offerFor(a).id], [group(executor(EXEC), task("t2", a, [scalar("cpus", 1)]))], NOW);
    await h.settle();
    expect(h.cluster.tasks().map((t) => `${t.taskId}:${t.state}`)).toEqual(["t1:TASK_RUNNING", "t2:TASK_RUNNING"]);
    expect(used(h.cluster.agentResources(a).used, "cpus")).toBe(2.1);
    expect(used(h.cluster.agentResources(a).used, "mem")).toBe(32);
  });

  it("joins groups of one ACCEPT that name the same executor: the first launches it, the others join", async () => {
    const h = await harness({ agents: 1 });
    const a = h.agent0;
    const ops = [
      group(executor(EXEC), task("t1", a, [scalar("cpus", 1)])),
      group(executor(EXEC), task("t2", a, [scalar("cpus", 1)])),
    ];
    await h.cluster.accept([h.offerFor(a).id], ops, NOW);
    await h.settle();
    expect(h.cluster.rejectedOperations()).toEqual([]);
    expect(used(h.cluster.agentResources(a).used, "cpus")).toBe(2.1);
  });

  it("refuses a differing ExecutorInfo under a live executor ID: every task of the group TASK_ERROR", async () => {
    const h = await harness({ agents: 1 });
    const a = h.agent0;
    await h.cluster.accept([h.offerFor(a).id], [group(executor(EXEC), task("t1", a, [scalar("cpus", 1)]))], NOW);
    await h.settle();
    const other = executor(EXEC, { container: { type: "MESOS", linuxInfo: { sharePidNamespace: true } } } as Partial<ExecutorInfo>);
    await h.cluster.accept(
      [h.offerFor(a).id],
      [group(other, task("t2", a, [scalar("cpus", 1)]), task("t3", a, [scalar("cpus", 1)]))], NOW);
    const updates = await h.settle();
    expect(states(updates)).toEqual(["t2:TASK_ERROR", "t3:TASK_ERROR"]);
    expect(updates[0]).toMatchObject({ reason: "REASON_TASK_GROUP_INVALID", source: "SOURCE_MASTER" });
    expect(h.cluster.rejectedOperations()[0]?.reason).toMatch(/pod-0-exec is running with a different ExecutorInfo/);
    const more = executor([scalar("cpus", 0.2), scalar("mem", 32)]);
    await h.cluster.accept([h.offerFor(a).id], [group(more, task("t4", a, [scalar("cpus", 1)]))], NOW);
    expect(states(await h.settle())).toEqual(["t4:TASK_ERROR"]);
    expect(used(h.cluster.agentResources(a).used, "cpus")).toBe(1.1);
  });

  it("frees the executor's resources, pod volumes included, when its last task ends; a failure kills only its own group", async () => {
    const h = await harness({ agents: 1 });
    const a = h.agent0;
    const disk = scalar("disk", 100, "r-pod-vol");
    const vol = volume(100, "r-pod-vol", "pod-0-vol");
    const exec = executor([...EXEC, vol]);
    await h.cluster.accept(
      [h.offerFor(a).id],
      [
        { type: "RESERVE", resources: [disk] },
        { type: "CREATE", volumes: [vol] },
        group(exec, task("t1", a, [scalar("cpus", 1)])),
        group(exec, task("t2", a, [scalar("cpus", 1)])),
      ], NOW);
    await h.settle();
    expect(h.cluster.rejectedOperations()).toEqual([]);
    h.cluster.failTask("t1");
    await h.settle();
    expect(h.cluster.tasks().map((t) => t.taskId)).toEqual(["t2"]); // t2 was another group
    expect(h.cluster.agentResources(a).used.some((r) => r.disk?.persistence?.id === "pod-0-vol")).toBe(true);
    await h.cluster.kill("t2");
    await h.settle();
    expect(h.cluster.agentResources(a).used).toEqual([]);
    const offered = h.cluster.outstandingOffers().flatMap((o) => o.resources);
    expect(offered.some((r) => r.disk?.persistence?.id === "pod-0-vol")).toBe(true);
  });
});

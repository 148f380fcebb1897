/**
 * Permanent recovery (dcos-commons §1.12, §3.6) on the simulated cluster with the fake clock: a
 * pod whose agent the operator removed (TASK_GONE_BY_OPERATOR), or that the operator replaced,
 * moves — fresh placement, new reservation ids — while its old reservations and volumes are
 * released when next offered; an agent that is only unreachable keeps its pods' volumes.
 */
import { describe, expect, it } from "vitest";
import type { Resource } from "../../src/domain/cluster.js";
import { LABEL_NAMESPACE, LABEL_RESOURCE_ID } from "../../src/domain/cluster.js";
import { reservationLabels } from "../../src/domain/offer/pool.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

function live(h: Harness, name: string): { taskId: string; agentId: string } {
  const t = h.cluster.tasks().find((x) => x.name === name && x.state === "TASK_RUNNING");
  if (!t) throw new Error(`no running task ${name}`);
  return t;
}

/** Resource ids a running task holds. */
function heldIds(h: Harness, name: string): Set<string> {
  const t = h.cluster.tasks().find((x) => x.name === name)!;
  return new Set(t.info.resources.flatMap((r) => reservationLabels(r)?.[LABEL_RESOURCE_ID] ?? []));
}

/** Every reservation of the service still on the cluster, by resource id. */
function reservedIds(h: Harness, service: string): Set<string> {
  const all: Resource[] = [...h.cluster.reservations().values()].flat();
  return new Set(all.filter((r) => reservationLabels(r)?.[LABEL_NAMESPACE] === service).flatMap((r) => reservationLabels(r)?.[LABEL_RESOURCE_ID] ?? []));
}

/** Advances until `name` runs under a task ID other than `before`. */
async function relaunched(h: Harness, name: string, before: string): Promise<{ taskId: string; agentId: string }> {
  for (let i = 0; i < 60; i++) {
    const t = h.cluster.tasks().find((x) => x.name === name && x.taskId !== before && x.state === "TASK_RUNNING");
    if (t) return t;
    await h.advance(500);
  }
  throw new Error(`${name} was not relaunched`);
}

describe("permanent recovery", () => {
  it("moves a pod whose agent the operator removed to another agent with new reservations", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const before = live(h, "world-0-server");
    const oldIds = heldIds(h, "world-0-server");

    h.cluster.removeAgent(before.agentId);
    const after = await relaunched(h, "world-0-server", before.taskId);
    expect(after.agentId).not.toBe(before.agentId);
    const newIds = heldIds(h, "world-0-server");
    expect([...newIds].filter((id) => oldIds.has(id))).toEqual([]);
    expect([...oldIds].filter((id) => reservedIds(h, "hello").has(id))).toEqual([]); // gone with the agent

    await h.advance(2000);
    const step = h.scheduler.getPlan("hello", "recovery").phases.find((p) => p.name === "world")!.steps.find((s) => s.name.startsWith("world-0"))!;
    expect(step).toMatchObject({ status: "COMPLETE", message: expect.stringMatching(/^attempt 1 \(permanent\): task world-0-server was marked gone by the operator \(agent removed by operator\): agent was removed by the operator; recovered$/) });
    expect(h.deployStatus("hello")).toBe("COMPLETE");
    const pod = (await h.scheduler.listPods("hello")).find((p) => p.name === "world-0")!;
    expect(pod).toMatchObject({ permanentlyFailed: false, agentId: after.agentId });
    expect(new Set(pod.reservations.map((r) => r.resourceId))).toEqual(newIds);
  });

  it("relaunches a pod on an unreachable agent in place only, however long it is away: its reservations are kept", async () => {
    const h = await createHarness();
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    const before = live(h, "hello-0-server");
    const ids = heldIds(h, "hello-0-server");
    h.cluster.crashAgent(before.agentId);
    await h.advance(10 * 60_000);
    expect(h.cluster.tasks()).toEqual([]); // two other agents, but the pod does not move
    expect(h.scheduler.getPlan("simple", "recovery").phases[0]!.steps[0]!.message).toMatch(/^attempt 1 \(transient\): /);
    h.cluster.recoverAgent(before.agentId);
    const after = await relaunched(h, "hello-0-server", before.taskId);
    expect(after.agentId).toBe(before.agentId);
    expect(heldIds(h, "hello-0-server")).toEqual(ids);
  });

  it("with the opt-in timeout, moves a pod whose agent stays unreachable that long, counting from when it became unreachable", async () => {
    const h = await createHarness({ scheduler: { replaceUnreachableAfterMs: 60_000 } });
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const before = live(h, "world-0-server");
    const oldIds = heldIds(h, "world-0-server");
    const crashedAt = h.clock.now();
    h.cluster.crashAgent(before.agentId);
    await h.advance(50_000);
    expect(h.cluster.tasks().some((t) => t.name === "world-0-server")).toBe(false);
    const step = (): string => h.scheduler.getPlan("hello", "recovery").phases.find((p) => p.name === "world")!.steps[0]!.message;
    expect(step()).toMatch(/^attempt 1 \(transient\): task world-0-server is unreachable/);
    await h.cluster.reconcile([{ taskId: before.taskId, agentId: before.agentId }]); // UNREACHABLE again, stamped now
    await h.settle();
    const after = await relaunched(h, "world-0-server", before.taskId);
    expect(h.clock.now() - crashedAt).toBeLessThan(70_000);
    expect(after.agentId).not.toBe(before.agentId);
    expect([...heldIds(h, "world-0-server")].filter((id) => oldIds.has(id))).toEqual([]);
    expect(step()).toMatch(/^attempt 2 \(permanent\): task world-0-server is unreachable/);
  });

  it("replaces a pod on the operator's word: new reservations, the old ones unreserved and its volumes destroyed", async () => {
    const destroyed: string[] = [];
    const h = await createHarness({ agents: 1, sim: { onVolumesDestroyed: (_agent, ids) => destroyed.push(...ids) } });
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const before = live(h, "world-0-server");
    const oldIds = heldIds(h, "world-0-server");
    const oldVolumes = (await h.scheduler.listPods("hello")).find((p) => p.name === "world-0")!.reservations.flatMap((r) => (r.persistenceId ? [r.persistenceId] : []));
    expect(oldVolumes).toHaveLength(2);

    const result = await h.scheduler.controlPod({ name: "hello", pod: "world-0", action: "REPLACE" });
    expect(result).toMatchObject({ changed: true, killed: [before.taskId], pod: { name: "world-0", permanentlyFailed: true } });
    expect(h.scheduler.getService("hello").state).not.toBe("IDLE");

    await relaunched(h, "world-0-server", before.taskId);
    await h.advance(2000);
    const newIds = heldIds(h, "world-0-server");
    expect([...newIds].filter((id) => oldIds.has(id))).toEqual([]);
    const reserved = reservedIds(h, "hello");
    expect([...oldIds].filter((id) => reserved.has(id))).toEqual([]); // unreserved when offered
    expect([...newIds].every((id) => reserved.has(id))).toBe(true);
    expect(destroyed.sort()).toEqual(oldVolumes.sort()); // world-0's two volumes, no other
    const step = h.scheduler.getPlan("hello", "recovery").phases[0]!.steps[0]!;
    expect(step).toMatchObject({ name: "world-0:[server]", status: "COMPLETE", message: expect.stringMatching(/^attempt 1 \(permanent\): task world-0-server was killed: .*; recovered$/) });
    const pod = (await h.scheduler.listPods("hello")).find((p) => p.name === "world-0")!;
    expect(pod.permanentlyFailed).toBe(false);
    expect(pod.reservations.filter((r) => r.persistenceId !== "").map((r) => r.containerPath).sort()).toEqual(["world-container-path1", "world-container-path2"]);
  });
});

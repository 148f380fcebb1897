/**
 * The event client's default service (dcos-commons §1.3): statuses of `name__uuid` task IDs and
 * reservations without a namespace label go to the service named like the framework (sanitized
 * on both sides, §7.2 hazard 2 fixed); without one they are unknown, or left alone.
 */
import { describe, expect, it } from "vitest";
import type { Offer, Resource, TaskStatus } from "../../src/domain/cluster.js";
import { ownReservations } from "../../src/engine/deploy-limit.js";
import type { ManagedService, OfferResult } from "../../src/engine/managed-service.js";
import { MultiServiceEventClient } from "../../src/engine/multi-service-event-client.js";
import { MultiServiceManager } from "../../src/engine/multi-service-manager.js";

/** A working service that records the statuses and resources it is asked about and disowns `stray`. */
function stub(name: string) {
  const statuses: string[] = [];
  const judged: string[] = [];
  const told: boolean[] = [];
  const svc = {
    name,
    sanitizedName: name.replace(/^\/+|\/+$/g, "").replaceAll("/", "."),
    status: () => ({ kind: "WORKING", footprint: false, newWork: false }),
    offers: async (): Promise<OfferResult> => ({ ready: true, unplaced: 0, operations: new Map() }),
    cycleFailed: () => undefined,
    defaultService: (isDefault: boolean) => told.push(isDefault),
    unexpectedResources: (rs: readonly Resource[]) => {
      judged.push(...rs.map((r) => r.name));
      return rs.filter((r) => r.name === "stray");
    },
    prepareStatus: (status: TaskStatus) => {
      statuses.push(status.taskId);
      return { service: svc, status, ops: [], apply: () => "processed" as const };
    },
  };
  return { svc: svc as unknown as ManagedService, statuses, judged, told };
}

const offer = (id: string, resources: Resource[]): Offer => ({ id, frameworkId: "f", agentId: "a", hostname: "h", resources });
const reserved = (name: string, labels: Record<string, string>): Resource => ({
  name,
  type: "SCALAR",
  scalar: 1,
  reservations: [{ type: "DYNAMIC", role: "r", labels }],
});
const status = (taskId: string): TaskStatus => ({ taskId, state: "TASK_RUNNING", timestampMs: 0 });

function client(manager: MultiServiceManager, frameworkName?: string): MultiServiceEventClient {
  return new MultiServiceEventClient(manager, async () => undefined, undefined, undefined, frameworkName);
}

describe("default service routing", () => {
  it("a `name__uuid` status reaches the framework-named service; a foldered framework name matches", async () => {
    const manager = new MultiServiceManager();
    const fw = stub("team/fw");
    const other = stub("other");
    manager.put(fw.svc);
    manager.put(other.svc);
    const { done } = await client(manager, "/team/fw").taskStatuses([status("hello-0-server__u1"), status("other__x-0-t__u2")]);
    expect(done.map((d) => d.answer)).toEqual(["processed", "processed"]);
    expect(fw.statuses).toEqual(["hello-0-server__u1"]);
    expect(other.statuses).toEqual(["other__x-0-t__u2"]);
  });

  it("without a framework-named service a `name__uuid` status is unknown (the task is killed)", async () => {
    const manager = new MultiServiceManager();
    const other = stub("other");
    manager.put(other.svc);
    const { done } = await client(manager, "fw").taskStatuses([status("hello-0-server__u1")]);
    expect(done.map((d) => d.answer)).toEqual(["unknown"]);
    expect(other.statuses).toEqual([]);
  });

  it("a quarantined framework-named service's `name__uuid` statuses are left alone, as its other tasks are", async () => {
    const manager = new MultiServiceManager();
    manager.putQuarantined({ name: "fw", error: "broken", sinceMs: 0 });
    const { done } = await client(manager, "fw").taskStatuses([status("hello-0-server__u1")]);
    expect(done.map((d) => d.answer)).toEqual(["processed"]);
  });

  it("unlabelled reservations of ours are the default service's to judge; another framework's are never touched", () => {
    const manager = new MultiServiceManager();
    const fw = stub("team/fw");
    manager.put(fw.svc);
    const held = reserved("mem", { resource_id: "r1", framework_id: "f" });
    const stray = reserved("stray", { resource_id: "r2", framework_id: "f" });
    const theirs = reserved("cpus", { resource_id: "r3", framework_id: "other" });
    const notOurs = reserved("disk", { framework_id: "f" }); // no resource_id: not made by a scheduler
    const unclaimed = reserved("gpus", { resource_id: "r4" }); // no framework_id: maybe another framework's
    const result = client(manager, "team/fw").unexpectedResources([offer("o1", [held, stray, theirs, notOurs, unclaimed])]);
    expect(result.get("o1")).toEqual([stray]);
    expect(fw.judged).toEqual(["mem", "stray"]);
  });

  it("without a framework-named service (or with it quarantined) unlabelled reservations are left alone", () => {
    const manager = new MultiServiceManager();
    manager.put(stub("other").svc);
    const unlabelled = reserved("stray", { resource_id: "r2", framework_id: "f" });
    expect(client(manager, "fw").unexpectedResources([offer("o1", [unlabelled])]).size).toBe(0);
    manager.putQuarantined({ name: "fw", error: "broken", sinceMs: 0 });
    expect(client(manager, "fw").unexpectedResources([offer("o1", [unlabelled])]).size).toBe(0);
  });

  it("tells each service before its offers whether it is the default service", async () => {
    const manager = new MultiServiceManager();
    const fw = stub("fw");
    const other = stub("other");
    manager.put(fw.svc);
    manager.put(other.svc);
    const c = client(manager, "fw");
    c.clientStatus();
    await c.offers([offer("o1", [])]);
    expect(fw.told).toEqual([true]);
    expect(other.told).toEqual([false]);
  });

  it("the deployment limit offers the default service its unlabelled reservations as its own", () => {
    const labelled = reserved("cpus", { resource_id: "r1", namespace: "other" });
    const unlabelled = reserved("mem", { resource_id: "r2", framework_id: "f" });
    const own = ownReservations([offer("o1", [labelled, unlabelled])], "fw");
    expect(own.get("fw")?.map((o) => o.resources)).toEqual([[unlabelled]]);
    expect(own.get("other")?.map((o) => o.resources)).toEqual([[labelled]]);
    expect(ownReservations([offer("o1", [unlabelled])]).size).toBe(0);
  });
});

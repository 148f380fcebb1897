import { describe, expect, it } from "vitest";
import type { Offer, Resource, TaskStatus } from "../domain/cluster.js";
import { cleanupOperations } from "../domain/offer/release.js";
import { MultiServiceEventClient } from "./multi-service-event-client.js";
import { MultiServiceManager } from "./multi-service-manager.js";
import type { ClientStatus, KillDecision, OfferResult } from "./managed-service.js";
import type { ServiceScheduler } from "./service-scheduler.js";

/**
 * A service that records the offers it saw, takes the first one when `eats`, decides `kills`,
 * and throws in `offers` while `throws` is set.
 */
function stub(name: string, status: ClientStatus, eats = false, kills: KillDecision[] = []) {
  const seen: string[][] = [];
  const failed: string[] = [];
  const control = { throws: false };
  const svc = {
    name,
    sanitizedName: name.replaceAll("/", "."),
    status: () => status,
    offers: async (offers: readonly Offer[]): Promise<OfferResult> => {
      seen.push(offers.map((o) => o.id));
      if (control.throws) throw new Error(`${name} broke`);
      const first = offers[0];
      const operations = new Map(eats && first ? [[first.id, [{ type: "UNRESERVE" as const, resources: [] }]]] : []);
      return { ready: true, unplaced: 0, operations, kills };
    },
    cycleFailed: (error: string) => failed.push(error),
    unexpectedResources: (rs: readonly Resource[]) => rs.filter((r) => r.name === "stray"),
    prepareStatus: (status: TaskStatus) => ({ service: svc, status, ops: [], apply: () => "processed" as const }),
  };
  return { svc: svc as unknown as ServiceScheduler, seen, failed, control };
}

const working: ClientStatus = { kind: "WORKING", footprint: true, newWork: false };
const offer = (id: string, resources: Resource[] = []): Offer => ({ id, frameworkId: "f", agentId: "a", hostname: "h", resources });
const reserved = (name: string, labels: Record<string, string>): Resource => ({
  name,
  type: "SCALAR",
  scalar: 1,
  reservations: [{ type: "DYNAMIC", role: "r", labels: { resource_id: "x", ...labels } }],
});

describe("MultiServiceEventClient", () => {
  it("rotates the order in which working services see offers, so none is starved", async () => {
    const manager = new MultiServiceManager();
    const services = ["a", "b", "c"].map((n) => stub(n, working, true));
    services.forEach((s) => manager.put(s.svc));
    const client = new MultiServiceEventClient(manager);
    for (let cycle = 0; cycle < 3; cycle++) {
      client.clientStatus();
      await client.offers([offer("o1")]);
    }
    // Each cycle a different service was first in line and took the single offer; the
    // services after it saw nothing.
    const takers = services.map((s) => s.seen.filter((ids) => ids.length === 1).length);
    expect(takers).toEqual([1, 1, 1]);
  });

  it("shows an offer one service used to no later service in the same cycle", async () => {
    const manager = new MultiServiceManager();
    const eater = stub("a", working, true);
    const other = stub("b", working);
    manager.put(eater.svc);
    manager.put(other.svc);
    const client = new MultiServiceEventClient(manager);
    client.clientStatus();
    await client.offers([offer("o1"), offer("o2")]);
    expect(eater.seen[0]).toEqual(["o1", "o2"]);
    expect(other.seen[0]).toEqual(["o2"]);
  });

  it("skips a service that throws: its offers go to the next, which still launch; it is told and reported", async () => {
    const manager = new MultiServiceManager();
    const broken = stub("a", working, true);
    broken.control.throws = true;
    const next = stub("b", working, true);
    manager.put(broken.svc);
    manager.put(next.svc);
    const client = new MultiServiceEventClient(manager);
    client.clientStatus();
    const result = await client.offers([offer("o1")]);
    expect(next.seen).toEqual([["o1"]]);
    expect([...result.operations.keys()]).toEqual(["o1"]);
    expect(result.users.get("o1")?.map((s) => s.name)).toEqual(["b"]);
    expect(broken.failed).toEqual(["a broke"]);
    expect(result.failures.map((f) => f.service)).toEqual(["a"]);
    // It wants offers again soon: the unused ones are declined short.
    expect(result.ready).toBe(false);
  });

  it("calls every working service, with no offers once they are taken, and gathers their kills", async () => {
    const manager = new MultiServiceManager();
    const kill = (taskId: string): KillDecision => ({ taskId, reason: "test" });
    const first = stub("a", working, true, [kill("t1")]);
    const second = stub("b", working, true, [kill("t2")]);
    manager.put(first.svc);
    manager.put(second.svc);
    const client = new MultiServiceEventClient(manager);
    client.clientStatus();
    const result = await client.offers([offer("o1")]);
    expect(first.seen).toEqual([["o1"]]);
    expect(second.seen).toEqual([[]]);
    expect(result.kills.map((k) => k.taskId)).toEqual(["t1", "t2"]);
  });

  it("leaves a service whose status throws out of the cycle and reports it with the offers", async () => {
    const manager = new MultiServiceManager();
    const broken = stub("a", working, true);
    (broken.svc as unknown as { status: () => ClientStatus }).status = () => {
      throw new Error("status broke");
    };
    manager.put(broken.svc);
    const client = new MultiServiceEventClient(manager);
    expect(client.clientStatus()).toEqual({ kind: "IDLE" });
    const result = await client.offers([offer("o1")]);
    expect(broken.seen).toEqual([]);
    expect(broken.failed).toEqual(["status broke"]);
    expect(result.failures.map((f) => f.service)).toEqual(["a"]);
  });

  it("reports IDLE when no service works and skips idle services", async () => {
    const manager = new MultiServiceManager();
    const idle = stub("a", { kind: "IDLE" });
    manager.put(idle.svc);
    const client = new MultiServiceEventClient(manager);
    expect(client.clientStatus()).toEqual({ kind: "IDLE" });
    await client.offers([offer("o1")]);
    expect(idle.seen).toEqual([]);
  });

  it("releases reservations of unknown services, asks known ones, and never touches un-namespaced ones", () => {
    const manager = new MultiServiceManager();
    manager.put(stub("known", working).svc);
    const client = new MultiServiceEventClient(manager);
    const gone = reserved("cpus", { namespace: "gone" });
    const stray = reserved("stray", { namespace: "known" });
    const kept = reserved("mem", { namespace: "known" });
    const foreign = reserved("cpus", {});
    const result = client.unexpectedResources([offer("o1", [gone, stray, kept, foreign])]);
    expect(result.get("o1")).toEqual([gone, stray]);
  });

  it("never collects another framework's reservations in the role, even of a namespace no service owns", () => {
    const client = new MultiServiceEventClient(new MultiServiceManager());
    const theirs = reserved("cpus", { namespace: "gone", framework_id: "other" });
    const ours = reserved("mem", { namespace: "gone", framework_id: "f" });
    const unlabelled = reserved("disk", { namespace: "gone" });
    expect(client.unexpectedResources([offer("o1", [theirs, ours, unlabelled])]).get("o1")).toEqual([ours, unlabelled]);
    expect(client.unexpectedResources([offer("o2", [theirs])]).has("o2")).toBe(false);
  });

  it("collects the refined (pre-reserved) reservations of a gone service by their DYNAMIC layer only, leaving the STATIC ones alone", () => {
    const client = new MultiServiceEventClient(new MultiServiceManager());
    const STATIC = { type: "STATIC" as const, role: "pre", labels: {} };
    const refined: Resource = {
      name: "disk",
      type: "SCALAR",
      scalar: 50,
      reservations: [STATIC, { type: "DYNAMIC", role: "pre/corral-role", labels: { resource_id: "v", namespace: "gone", framework_id: "f" } }],
      disk: { persistence: { id: "p1", principal: "corral-principal" }, volume: { containerPath: "data", mode: "RW" } },
    };
    const bare: Resource = { name: "cpus", type: "SCALAR", scalar: 2, reservations: [STATIC] };
    const garbage = client.unexpectedResources([offer("o1", [refined, bare])]).get("o1");
    expect(garbage).toEqual([refined]);
    // DESTROY the volume, then UNRESERVE the resource as offered (both layers): Mesos pops the
    // last one, and the STATIC reservation stays the agent's.
    const ops = cleanupOperations(garbage!);
    expect(ops.map((o) => o.type)).toEqual(["DESTROY", "UNRESERVE"]);
    const unreserve = ops[1]!;
    expect(unreserve.type === "UNRESERVE" && unreserve.resources.map((r) => r.reservations)).toEqual([refined.reservations]);
  });

  it("routes statuses by the service name inside the task ID", async () => {
    const manager = new MultiServiceManager();
    manager.put(stub("team/db", working).svc);
    const client = new MultiServiceEventClient(manager);
    const ids = ["team.db__db-0-server__u", "other__db-0-server__u", "legacy__u", "malformed"];
    const { done, error } = await client.taskStatuses(ids.map((taskId) => ({ taskId, state: "TASK_RUNNING" as const, timestampMs: 0 })));
    expect(error).toBeUndefined();
    expect(done.map((d) => [d.status.taskId, d.answer])).toEqual([
      ["team.db__db-0-server__u", "processed"],
      ["other__db-0-server__u", "unknown"],
      ["legacy__u", "unknown"],
      ["malformed", "unknown"],
    ]);
  });
});

describe("MultiServiceManager", () => {
  it("refuses a second name with the same sanitized form and keeps the first", () => {
    const manager = new MultiServiceManager();
    manager.put(stub("path/to/1", working).svc);
    expect(() => manager.put(stub("path.to/1", working).svc)).toThrowError(/share the task-ID name 'path.to.1'/);
    expect(manager.names()).toEqual(["path/to/1"]);
    manager.remove("path/to/1");
    manager.put(stub("path.to/1", working).svc);
    expect(manager.names()).toEqual(["path.to/1"]);
  });
});

import { describe, expect, it } from "vitest";
import type { Offer, Resource, TaskStatus } from "../domain/cluster.js";
import { MultiServiceEventClient } from "./multi-service-event-client.js";
import { MultiServiceManager } from "./multi-service-manager.js";
import type { ClientStatus, OfferResult, ServiceScheduler } from "./service-scheduler.js";

/** A service that records the offers it saw and takes the first one when `eats`. */
function stub(name: string, status: ClientStatus, eats = false) {
  const seen: string[][] = [];
  const svc = {
    name,
    sanitizedName: name.replaceAll("/", "."),
    status: () => status,
    offers: async (offers: readonly Offer[]): Promise<OfferResult> => {
      seen.push(offers.map((o) => o.id));
      const first = offers[0];
      const operations = new Map(eats && first ? [[first.id, [{ type: "UNRESERVE" as const, resources: [] }]]] : []);
      return { ready: true, unplaced: 0, operations };
    },
    unexpectedResources: (rs: readonly Resource[]) => rs.filter((r) => r.name === "stray"),
    prepareStatus: (status: TaskStatus) => ({ service: svc, status, ops: [] }),
    applyStatus: () => "processed" as const,
  };
  return { svc: svc as unknown as ServiceScheduler, seen };
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

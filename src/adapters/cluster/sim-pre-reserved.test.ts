import { describe, expect, it } from "vitest";
import type { Reservation, Resource } from "../../domain/cluster.js";
import { SeededRandom } from "../fake-clock.js";
import { SimulatedCluster } from "./simulated-cluster.js";
import { FRAMEWORK, harness, launch, scalar, task } from "./sim-test-kit.js";

const NOW = { refuseSeconds: 0 };
const POOL = { role: "pool", cpus: 1, memMb: 1024, diskMb: 2000, ports: [{ begin: 31990, end: 32000 }] };
const AGENT = { cpus: 4, memMb: 4096, diskMb: 10000, preReserved: [POOL] };
const STATIC: Reservation = { type: "STATIC", role: "pool", labels: {} };
const SUB = `pool/${FRAMEWORK.role}`;

function refined(name: string, amount: number, id: string, role = SUB): Resource {
  const dynamic: Reservation = { type: "DYNAMIC", role, principal: FRAMEWORK.principal, labels: { resource_id: id } };
  return { ...scalar(name, amount), reservations: [STATIC, dynamic] };
}


describe("SimulatedCluster: pre-reserved (STATIC) pools and refined reservations", () => {
  it("takes the pool out of the unreserved resources and offers it only to the pool's role and its descendants", async () => {
    const plain = await harness({ agents: [AGENT] });
    const [offer, ...more] = plain.cluster.outstandingOffers();
    expect(more).toEqual([]);
    expect(offer?.resources.filter((r) => r.reservations)).toEqual([]);
    expect(offer?.resources.find((r) => r.name === "cpus")?.scalar).toBe(3);
    expect(offer?.resources.find((r) => r.name === "ports")?.ranges).toEqual([{ begin: 31000, end: 31989 }]);

    const h = await harness({ agents: [AGENT], roles: [SUB] });
    const offers = h.cluster.outstandingOffers();
    expect(offers.map((o) => h.cluster.offerRole(o.id))).toEqual([FRAMEWORK.role, SUB]);
    expect(offers[1]?.resources).toEqual([
      { name: "cpus", type: "SCALAR", scalar: 1, reservations: [STATIC] },
      { name: "disk", type: "SCALAR", scalar: 2000, reservations: [STATIC] },
      { name: "mem", type: "SCALAR", scalar: 1024, reservations: [STATIC] },
      { name: "ports", type: "RANGES", ranges: [{ begin: 31990, end: 32000 }], reservations: [STATIC] },
    ]);
    expect(h.cluster.reservations().size).toBe(0); // a STATIC pool is not a framework's reservation
  });

  it("refines the pool with RESERVE, creates a volume on refined disk, and UNRESERVE pops back to the pool", async () => {
    const h = await harness({ agents: [AGENT], roles: [SUB] });
    const a = h.agent0;
    const poolOffers = (): string[] => h.cluster.outstandingOffers().flatMap((o) => (h.cluster.offerRole(o.id) === SUB ? [o.id] : []));
    const cpu = refined("cpus", 0.5, "r-cpu");
    const disk = refined("disk", 500, "r-disk");
    const vol: Resource = { ...disk, disk: { persistence: { id: "v1" }, volume: { containerPath: "data", mode: "RW" } } };
    await h.cluster.accept(
      poolOffers(),
      [{ type: "RESERVE", resources: [cpu, disk] }, { type: "CREATE", volumes: [vol] }, launch([task("t1", a, [cpu, vol])])],
      NOW,
    );
    await h.settle();
    expect(h.cluster.rejectedOperations()).toEqual([]);
    expect(h.cluster.tasks().map((t) => t.state)).toEqual(["TASK_RUNNING"]);
    expect(h.cluster.reservations().get(a)?.map((r) => r.reservations?.map((x) => `${x.type}:${x.role}`))).toEqual([
      ["STATIC:pool", `DYNAMIC:${SUB}`],
      ["STATIC:pool", `DYNAMIC:${SUB}`],
    ]);
    // A restored master (the local agent's restart) has the refined reservations and the volume back.
    const copy = new SimulatedCluster({ agents: [AGENT], clock: h.clock, random: new SeededRandom(1), masterId: h.cluster.masterId });
    const restored = copy.restore(h.cluster.snapshot());
    expect(restored.problems).toEqual([]);
    expect(copy.reservations()).toEqual(h.cluster.reservations());
    expect(copy.agentResources(a).used).toEqual(h.cluster.agentResources(a).used);
    await h.cluster.kill("t1");
    await h.settle();
    await h.cluster.accept(poolOffers(), [{ type: "DESTROY", volumes: [vol] }, { type: "UNRESERVE", resources: [cpu, disk] }], NOW);
    await h.settle();
    expect(h.cluster.rejectedOperations()).toEqual([]);
    expect(h.cluster.reservations().size).toBe(0);
    const total = h.cluster.agentResources(a).total.filter((r) => r.reservations);
    expect(total.map((r) => [r.name, r.scalar ?? r.ranges, r.reservations])).toEqual([
      ["cpus", 1, [STATIC]],
      ["disk", 2000, [STATIC]],
      ["mem", 1024, [STATIC]],
      ["ports", [{ begin: 31990, end: 32000 }], [STATIC]],
    ]);
  });

  it("rejects refinements that are not below the pool's role, to roles the framework lacks, or from the wrong offer", async () => {
    const h = await harness({ agents: [{ ...AGENT, preReserved: [{ ...POOL, role: SUB }] }], roles: [SUB] });
    const staticSub: Reservation = { ...STATIC, role: SUB };
    const same: Resource = { ...scalar("cpus", 0.5), reservations: [staticSub, { type: "DYNAMIC", role: SUB, principal: FRAMEWORK.principal, labels: {} }] };
    const other: Resource = { ...scalar("cpus", 0.5), reservations: [staticSub, { type: "DYNAMIC", role: `${SUB}/x`, principal: FRAMEWORK.principal, labels: {} }] };
    const subOffer = h.cluster.outstandingOffers().find((o) => h.cluster.offerRole(o.id) === SUB)!;
    await h.cluster.accept([subOffer.id], [{ type: "RESERVE", resources: [same] }, { type: "RESERVE", resources: [other] }, { type: "UNRESERVE", resources: [{ ...scalar("cpus", 1), reservations: [staticSub] }] }], NOW);
    h.clock.advance(0);
    const mainOffer = h.cluster.outstandingOffers().find((o) => h.cluster.offerRole(o.id) === FRAMEWORK.role)!;
    const wrongOffer: Resource = { ...scalar("cpus", 0.5), reservations: [{ type: "DYNAMIC", role: SUB, principal: FRAMEWORK.principal, labels: {} }] };
    await h.cluster.accept([mainOffer.id], [{ type: "RESERVE", resources: [wrongOffer] }], NOW);
    h.clock.advance(0);
    expect(h.cluster.rejectedOperations().map((r) => r.reason)).toEqual([
      expect.stringMatching(/role 'pool\/svc-role' does not refine the reservation to 'pool\/svc-role'/),
      expect.stringMatching(/role 'pool\/svc-role\/x' is not one of the framework roles 'svc-role', 'pool\/svc-role'/),
      expect.stringMatching(/UNRESERVE of cpus: not dynamically reserved/),
      expect.stringMatching(/role 'pool\/svc-role' is not the offer's allocation role 'svc-role'/),
    ]);
    expect(h.cluster.reservations().size).toBe(0);
  });

  it("refuses an ACCEPT of offers allocated to different roles", async () => {
    const h = await harness({ agents: [AGENT], roles: [SUB] });
    const ids = h.cluster.outstandingOffers().map((o) => o.id);
    await h.cluster.accept(ids, [launch([task("t1", h.agent0, [scalar("cpus", 1)])])], NOW);
    const updates = await h.settle();
    expect(updates).toMatchObject([{ taskId: "t1", state: "TASK_DROPPED", message: "offers span several allocation roles" }]);
  });

  it("rejects a pool larger than the agent", () => {
    return expect(harness({ agents: [{ ...AGENT, preReserved: [{ ...POOL, cpus: 5 }] }] })).rejects.toThrow(/pre-reserved cpus \(5\) exceed the agent's 4/);
  });
});

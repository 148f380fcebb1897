import { describe, expect, it } from "vitest";
import type { Operation, Resource } from "../../domain/cluster.js";
import type { ClusterEvents } from "../../engine/ports.js";
import { FakeClock, SeededRandom } from "../fake-clock.js";
import { LABEL_SIM_EXIT_CODE, SimulatedCluster } from "./simulated-cluster.js";
import { FRAMEWORK, harness, launch, reserved, scalar, scalarOf, states, task, volume } from "./sim-test-kit.js";

// Tests -----------------------------------------------------------------------------------------

describe("SimulatedCluster", () => {
  it("sends SUBSCRIBED, then one offer per agent with all its resources", async () => {
    const clock = new FakeClock();
    const cluster = new SimulatedCluster({
      agents: [{ cpus: 4, memMb: 2048 }, { hostname: "b" }],
      clock,
      random: new SeededRandom(1),
    });
    const order: string[] = [];
    const events: ClusterEvents = {
      subscribed: (id) => order.push(`subscribed ${id}`),
      offers: (offers) =>
        order.push(...offers.map((o) => `offer ${o.hostname} cpus=${scalarOf(o, "cpus")}`)),
      rescind: () => undefined,
      update: () => undefined,
      disconnected: () => undefined,
    };
    await cluster.subscribe(FRAMEWORK, events);
    expect(order).toEqual([]); // never inside the call
    clock.advance(0);
    expect(order).toEqual([
      `subscribed ${cluster.masterId}-0000`,
      "offer agent-0.sim.local cpus=4",
      "offer b cpus=8",
    ]);
    const [first] = cluster.outstandingOffers();
    expect(first?.resources).toEqual([
      { name: "cpus", type: "SCALAR", scalar: 4 },
      { name: "disk", type: "SCALAR", scalar: 102400 },
      { name: "mem", type: "SCALAR", scalar: 2048 },
      { name: "ports", type: "RANGES", ranges: [{ begin: 31000, end: 32000 }] },
    ]);
    clock.advance(60_000);
    expect(order).toHaveLength(3); // outstanding resources are not offered again
  });

  it("reserves and launches: STARTING, then RUNNING once STARTING is acknowledged", async () => {
    const h = await harness();
    const offer = h.offerFor(h.agent0);
    const resources = [scalar("cpus", 1, "r-cpu"), scalar("mem", 256, "r-mem")];
    const check = {
      command: "true",
      intervalS: 1,
      timeoutS: 1,
      delayS: 0,
      gracePeriodS: 0,
      consecutiveFailures: 1,
    };
    await h.cluster.accept(
      [offer.id],
      [{ type: "RESERVE", resources }, launch([task("t1", h.agent0, resources, { check })])],
    );
    expect(h.log.updates).toEqual([]);
    h.clock.advance(0);
    const [starting, ...rest] = h.takeUpdates();
    expect(rest).toEqual([]);
    expect(starting).toMatchObject({
      taskId: "t1",
      state: "TASK_STARTING",
      agentId: h.agent0,
      source: "SOURCE_EXECUTOR",
    });
    expect(starting?.uuid).toMatch(/^[0-9a-f-]{36}$/);
    await h.cluster.acknowledge(h.agent0, "t1", starting?.uuid ?? "");
    h.clock.advance(0);
    const [running] = h.takeUpdates();
    expect(running).toMatchObject({ state: "TASK_RUNNING", checkStatus: { exitCode: 0 } });
    expect(h.cluster.tasks().map((t) => [t.taskId, t.state])).toEqual([["t1", "TASK_RUNNING"]]);
    expect(h.cluster.counts).toMatchObject({ accepts: 1, reserves: 1, launches: 1 });
    expect(
      h.cluster
        .reservations()
        .get(h.agent0)
        ?.map((r) => r.reservations?.[0]?.labels["resource_id"]),
    ).toEqual(["r-cpu", "r-mem"]);
  });

  it("never over-commits: a group that does not fit gets TASK_ERROR and holds nothing", async () => {
    const h = await harness({ agents: [{ cpus: 2, memMb: 1024 }] });
    const offer = h.offerFor(h.agent0);
    const big = task("big", h.agent0, [scalar("cpus", 1.5)]);
    const also = task("also", h.agent0, [scalar("cpus", 1)]);
    await h.cluster.accept([offer.id], [launch([big, also])]);
    h.clock.advance(0);
    const updates = h.takeUpdates();
    expect(states(updates)).toEqual(["big:TASK_ERROR", "also:TASK_ERROR"]);
    expect(updates[0]).toMatchObject({
      reason: "REASON_TASK_GROUP_INVALID",
      source: "SOURCE_MASTER",
    });
    expect(updates[0]?.uuid).toBeUndefined();
    expect(h.cluster.rejectedOperations()[0]?.reason).toMatch(/insufficient resources/);
    expect(h.cluster.agentResources(h.agent0).used).toEqual([]);
    expect(h.cluster.counts.launches).toBe(0);
  });

  it("never over-commits: launched resources are not offered again, and stale offers drop tasks", async () => {
    const h = await harness({ agents: [{ cpus: 2, memMb: 1024 }] });
    const offer = h.offerFor(h.agent0);
    await h.cluster.accept([offer.id], [launch([task("a", h.agent0, [scalar("cpus", 1.5)])])], {
      refuseSeconds: 0,
    });
    await h.settle();
    const [next] = h.takeOffers().slice(-1);
    expect(scalarOf(next, "cpus")).toBe(0.5);
    await h.cluster.accept([offer.id], [launch([task("b", h.agent0, [scalar("cpus", 0.5)])])]);
    h.clock.advance(0);
    expect(h.takeUpdates()).toMatchObject([
      { taskId: "b", state: "TASK_DROPPED", reason: "REASON_INVALID_OFFERS" },
    ]);
    const reuse = task("c", h.agent0, [scalar("cpus", 0.5)]);
    await h.cluster.accept(
      [h.offerFor(h.agent0).id],
      [launch([reuse]), launch([{ ...reuse, taskId: "d" }], "e2")],
    );
    h.clock.advance(0);
    expect(states(h.takeUpdates())).toEqual(["d:TASK_ERROR", "c:TASK_STARTING"]);
  });

  it("re-offers declined resources after refuse_seconds, and at once on revive", async () => {
    const h = await harness();
    const declined = h.offerFor(h.agent0);
    h.takeOffers();
    await h.cluster.decline([declined.id], { refuseSeconds: 30 });
    h.clock.advance(29_999);
    expect(h.takeOffers()).toEqual([]);
    h.clock.advance(1);
    const [again] = h.takeOffers();
    expect(again?.agentId).toBe(h.agent0);
    expect(again?.resources).toEqual(declined.resources);
    expect(again?.id).not.toBe(declined.id);

    await h.cluster.decline([again?.id ?? ""]); // default filter: 5 s
    h.clock.advance(4_999);
    expect(h.takeOffers()).toEqual([]);
    await h.cluster.revive();
    h.clock.advance(0);
    expect(h.takeOffers().map((o) => o.agentId)).toEqual([h.agent0]);
    expect(h.cluster.counts).toMatchObject({ declines: 2, revives: 1 });
  });

  it("sends no offers while suppressed, until revive", async () => {
    const h = await harness();
    await h.cluster.suppress();
    await h.cluster.decline(
      h.cluster.outstandingOffers().map((o) => o.id),
      { refuseSeconds: 0 },
    );
    h.takeOffers();
    h.clock.advance(3_600_000);
    expect(h.takeOffers()).toEqual([]);
    await h.cluster.revive();
    h.clock.advance(0);
    expect(h.takeOffers()).toHaveLength(2);
  });

  it("re-offers reserved resources and volumes with their labels once the task is killed", async () => {
    const h = await harness();
    const disk = scalar("disk", 512, "r-disk");
    const vol = volume(512, "r-disk", "vol-1");
    const cpus = scalar("cpus", 1, "r-cpu");
    const ops: Operation[] = [
      { type: "RESERVE", resources: [cpus, disk] },
      { type: "CREATE", volumes: [vol] },
      launch([task("t1", h.agent0, [cpus, vol])]),
    ];
    await h.cluster.accept([h.offerFor(h.agent0).id], ops);
    await h.settle();
    await h.cluster.kill("t1");
    const updates = await h.settle(5_000);
    expect(states(updates)).toEqual(["t1:TASK_KILLED"]);
    const offer = h.offerFor(h.agent0);
    const held = offer.resources.filter((r) => r.reservations);
    expect(held).toEqual([cpus, vol]);
    expect(h.cluster.reservations().get(h.agent0)).toEqual([cpus, vol]);
    expect(h.cluster.tasks()).toEqual([]);

    await h.cluster.accept(
      [offer.id],
      [
        { type: "DESTROY", volumes: [vol] },
        { type: "UNRESERVE", resources: [cpus, disk] },
      ],
    );
    h.clock.advance(0);
    expect(h.cluster.reservations().size).toBe(0);
    expect(h.cluster.counts).toMatchObject({ creates: 1, destroys: 1, unreserves: 1, kills: 1 });
  });

  it("rejects reservations for another role or principal, and unreserving a volume", async () => {
    const h = await harness();
    const foreign: Resource = {
      ...scalar("cpus", 1),
      reservations: reserved("x").map((r) => ({ ...r, role: "other" })),
    };
    await h.cluster.accept([h.offerFor(h.agent0).id], [{ type: "RESERVE", resources: [foreign] }]);
    expect(h.cluster.rejectedOperations()).toEqual([]); // answered first, applied after the call
    h.clock.advance(0);
    expect(h.cluster.rejectedOperations().map((r) => r.reason)).toEqual([
      expect.stringMatching(/role 'other' is not the framework role/),
    ]);
    expect(h.cluster.reservations().size).toBe(0);
  });

  it("retries unacknowledged updates every 10 s and stops once acknowledged", async () => {
    const h = await harness();
    const cpus = [scalar("cpus", 1)];
    await h.cluster.accept([h.offerFor(h.agent0).id], [launch([task("t1", h.agent0, cpus)])]);
    h.clock.advance(0);
    const [first] = h.takeUpdates();
    h.clock.advance(9_999);
    expect(h.takeUpdates()).toEqual([]);
    h.clock.advance(1);
    h.clock.advance(10_000);
    const retries = h.takeUpdates();
    expect(retries).toEqual([first, first]);
    expect(h.cluster.pendingUpdates("t1")).toBe(2); // STARTING in flight, RUNNING queued behind it
    await h.cluster.acknowledge(h.agent0, "t1", first?.uuid ?? "");
    await h.cluster.acknowledge(h.agent0, "t1", first?.uuid ?? ""); // duplicate ack: ignored
    h.clock.advance(0);
    const [running] = h.takeUpdates();
    expect(running?.state).toBe("TASK_RUNNING");
    await h.cluster.acknowledge(h.agent0, "t1", running?.uuid ?? "");
    h.clock.advance(120_000);
    expect(h.takeUpdates()).toEqual([]);
    expect(h.cluster.pendingUpdates()).toBe(0);
  });

  it("delivers every update without waiting for acks when head-of-line delivery is off", async () => {
    const h = await harness({ headOfLineDelivery: false });
    await h.cluster.accept(
      [h.offerFor(h.agent0).id],
      [launch([task("t1", h.agent0, [scalar("cpus", 1)])])],
    );
    h.clock.advance(0);
    expect(states(h.takeUpdates())).toEqual(["t1:TASK_STARTING", "t1:TASK_RUNNING"]);
  });

  it("reconciles known tasks to their latest state and unknown ones per §14", async () => {
    const h = await harness();
    await h.cluster.accept(
      [h.offerFor(h.agent0).id],
      [launch([task("t1", h.agent0, [scalar("cpus", 1)])])],
    );
    await h.settle();
    await h.cluster.reconcile([]);
    h.clock.advance(0);
    const [implicit, ...none] = h.takeUpdates();
    expect(none).toEqual([]);
    expect(implicit).toMatchObject({
      taskId: "t1",
      state: "TASK_RUNNING",
      source: "SOURCE_MASTER",
      reason: "REASON_RECONCILIATION",
    });
    expect(implicit?.uuid).toBeUndefined();

    await h.cluster.reconcile([
      { taskId: "t1" },
      { taskId: "ghost", agentId: h.agent1 },
      { taskId: "nowhere" },
    ]);
    h.clock.advance(0);
    expect(states(h.takeUpdates())).toEqual([
      "t1:TASK_RUNNING",
      "ghost:TASK_GONE",
      "nowhere:TASK_UNKNOWN",
    ]);

    h.cluster.failTask("t1", "TASK_FAILED");
    await h.settle();
    await h.cluster.reconcile([{ taskId: "t1", agentId: h.agent0 }]);
    h.clock.advance(0);
    expect(states(h.takeUpdates())).toEqual(["t1:TASK_GONE"]); // acked terminal task: forgotten
  });

  it("answers TASK_LOST for unknown tasks when the framework is not partition-aware", async () => {
    const h = await harness({ partitionAware: false });
    await h.cluster.reconcile([{ taskId: "ghost", agentId: h.agent0 }]);
    await h.cluster.kill("other");
    h.clock.advance(0);
    expect(states(h.takeUpdates())).toEqual(["ghost:TASK_LOST", "other:TASK_LOST"]);
  });

  it("ends tasks per the sim_exit_code label or the task script, and fails whole groups", async () => {
    const h = await harness({
      taskScript: (t) => (t.name === "crash" ? { exitAfterMs: 2_000, exitCode: 3 } : {}),
    });
    const done = task("done", h.agent0, [scalar("cpus", 0.1)], {
      labels: { [LABEL_SIM_EXIT_CODE]: "0" },
    });
    const crash = task("crash", h.agent0, [scalar("cpus", 0.1)]);
    const a = task("a", h.agent1, [scalar("cpus", 0.1)]);
    const b = task("b", h.agent1, [scalar("cpus", 0.1)]);
    await h.cluster.accept([h.offerFor(h.agent0).id], [launch([done]), launch([crash])]);
    await h.cluster.accept([h.offerFor(h.agent1).id], [launch([a, b], "exec-ab")]);
    const early = await h.settle();
    expect(states(early.filter((u) => u.taskId === "done"))).toContain("done:TASK_FINISHED");
    expect(states(await h.settle(2_000))).toEqual(["crash:TASK_FAILED"]);
    h.cluster.failTask("a");
    expect(states(await h.settle())).toEqual(["a:TASK_FAILED", "b:TASK_KILLED"]);
    expect(h.cluster.tasks()).toEqual([]);
    expect(h.cluster.agentResources(h.agent1).used).toEqual([]);
  });

  it("keeps tasks across close and resends unacknowledged updates on resubscription", async () => {
    const h = await harness();
    await h.cluster.accept(
      [h.offerFor(h.agent0).id],
      [launch([task("t1", h.agent0, [scalar("cpus", 1)])])],
    );
    h.clock.advance(0);
    const [starting] = h.takeUpdates();
    await h.cluster.close();
    await expect(h.cluster.revive()).rejects.toMatchObject({ code: "unavailable" });
    h.clock.advance(60_000);
    expect(h.takeUpdates()).toEqual([]);
    await h.cluster.subscribe({ ...FRAMEWORK, frameworkId: "fw-1" }, h.events);
    h.clock.advance(0);
    expect(h.log.subscribed).toEqual(["fw-1", "fw-1"]);
    expect(h.takeUpdates()).toEqual([starting]);
    expect(h.cluster.tasks()).toHaveLength(1);
  });

  it("teardown kills every task silently, releases reservations and retires the framework ID", async () => {
    const h = await harness();
    const cpus = scalar("cpus", 1, "r1");
    await h.cluster.accept(
      [h.offerFor(h.agent0).id],
      [{ type: "RESERVE", resources: [cpus] }, launch([task("t1", h.agent0, [cpus])])],
    );
    await h.settle();
    await h.cluster.teardown();
    h.clock.advance(60_000);
    expect(h.takeUpdates()).toEqual([]);
    expect(h.cluster.tasks()).toEqual([]);
    expect(h.cluster.reservations().size).toBe(0);
    await expect(
      h.cluster.subscribe({ ...FRAMEWORK, frameworkId: "fw-1" }, h.events),
    ).rejects.toMatchObject({
      code: "failed_precondition",
    });
  });

  it("rescinds offers and reports tasks unreachable when an agent crashes", async () => {
    const h = await harness();
    const cpus = scalar("cpus", 1, "r1");
    await h.cluster.accept(
      [h.offerFor(h.agent0).id],
      [{ type: "RESERVE", resources: [cpus] }, launch([task("t1", h.agent0, [cpus])])],
    );
    await h.settle(5_000);
    const offerId = h.offerFor(h.agent0).id;
    h.cluster.crashAgent(h.agent0);
    h.clock.advance(0);
    expect(h.log.rescinds).toEqual([offerId]);
    expect(h.takeUpdates()).toMatchObject([
      { taskId: "t1", state: "TASK_UNREACHABLE", source: "SOURCE_MASTER" },
    ]);
    h.takeOffers();
    h.cluster.recoverAgent(h.agent0);
    h.clock.advance(0);
    const [back] = h.takeOffers();
    expect(back?.resources.filter((r) => r.reservations)).toEqual([cpus]);
  });

  it("removes an agent for good: offers rescinded and none again, tasks GONE_BY_OPERATOR, its reservations gone", async () => {
    const h = await harness();
    const cpus = scalar("cpus", 1, "r1");
    await h.cluster.accept(
      [h.offerFor(h.agent0).id],
      [{ type: "RESERVE", resources: [cpus] }, launch([task("t1", h.agent0, [cpus])])],
    );
    await h.settle(5_000);
    const offerId = h.offerFor(h.agent0).id;
    h.cluster.removeAgent(h.agent0);
    h.clock.advance(0);
    expect(h.log.rescinds).toEqual([offerId]);
    expect(h.takeUpdates()).toMatchObject([
      { taskId: "t1", state: "TASK_GONE_BY_OPERATOR", source: "SOURCE_MASTER", reason: "REASON_AGENT_REMOVED_BY_OPERATOR" },
    ]);
    expect(h.cluster.reservations().has(h.agent0)).toBe(false);
    h.takeOffers();
    await h.cluster.decline(h.cluster.outstandingOffers().map((o) => o.id));
    await h.cluster.revive();
    await h.settle(10_000);
    const offers = h.takeOffers();
    expect(offers.length).toBeGreaterThan(0);
    expect(offers.some((o) => o.agentId === h.agent0)).toBe(false);
    await h.cluster.reconcile([{ taskId: "gone", agentId: h.agent0 }]);
    h.clock.advance(0);
    expect(h.takeUpdates()).toMatchObject([{ taskId: "gone", state: "TASK_GONE_BY_OPERATOR" }]);
    expect(() => h.cluster.recoverAgent(h.agent0)).toThrow(/removed/);
  });

  it("is deterministic for a given seed", async () => {
    const run = async (): Promise<string> => {
      const h = await harness();
      await h.cluster.accept(
        [h.offerFor(h.agent0).id],
        [launch([task("t1", h.agent0, [scalar("cpus", 1)])])],
      );
      await h.settle(30_000);
      return JSON.stringify([h.log, h.cluster.outstandingOffers()]);
    };
    expect(await run()).toBe(await run());
  });
});

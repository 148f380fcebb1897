/**
 * The behaviour every ClusterDriver must share (ports.ts, mesos-v1-api.md §9–§15), run against
 * the simulated cluster and against the Mesos driver on the local agent (with and without
 * chaos):
 *
 *   clusterDriverContract("SimulatedCluster", () => startHarness(simTarget()));
 *
 * `makeHarness` is called once per test and must give a fresh cluster of at least two agents
 * with room for a few small tasks; the suite closes it. Cases: reserve, create, launch on the
 * reservation, acknowledge, kill, destroy, unreserve; operations of one ACCEPT applied in order;
 * invalid offers; at-least-once updates; reconciliation after a scheduler restart; suppress and
 * revive; decline filters; agent loss.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Filters, Offer, Operation, Resource, TaskState, TaskStatus } from "../../src/domain/cluster.js";
import { isTerminal } from "../../src/domain/cluster.js";
import {
  ContractFixtures,
  ownReserved,
  resourceIdOf,
  resourceKeys,
  scalarOf,
  TASK_CPUS,
  TASK_MEM_MB,
  unreserved,
  VOLUME_MB,
  withResourceId,
} from "./cluster-driver-fixtures.js";
import type { ClusterDriverHarness, MakeHarness } from "./cluster-driver-harness.js";
import { pidAlive } from "./cluster-driver-procs.js";
import { eventually } from "./eventually.js";

/** Leftovers of an ACCEPT come straight back, so the next step has an offer at once. */
const NO_FILTER: Filters = { refuseSeconds: 0 };

export function clusterDriverContract(name: string, makeHarness: MakeHarness): void {
  describe(`ClusterDriver contract: ${name}`, () => {
    let h: ClusterDriverHarness;
    let f: ContractFixtures;
    let live: ClusterDriverHarness | undefined;

    beforeEach(async () => {
      h = await makeHarness();
      live = h;
      f = new ContractFixtures(h.framework, h.frameworkId);
    });

    afterEach(async () => {
      const closing = live;
      live = undefined;
      if (!closing) return;
      await closing.close();
      expect(closing.log.stale, "events delivered by a closed driver").toEqual([]);
    });

    // Steps ---------------------------------------------------------------------------------

    /** An outstanding offer of `agentId` that `accepts`. */
    const offerOf = (agentId: string, what: string, accepts: (o: Offer) => boolean = () => true): Promise<Offer> =>
      h.until(`offer of ${agentId}: ${what}`, () => h.log.outstanding(agentId).find(accepts));

    /** One outstanding offer of each of two agents, ordered by agent ID. */
    const twoAgents = (): Promise<[Offer, Offer]> =>
      h.until("offers of two agents", () => {
        const byAgent = new Map(h.log.outstanding().map((o) => [o.agentId, o]));
        const [a, b] = [...byAgent.values()].sort((x, y) => x.agentId.localeCompare(y.agentId));
        return a && b ? ([a, b] as [Offer, Offer]) : undefined;
      });

    const accept = async (offers: readonly Offer[], ops: readonly Operation[], filters = NO_FILTER): Promise<void> => {
      const ids = offers.map((o) => o.id);
      h.log.spend(ids);
      await h.driver.accept(ids, ops, filters);
    };

    const decline = async (offers: readonly Offer[], filters: Filters): Promise<void> => {
      const ids = offers.map((o) => o.id);
      h.log.spend(ids);
      await h.driver.decline(ids, filters);
    };

    /** The first update of `taskId` after `since` whose state is one of `states`. */
    const stateOf = (taskId: string, states: readonly TaskState[] | "terminal", since = 0): Promise<TaskStatus> =>
      h.until(`${taskId} ${String(states)}`, () => {
        const hit = h.log.updatesOf(taskId, since).find((u) =>
          states === "terminal" ? isTerminal(u.status.state) : states.includes(u.status.state),
        );
        return hit?.status;
      });

    /** Launches one task on unreserved resources of `offer` and waits for RUNNING. */
    const runPlain = async (offer: Offer): Promise<{ taskId: string; agentId: string; running: TaskStatus }> => {
      const task = f.task(offer.agentId, unreserved());
      await accept([offer], [f.launch([task])]);
      const running = await stateOf(task.taskId, ["TASK_RUNNING"]);
      return { taskId: task.taskId, agentId: offer.agentId, running };
    };

    /** The task's pid, from the driver's task files (real processes only). */
    const pidOf = async (taskId: string, agentId: string): Promise<number> => {
      const files = h.driver.taskFiles;
      expect(files, "a driver running real processes serves taskFiles").toBeDefined();
      return eventually(async () => (await files?.sandboxOf(taskId, agentId))?.pid, 5_000, `pid of ${taskId}`);
    };

    const expectReconciled = (s: TaskStatus | undefined): void => {
      expect(s?.uuid, `${s?.taskId}: reconciliation updates carry no uuid`).toBeUndefined();
      expect(s?.reason).toBe("REASON_RECONCILIATION");
    };

    // Cases ---------------------------------------------------------------------------------

    it("reserves, creates a volume, launches on the reservation, kills, destroys and unreserves", async () => {
      const [first] = await twoAgents();
      const agentId = first.agentId;
      const before = { cpus: scalarOf(first, "cpus", "unreserved"), mem: scalarOf(first, "mem", "unreserved"), disk: scalarOf(first, "disk", "unreserved") };
      expect(ownReserved(first, h.frameworkId)).toEqual([]);

      // RESERVE: the reservations come back in the next offer with their labels.
      const [cpus, mem, disk] = [f.reserved("cpus", TASK_CPUS), f.reserved("mem", TASK_MEM_MB), f.reserved("disk", VOLUME_MB)];
      const rid = (r: Resource): string => resourceIdOf(r) ?? "";
      await accept([first], [{ type: "RESERVE", resources: [cpus, mem, disk] }]);
      const reservedOffer = await offerOf(agentId, "the reservations", (o) => withResourceId(o, rid(disk)).length > 0);
      for (const r of [cpus, mem, disk]) {
        expect(withResourceId(reservedOffer, rid(r))).toMatchObject([
          { name: r.name, type: "SCALAR", scalar: r.scalar, reservations: [{ type: "DYNAMIC", role: h.framework.role, labels: r.reservations?.[0]?.labels }] },
        ]);
      }
      expect(scalarOf(reservedOffer, "cpus", "unreserved")).toBeCloseTo(before.cpus - TASK_CPUS, 3);

      // CREATE a persistent volume on the reserved disk.
      const vol = f.volume(withResourceId(reservedOffer, rid(disk))[0] ?? disk);
      const persistenceId = vol.disk?.persistence?.id;
      const hasVolume = (o: Offer): boolean => o.resources.some((r) => r.disk?.persistence?.id === persistenceId);
      await accept([reservedOffer], [{ type: "CREATE", volumes: [vol] }]);
      const volOffer = await offerOf(agentId, "the volume", hasVolume);
      const offeredVol = volOffer.resources.find((r) => r.disk?.persistence?.id === persistenceId);
      expect(offeredVol).toMatchObject({
        name: "disk",
        scalar: VOLUME_MB,
        reservations: [{ role: h.framework.role, labels: disk.reservations?.[0]?.labels }],
        disk: { persistence: { id: persistenceId }, volume: { containerPath: "data", mode: "RW" } },
      });

      // LAUNCH_GROUP with the DEFAULT executor on the reserved resources, as offered.
      const held = [...withResourceId(volOffer, rid(cpus)), ...withResourceId(volOffer, rid(mem)), ...(offeredVol ? [offeredVol] : [])];
      expect(held).toHaveLength(3);
      const task = f.task(agentId, held);
      await accept([volOffer], [f.launch([task])]);
      const running = await stateOf(task.taskId, ["TASK_RUNNING"]);
      expect(running).toMatchObject({ taskId: task.taskId, agentId, state: "TASK_RUNNING" });
      expect(running.uuid, "an executor's update carries a uuid").toEqual(expect.any(String));
      const seen = h.log.updatesOf(task.taskId).map((u) => u.status.state);
      expect(seen.filter(isTerminal)).toEqual([]);
      await h.acknowledgeAll();
      if (h.advance) {
        const mark = h.log.seq;
        await h.advance(60_000);
        expect(h.log.updatesOf(task.taskId, mark), "acknowledged updates are not sent again").toEqual([]);
      }
      const pid = h.realProcesses ? await pidOf(task.taskId, agentId) : undefined;
      if (pid !== undefined) expect(pidAlive(pid)).toBe(true);
      await h.settle();
      for (const o of h.log.outstanding(agentId)) {
        expect(withResourceId(o, rid(cpus)), "resources in use are not offered").toEqual([]);
      }

      // The subscription breaks: the driver resubscribes by itself, with the same framework ID.
      if (h.disrupt) {
        const subscriptions = h.log.subscriptions.length;
        await h.disrupt();
        await h.until("resubscribed", () => (h.log.subscriptions.length > subscriptions ? true : undefined));
        expect(new Set(h.log.subscriptions)).toEqual(new Set([h.frameworkId]));
        expect(h.log.disconnects.length).toBeGreaterThan(0);
        expect(h.log.fatals).toEqual([]);
      }

      // KILL: TASK_KILLED with a uuid; the reserved resources and the volume come back.
      const mark = h.log.seq;
      await h.driver.kill(task.taskId, agentId);
      const killed = await stateOf(task.taskId, "terminal", mark);
      expect(killed).toMatchObject({ state: "TASK_KILLED", agentId });
      expect(killed.uuid).toEqual(expect.any(String));
      if (pid !== undefined) await eventually(() => !pidAlive(pid), 5_000, `pid ${pid} ends`);
      const back = await offerOf(agentId, "reservations after the kill", (o) => withResourceId(o, rid(cpus)).length > 0 && hasVolume(o));
      expect(withResourceId(back, rid(mem))).toHaveLength(1);

      // DESTROY the volume: the disk stays reserved, without persistence.
      const backVol = back.resources.filter((r) => r.disk?.persistence?.id === persistenceId);
      await accept([back], [{ type: "DESTROY", volumes: backVol }]);
      const destroyed = await offerOf(agentId, "the disk without its volume", (o) => withResourceId(o, rid(disk)).length > 0 && !hasVolume(o));
      expect(withResourceId(destroyed, rid(disk))).toMatchObject([{ name: "disk", scalar: VOLUME_MB }]);
      expect(withResourceId(destroyed, rid(disk))[0]?.disk?.persistence).toBeUndefined();

      // UNRESERVE: everything comes back unreserved (possibly beside an offer still outstanding).
      const unreservedAt = h.log.seq;
      await accept([destroyed], [{ type: "UNRESERVE", resources: ownReserved(destroyed, h.frameworkId) }]);
      const free = await h.until("the agent offered without reservations", () => {
        const fresh = h.log.offersSince(unreservedAt, agentId).length > 0;
        const all = h.log.outstanding(agentId);
        return fresh && all.every((o) => ownReserved(o, h.frameworkId).length === 0) ? all : undefined;
      });
      const total = (name: string): number => free.reduce((sum, o) => sum + scalarOf(o, name, "unreserved"), 0);
      expect(total("cpus")).toBeCloseTo(before.cpus, 3);
      expect(total("mem")).toBeCloseTo(before.mem, 3);
      expect(total("disk")).toBeCloseTo(before.disk, 3);
      expect(h.log.fatals).toEqual([]);
    });

    it("applies the operations of one ACCEPT in order: RESERVE → CREATE → LAUNCH_GROUP", async () => {
      const [offer] = await twoAgents();
      const [cpus, disk] = [f.reserved("cpus", TASK_CPUS), f.reserved("disk", VOLUME_MB)];
      const vol = f.volume(disk);
      const task = f.task(offer.agentId, [cpus, { name: "mem", type: "SCALAR", scalar: TASK_MEM_MB }, vol]);
      await accept([offer], [{ type: "RESERVE", resources: [cpus, disk] }, { type: "CREATE", volumes: [vol] }, f.launch([task])]);
      const running = await stateOf(task.taskId, ["TASK_RUNNING", "TASK_ERROR", "TASK_DROPPED", "TASK_FAILED", "TASK_LOST"]);
      expect(running.state).toBe("TASK_RUNNING");
      const mark = h.log.seq;
      await h.driver.kill(task.taskId, offer.agentId);
      expect((await stateOf(task.taskId, "terminal", mark)).state).toBe("TASK_KILLED");
      const back = await offerOf(offer.agentId, "the volume", (o) => o.resources.some((r) => r.disk?.persistence?.id === vol.disk?.persistence?.id));
      expect(withResourceId(back, resourceIdOf(cpus) ?? "")).toMatchObject([{ name: "cpus", scalar: TASK_CPUS }]);
    });

    it("applies operations in order: a LAUNCH_GROUP before the RESERVE and CREATE it needs fails alone", async () => {
      const [offer] = await twoAgents();
      const [cpus, disk] = [f.reserved("cpus", TASK_CPUS), f.reserved("disk", VOLUME_MB)];
      const vol = f.volume(disk);
      const task = f.task(offer.agentId, [cpus, vol]);
      await accept([offer], [f.launch([task]), { type: "RESERVE", resources: [cpus, disk] }, { type: "CREATE", volumes: [vol] }]);
      const failed = await stateOf(task.taskId, "terminal");
      expect(failed.state).toBe("TASK_ERROR");
      expect(failed.uuid, "the master's own verdict carries no uuid").toBeUndefined();
      const later = await offerOf(offer.agentId, "the volume created after the failed launch", (o) =>
        o.resources.some((r) => r.disk?.persistence?.id === vol.disk?.persistence?.id),
      );
      expect(withResourceId(later, resourceIdOf(cpus) ?? "")).toHaveLength(1);
      expect(h.log.updatesOf(task.taskId).map((u) => u.status.state)).not.toContain("TASK_RUNNING");
    });

    it("drops the tasks of an ACCEPT with offers of two agents, and refuses a task naming another agent", async () => {
      const [a, b] = await twoAgents();
      const both = f.task(a.agentId, unreserved());
      await accept([a, b], [f.launch([both])]);
      const dropped = await stateOf(both.taskId, "terminal");
      expect(dropped).toMatchObject({ state: "TASK_DROPPED", reason: "REASON_INVALID_OFFERS" });
      expect(dropped.uuid).toBeUndefined();

      const b2 = await offerOf(b.agentId, "offered again after the invalid ACCEPT");
      const elsewhere = f.task(a.agentId, unreserved()); // names agent A, offered B's resources
      await accept([b2], [f.launch([elsewhere])]);
      const refused = await stateOf(elsewhere.taskId, "terminal");
      expect(["TASK_ERROR", "TASK_DROPPED"]).toContain(refused.state);
      expect(refused.uuid).toBeUndefined();

      await h.settle();
      for (const t of [both, elsewhere]) {
        expect(h.log.updatesOf(t.taskId).map((u) => u.status.state)).not.toContain("TASK_RUNNING");
      }
    });

    it("answers an ACCEPT of an offer already used with TASK_DROPPED for its tasks", async () => {
      const [a] = await twoAgents();
      const first = await runPlain(a);
      const again = f.task(a.agentId, unreserved());
      await h.driver.accept([a.id], [f.launch([again])], NO_FILTER); // `a` went to the first launch
      const late = await stateOf(again.taskId, "terminal");
      expect(late).toMatchObject({ state: "TASK_DROPPED", reason: "REASON_INVALID_OFFERS" });
      expect(late.uuid).toBeUndefined();
      await h.settle();
      expect(h.log.updatesOf(again.taskId).map((u) => u.status.state)).not.toContain("TASK_RUNNING");
      expect((await stateOf(first.taskId, ["TASK_RUNNING"])).state).toBe("TASK_RUNNING");
    });

    it("sends an unacknowledged update again, and the task's next update only after the acknowledgement", async () => {
      const [offer] = await twoAgents();
      const task = f.task(offer.agentId, unreserved());
      await accept([offer], [f.launch([task])]);
      const first = await h.until("first update", () => h.log.updatesOf(task.taskId).find((u) => u.status.uuid)?.status, { ack: false });
      if (h.advance) await h.advance(10_000); // the retry interval (Mesos: 10 s)
      const again = (): number => h.log.updatesOf(task.taskId).filter((u) => u.status.uuid === first.uuid).length;
      await h.until("the same update again", () => (again() >= 2 ? true : undefined), { ack: false });
      expect(
        h.log.updatesOf(task.taskId).filter((u) => u.status.uuid !== undefined && u.status.uuid !== first.uuid),
        "head of line: nothing newer before the acknowledgement",
      ).toEqual([]);
      if (first.state !== "TASK_RUNNING") await stateOf(task.taskId, ["TASK_RUNNING"]); // acknowledges
      else await h.acknowledgeAll();
      expect(h.log.fatals).toEqual([]);
    });

    it("reconciles after a scheduler restart: known tasks by their state, unknown ones per the table, every task when implicit", async () => {
      const [a, b] = await twoAgents();
      const t1 = await runPlain(a);
      const t2 = await runPlain(b);
      const a2 = await offerOf(a.agentId, "leftovers after the first launch");
      const t3 = await runPlain(a2);
      let mark = h.log.seq;
      await h.driver.kill(t3.taskId, t3.agentId);
      expect((await stateOf(t3.taskId, "terminal", mark)).state).toBe("TASK_KILLED");
      await h.acknowledgeAll();
      const pid = h.realProcesses ? await pidOf(t1.taskId, t1.agentId) : undefined;

      await h.restartScheduler();
      expect(h.log.subscriptions).toEqual([h.frameworkId, h.frameworkId]);

      // Explicit: the known task with its state, an unknown one per §14.
      mark = h.log.seq;
      await h.driver.reconcile([
        { taskId: t1.taskId, agentId: t1.agentId },
        { taskId: "contract-ghost", agentId: a.agentId },
        { taskId: t2.taskId },
      ]);
      const r1 = await stateOf(t1.taskId, ["TASK_RUNNING", ...TERMINAL], mark);
      expect(r1).toMatchObject({ state: "TASK_RUNNING", agentId: t1.agentId });
      expectReconciled(r1);
      const ghost = await stateOf("contract-ghost", "terminal", mark);
      expect(["TASK_GONE", "TASK_LOST"]).toContain(ghost.state);
      expectReconciled(ghost);
      const r2 = await stateOf(t2.taskId, ["TASK_RUNNING", ...TERMINAL], mark);
      expect(r2).toMatchObject({ state: "TASK_RUNNING", agentId: t2.agentId });
      expectReconciled(r2);

      // Implicit: every task the cluster tracks, not the killed and acknowledged one.
      mark = h.log.seq;
      await h.driver.reconcile([]);
      const answers = await h.until("implicit answers", () => {
        const got = [t1, t2].map((t) => h.log.updatesOf(t.taskId, mark)[0]?.status);
        return got.every(Boolean) ? got : undefined;
      });
      for (const s of answers) {
        expect(s?.state).toBe("TASK_RUNNING");
        expectReconciled(s);
      }
      await h.settle();
      expect(h.log.updatesOf(t3.taskId, mark)).toEqual([]);
      if (pid !== undefined) {
        expect(await pidOf(t1.taskId, t1.agentId), "the task ran on through the restart").toBe(pid);
        expect(pidAlive(pid)).toBe(true);
      }
    });

    it("tears down: every task ends without further updates and the framework ID is retired", async () => {
      const [a, b] = await twoAgents();
      const t1 = await runPlain(a);
      const t2 = await runPlain(b);
      const pids = h.realProcesses ? await Promise.all([t1, t2].map((t) => pidOf(t.taskId, t.agentId))) : [];
      const mark = h.log.seq;
      await h.driver.teardown();
      for (const pid of pids) await eventually(() => !pidAlive(pid), 5_000, `pid ${pid} ends with its framework`);
      expect(await h.trySubscribeAgain(), "SUBSCRIBE with a torn-down framework ID").toBe("refused");
      expect(h.log.subscriptions).toEqual([h.frameworkId]);
      const states = [t1, t2].flatMap((t) => h.log.updatesOf(t.taskId, mark)).map((u) => u.status.state);
      expect(states.filter((s) => s !== "TASK_KILLED"), "updates after TEARDOWN").toEqual([]);
    });

    it("sends no offers while suppressed, and offers again on revive", async () => {
      await twoAgents();
      await h.driver.suppress();
      const mark = h.log.seq;
      await decline(h.log.outstanding(), NO_FILTER); // would come straight back unless suppressed
      await h.settle();
      if (h.advance) await h.advance(3_600_000);
      await h.settle();
      expect(h.log.offersSince(mark), "offers while suppressed").toEqual([]);
      await h.driver.revive();
      await twoAgents();
    });

    it("keeps declined resources away until revive", async () => {
      const [a, b] = await twoAgents();
      const mark = h.log.seq;
      await decline([a], { refuseSeconds: 3600 });
      await decline([b], NO_FILTER);
      await offerOf(b.agentId, "the agent declined without a filter");
      await h.settle();
      if (h.advance) await h.advance(3_599_000);
      await h.settle();
      expect(h.log.offersSince(mark, a.agentId), "offers of the declined agent").toEqual([]);
      await h.driver.revive();
      const again = await offerOf(a.agentId, "after revive");
      expect(again.id).not.toBe(a.id);
      expect(resourceKeys(again)).toEqual(resourceKeys(a));
    });

    it("offers declined resources again once refuse_seconds have passed, not before", async () => {
      const [a] = await twoAgents();
      const declinedAt = h.now();
      await decline([a], { refuseSeconds: 1 });
      if (h.advance) {
        await h.advance(999);
        expect(h.log.outstanding(a.agentId)).toEqual([]);
        await h.advance(1);
      }
      const again = await offerOf(a.agentId, "after refuse_seconds");
      const at = h.log.offers.find((o) => o.offer.id === again.id)?.atMs ?? 0;
      expect(at - declinedAt, "ms from DECLINE to the next offer").toBeGreaterThanOrEqual(h.advance ? 1000 : 980);
      expect(resourceKeys(again)).toEqual(resourceKeys(a));
    });

    it("on agent loss rescinds its offers, ends or strands its tasks and offers it no more", async () => {
      const [a, b] = await twoAgents();
      const lost = await runPlain(b);
      const held = await offerOf(b.agentId, "leftovers of the lost agent");
      const mark = h.log.seq;
      await h.loseAgent(b.agentId);
      await h.until("rescind of the lost agent's offer", () => h.log.rescinds.find((r) => r.offerId === held.id && r.seq > mark));
      const gone = await stateOf(lost.taskId, [...TERMINAL, "TASK_UNREACHABLE"], mark);
      expect(isTerminal(gone.state) || gone.state === "TASK_UNREACHABLE", gone.state).toBe(true);
      expect(gone.agentId).toBe(b.agentId);
      expect(h.log.outstanding(b.agentId)).toEqual([]);

      // The other agent is offered again after a revive; the lost one is not.
      await decline([a], NO_FILTER);
      await h.driver.revive();
      await offerOf(a.agentId, "the remaining agent");
      await h.settle();
      expect(h.log.offersSince(mark, b.agentId), "offers of the lost agent").toEqual([]);
      const since = h.log.seq;
      await h.driver.reconcile([{ taskId: lost.taskId, agentId: b.agentId }]);
      const answer = await stateOf(lost.taskId, [...TERMINAL, "TASK_UNREACHABLE", "TASK_UNKNOWN"], since);
      expect(isTerminal(answer.state) || answer.state === "TASK_UNREACHABLE", answer.state).toBe(true);
      expect(answer.uuid).toBeUndefined();
    });
  });
}

const TERMINAL: readonly TaskState[] = [
  "TASK_FINISHED",
  "TASK_FAILED",
  "TASK_KILLED",
  "TASK_ERROR",
  "TASK_LOST",
  "TASK_DROPPED",
  "TASK_GONE",
  "TASK_GONE_BY_OPERATOR",
];

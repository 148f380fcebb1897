/**
 * A replica's terms (SchedulerKeeper.replica), on the memory store with a fence the test flips
 * as an election would: no engine and no cluster subscription while standing by; a term opens a
 * driver and a fresh engine that recovers from the store; losing the fence ends the term at once
 * (engine abandoned, driver closed) and the old engine writes nothing more.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Cancel, ClusterDriver, ClusterEvents, FrameworkInfo, WriteFence } from "../../src/engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../../src/engine/scheduler.js";
import { SchedulerKeeper } from "../../src/engine/scheduler-keeper.js";
import { example } from "../harness/harness.js";
import { dumpStore } from "./store-dump.js";

class FlipFence implements WriteFence {
  private held = false;
  private readonly listeners = new Set<(holds: boolean) => void>();

  holds(): boolean {
    return this.held;
  }

  set(holds: boolean): void {
    this.held = holds;
    for (const l of this.listeners) l(holds);
  }

  watch(listener: (holds: boolean) => void): Cancel {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The simulated cluster, keeping the last subscriber's handlers so a test can raise `fatal`. */
class LosingCluster extends SimulatedCluster {
  events: ClusterEvents | undefined;
  override subscribe(info: FrameworkInfo, events: ClusterEvents): Promise<void> {
    this.events = events;
    return super.subscribe(info, events);
  }
}

const OPTIONS = { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } };

/** `failOpens`: how many driver opens fail first; `giveUp`: a failed start gives the lead up (as the app's election does). */
async function world(failOpens = 0, giveUp = false) {
  const clock = new FakeClock();
  const lost: string[] = [];
  const cluster = new LosingCluster({ agents: 3, clock, random: new SeededRandom(99) });
  const persister = new MemoryPersister();
  const fence = new FlipFence();
  const terms: string[] = [];
  const failures: string[] = [];
  let opened = 0;
  let closed = 0;
  const keeper = SchedulerKeeper.replica({ persister, clock, random: new SeededRandom(1), log: pino({ level: "silent" }), fence, onClusterFatal: (m) => lost.push(m) }, OPTIONS, {
    openDriver: async (): Promise<ClusterDriver> => {
      opened++;
      if (opened <= failOpens) throw new Error(`no cluster (try ${opened})`);
      return cluster;
    },
    closeDriver: async (driver) => {
      closed++;
      await driver.close();
    },
    onTerm: (serving) => terms.push(serving ? "serving" : "stepped down"),
    onTermFailed: (err) => {
      failures.push((err as Error).message);
      if (giveUp) fence.set(false);
    },
    takenOver: (message) => message.includes("Framework failed over"),
  });
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 1000; i++) {
      await keeper.settled();
      await keeper.running?.runner.queue.idle();
      const due = clock.nextDueMs();
      if (due === undefined || due > clock.now()) {
        await new Promise((r) => setImmediate(r));
        if (clock.nextDueMs() === undefined || clock.nextDueMs()! > clock.now()) return;
      }
      await clock.advanceAsync(0);
    }
    throw new Error("did not settle");
  };
  const advance = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 1000) {
      await clock.advanceAsync(Math.min(1000, ms - t));
      await settle();
    }
  };
  await keeper.start();
  await settle();
  return { clock, cluster, persister, fence, keeper, terms, failures, lost, settle, advance, opened: () => opened, closed: () => closed };
}

const deployed = (api: { getPlan(n: string, p: string): { status: string } }, name: string): boolean =>
  api.getPlan(name, "deploy").status === "COMPLETE";

describe("a replica's terms", () => {
  it("stands by without engine or driver, leads with a fresh engine and driver per term, and steps down at once", async () => {
    const w = await world();
    const { keeper } = w;
    try {
      // Standing by: nothing runs, nothing is subscribed.
      expect(keeper.running).toBeUndefined();
      expect(w.opened()).toBe(0);
      expect(() => keeper.api.listServices()).toThrow(expect.objectContaining({ code: "unavailable" }) as Error);

      w.fence.set(true);
      await w.settle();
      expect(w.terms).toEqual(["serving"]);
      expect(w.opened()).toBe(1);
      const first = keeper.running!;
      await keeper.api.putService({ name: "hello", spec: example("simple.yml"), parameters: {} });
      await w.advance(20_000);
      expect(deployed(keeper.api, "hello")).toBe(true);

      // Stepping down: at once no engine serves and the driver is closed; the old engine writes nothing more.
      w.fence.set(false);
      expect(keeper.running).toBeUndefined();
      expect(w.terms).toEqual(["serving", "stepped down"]);
      await w.settle();
      expect(w.closed()).toBe(1);
      const before = await dumpStore(w.persister);
      await expect(first.putService({ name: "stale", spec: example("simple.yml"), parameters: {} })).rejects.toMatchObject({ code: "unavailable" });
      await w.advance(10_000);
      expect(await dumpStore(w.persister)).toEqual(before);

      // Meanwhile another replica leads and adds a service.
      const other = new MultiServiceScheduler(
        { persister: w.persister, driver: w.cluster, clock: w.clock, random: new SeededRandom(2), log: pino({ level: "silent" }) },
        OPTIONS,
      );
      await other.start();
      await other.putService({ name: "other", spec: example("simple.yml"), parameters: {} });
      await other.stop();
      await w.cluster.close();

      // Leading again: a new driver and a fresh engine that reads what the other stored.
      w.fence.set(true);
      await w.settle();
      expect(w.opened()).toBe(2);
      expect(keeper.running).toBeDefined();
      expect(keeper.running).not.toBe(first);
      expect(keeper.api.listServices().map((s) => s.name)).toEqual(["hello", "other"]);
      await w.advance(30_000);
      expect(deployed(keeper.api, "other")).toBe(true);
      const live = w.cluster.tasks().map((t) => `${t.taskId.split("__")[0]}/${t.name}`);
      expect(live.sort()).toEqual(["hello/hello-0-server", "other/hello-0-server"]);
    } finally {
      await keeper.stop();
    }
    expect(w.closed()).toBe(w.opened());
  });

  it("tells a term that could not start, and tries again while it still leads", async () => {
    const w = await world(2);
    const { keeper } = w;
    try {
      w.fence.set(true);
      await w.settle();
      expect(w.failures).toEqual(["no cluster (try 1)"]);
      expect(keeper.running).toBeUndefined();
      expect(() => keeper.api.listServices()).toThrow(expect.objectContaining({ code: "unavailable" }) as Error);
      await w.advance(5000);
      expect(w.failures).toEqual(["no cluster (try 1)", "no cluster (try 2)"]);
      await w.advance(5000);
      expect(w.terms).toEqual(["serving"]);
      expect(keeper.api.listServices()).toEqual([]);
    } finally {
      await keeper.stop();
    }
  });

  it("does not try again once the lead was given up on a failed start", async () => {
    const w = await world(1, true);
    const { keeper, fence } = w;
    try {
      fence.set(true);
      await w.settle();
      expect(w.failures).toEqual(["no cluster (try 1)"]);
      expect(fence.holds()).toBe(false);
      await w.advance(20_000);
      expect(w.opened()).toBe(1);
      expect(keeper.running).toBeUndefined();
      fence.set(true);
      await w.settle();
      expect(w.opened()).toBe(2);
      expect(w.terms).toEqual(["stepped down", "serving"]);
    } finally {
      await keeper.stop();
    }
  });

  it("steps down, instead of stopping the process, when another scheduler took the framework over; campaigns again", async () => {
    const w = await world(0, true);
    const { keeper, fence } = w;
    try {
      fence.set(true);
      await w.settle();
      expect(w.terms).toEqual(["serving"]);
      const first = w.cluster.events!;
      first.fatal!("the Mesos master ended framework f-1: Framework failed over. Registering anew would orphan its reservations");
      await w.settle();
      // The process is not told the cluster is lost: the term ends and the lead is given up.
      expect(w.lost).toEqual([]);
      expect(w.terms).toEqual(["serving", "stepped down"]);
      expect(w.failures).toEqual([expect.stringContaining("took the framework over")]);
      expect(fence.holds()).toBe(false);
      expect(keeper.running).toBeUndefined();
      expect(w.closed()).toBe(1);
      // A past term's driver is not heard any more.
      first.fatal!("Framework failed over");
      first.fatal!("Framework has been removed");
      expect(w.lost).toEqual([]);
      // Led again (the election decided): a new term with a new subscription.
      fence.set(true);
      await w.settle();
      expect(w.opened()).toBe(2);
      expect(w.terms).toEqual(["serving", "stepped down", "serving"]);
      expect(keeper.api.listServices()).toEqual([]);
    } finally {
      await keeper.stop();
    }
  });

  it("still stops the process on any other fatal cluster error (the framework was removed)", async () => {
    const w = await world();
    const { keeper, fence } = w;
    try {
      fence.set(true);
      await w.settle();
      w.cluster.events!.fatal!("Framework has been removed");
      await w.settle();
      expect(w.lost).toEqual(["Framework has been removed"]);
      expect(w.failures).toEqual([]);
    } finally {
      await keeper.stop();
    }
  });

  it("does not begin a term when the store does not confirm the lead right before it subscribes", async () => {
    const clock = new FakeClock();
    const cluster = new LosingCluster({ agents: 3, clock, random: new SeededRandom(99) });
    const fence = new FlipFence();
    const confirms: boolean[] = [];
    let answer = false;
    const keeper = SchedulerKeeper.replica({ persister: new MemoryPersister(), clock, random: new SeededRandom(1), log: pino({ level: "silent" }), fence }, OPTIONS, {
      openDriver: async () => cluster,
      closeDriver: (driver) => driver.close(),
      confirmLead: async () => {
        confirms.push(answer);
        if (!answer) fence.set(false); // as the election does: the stale lead ends
        return answer;
      },
    });
    try {
      fence.set(true);
      await keeper.start();
      await keeper.settled();
      expect(confirms).toEqual([false]);
      expect(cluster.events).toBeUndefined(); // never subscribed
      expect(keeper.running).toBeUndefined();
      answer = true;
      fence.set(true);
      await keeper.settled();
      expect(confirms).toEqual([false, true]);
      expect(cluster.events).toBeDefined();
      expect(keeper.running).toBeDefined();
    } finally {
      await keeper.stop();
    }
  });
});

/**
 * The one write fence, on the memory store with a fence the test flips: while the lock is lost
 * the scheduler writes nothing (statuses, puts); once it holds the lock again it reloads its
 * state from the store, so what another scheduler wrote meanwhile is seen.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Cancel, WriteFence } from "../../src/engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../../src/engine/scheduler.js";
import type { SchedulerDeps } from "../../src/engine/scheduler.js";
import { SchedulerKeeper } from "../../src/engine/scheduler-keeper.js";
import { FencedPersister } from "../../src/engine/store/fenced-persister.js";
import { example } from "../harness/harness.js";
import { dumpStore } from "./store-dump.js";

class FlipFence implements WriteFence {
  private held = true;
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

const OPTIONS = { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } };

async function world() {
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({ agents: 3, clock, random: new SeededRandom(99) });
  const persister = new MemoryPersister();
  const fence = new FlipFence();
  const deps: SchedulerDeps = { persister, driver: cluster, clock, random: new SeededRandom(1), log: pino({ level: "silent" }), fence };
  const keeper = new SchedulerKeeper(deps, OPTIONS);
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 1000; i++) {
      await keeper.settled();
      await keeper.scheduler.runner.queue.idle();
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
  return { clock, cluster, persister, fence, deps, keeper, settle, advance };
}

const deployed = (api: { getPlan(n: string, p: string): { status: string } }, name: string): boolean =>
  api.getPlan(name, "deploy").status === "COMPLETE";

describe("the write fence", () => {
  it("refuses every write while the lock is lost and reloads the store's state once it is held again", async () => {
    const w = await world();
    const { keeper } = w;
    try {
      await keeper.api.putService({ name: "hello", spec: example("simple.yml"), parameters: {} });
      await w.advance(20_000);
      expect(deployed(keeper.api, "hello")).toBe(true);
      const first = keeper.scheduler;

      w.fence.set(false);
      const before = await dumpStore(w.persister);
      const [task] = w.cluster.tasks();
      w.cluster.failTask(task!.taskId);
      await w.advance(10_000);
      await expect(keeper.api.putService({ name: "late", spec: example("simple.yml"), parameters: {} })).rejects.toMatchObject({
        code: "unavailable",
      });
      // Neither the failure nor anything else reached the store.
      expect(await dumpStore(w.persister)).toEqual(before);

      // Meanwhile another scheduler holds the lock and adds a service.
      const other = new MultiServiceScheduler({ ...w.deps, fence: { holds: () => true } }, OPTIONS);
      await other.start();
      await other.putService({ name: "other", spec: example("simple.yml"), parameters: {} });
      await other.stop();

      w.fence.set(true);
      await w.settle();
      expect(keeper.reloads).toBe(1);
      expect(keeper.scheduler).not.toBe(first);
      expect(keeper.api.listServices().map((s) => s.name)).toEqual(["hello", "other"]);
      // The reloaded engine deploys what the other scheduler stored, and recovers hello's failed task.
      await w.advance(30_000);
      expect(deployed(keeper.api, "other")).toBe(true);
      expect(keeper.api.getPlan("hello", "recovery").status).toBe("COMPLETE");
      const live = w.cluster.tasks().map((t) => `${t.taskId.split("__")[0]}/${t.name}`);
      expect(live.sort()).toEqual(["hello/hello-0-server", "other/hello-0-server"]);
      expect(w.cluster.tasks().map((t) => t.taskId)).not.toContain(task!.taskId);
    } finally {
      await keeper.stop();
    }
  });

  it("answers UNAVAILABLE while the engine is being replaced, and the replaced engine writes nothing more", async () => {
    const w = await world();
    const { keeper } = w;
    try {
      await keeper.api.putService({ name: "hello", spec: example("simple.yml"), parameters: {} });
      const first = keeper.scheduler;
      w.fence.set(false);
      w.fence.set(true);
      expect(() => keeper.api.listServices()).toThrow(expect.objectContaining({ code: "unavailable" }) as Error);
      await w.settle();
      expect(keeper.api.listServices().map((s) => s.name)).toEqual(["hello"]);
      await expect(first.putService({ name: "stale", spec: example("simple.yml"), parameters: {} })).rejects.toMatchObject({ code: "unavailable" });
      expect(keeper.api.listServices().map((s) => s.name)).toEqual(["hello"]);
    } finally {
      await keeper.stop();
    }
  });

  it("ends a watch of the replaced engine with UNAVAILABLE", async () => {
    const w = await world();
    const { keeper } = w;
    try {
      await keeper.api.putService({ name: "hello", spec: example("simple.yml"), parameters: {} });
      const ac = new AbortController();
      // hello is no removal yet: the watch waits for its next one.
      const watch = keeper.api.watchUninstall(["hello"], 0n, ac.signal)[Symbol.asyncIterator]().next();
      watch.catch(() => undefined); // awaited below, after the reload
      w.fence.set(false);
      w.fence.set(true);
      await w.settle();
      await expect(watch).rejects.toMatchObject({ code: "unavailable" });
      ac.abort();
    } finally {
      await keeper.stop();
    }
  });
});

describe("FencedPersister", () => {
  it("refuses writes while the fence does not hold and after it is retired, and passes reads", async () => {
    const inner = new MemoryPersister();
    const fence = new FlipFence();
    const fenced = new FencedPersister(inner, fence);
    const write = (data: string) => fenced.multi([{ kind: "set", path: "a", data: new TextEncoder().encode(data) }]);
    await write("1");
    fence.set(false);
    await expect(write("2")).rejects.toMatchObject({ code: "unavailable" });
    expect(new TextDecoder().decode((await fenced.get("a"))!.data)).toBe("1");
    fence.set(true);
    await write("3");
    fenced.retire();
    await expect(write("4")).rejects.toMatchObject({ code: "unavailable" });
    expect(new TextDecoder().decode((await inner.get("a"))!.data)).toBe("3");
  });
});

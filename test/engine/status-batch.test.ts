/**
 * Batched status persistence (runner + event client): updates that queue up while one batch is
 * being stored go into ONE multi, and each is acknowledged only after that multi succeeded.
 * The cluster is a recording stub so the test decides exactly when updates arrive; the stored
 * services come from a real deploy on the simulated cluster.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { TaskState, TaskStatus } from "../../src/domain/cluster.js";
import type { ClusterDriver, ClusterEvents, Persister, PersisterOp, Versioned } from "../../src/engine/ports.js";
import { MAX_STATUS_BATCH } from "../../src/engine/runner.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../../src/engine/scheduler.js";
import { decodeJson } from "../../src/engine/store/codec.js";
import { createHarness } from "../harness/harness.js";

/** A cluster that only records: the test fires events itself. */
class RecordingDriver implements ClusterDriver {
  events: ClusterEvents | undefined;
  readonly acks: string[] = [];
  readonly kills: string[] = [];
  async subscribe(_f: unknown, events: ClusterEvents): Promise<void> {
    this.events = events;
  }
  async accept(): Promise<void> {}
  async decline(): Promise<void> {}
  async kill(taskId: string): Promise<void> {
    this.kills.push(taskId);
  }
  async acknowledge(_agentId: string, _taskId: string, uuid: string): Promise<void> {
    this.acks.push(uuid);
  }
  async reconcile(): Promise<void> {}
  async revive(): Promise<void> {}
  async suppress(): Promise<void> {}
  async teardown(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Holds every multi until `release()`; counts them. */
class GatedPersister implements Persister {
  multis: (readonly PersisterOp[])[] = [];
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  constructor(readonly inner: Persister) {}
  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  get(path: string): Promise<Versioned | undefined> {
    return this.inner.get(path);
  }
  children(path: string): Promise<string[]> {
    return this.inner.children(path);
  }
  async multi(ops: readonly PersisterOp[]): Promise<void> {
    this.multis.push(ops);
    await this.gate;
    await this.inner.multi(ops);
  }
  async close(): Promise<void> {}
}

const flush = async (scheduler: MultiServiceScheduler): Promise<void> => {
  await scheduler.runner.queue.idle();
  await new Promise((r) => setImmediate(r));
  await scheduler.runner.queue.idle();
};

/** A store holding two deployed hello-world services (6 tasks), and their task IDs. */
async function deployedStore(): Promise<{ store: MemoryPersister; taskIds: string[] }> {
  const store = new MemoryPersister();
  const h = await createHarness({ persister: store });
  await h.put("one", "hello-world.yml");
  await h.put("two", "hello-world.yml");
  await h.deployAll(["one", "two"]);
  await h.scheduler.stop();
  h.cluster.stop();
  const taskIds = h.cluster.tasks().map((t) => t.taskId).sort();
  return { store, taskIds };
}

async function restartOn(
  persister: Persister,
): Promise<{ scheduler: MultiServiceScheduler; driver: RecordingDriver; clock: FakeClock }> {
  const driver = new RecordingDriver();
  const clock = new FakeClock();
  const scheduler = new MultiServiceScheduler(
    { persister, driver, clock, random: new SeededRandom(5), log: pino({ level: "silent" }) },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "r", principal: "p" } },
  );
  await scheduler.start();
  driver.events!.subscribed("framework-1");
  await flush(scheduler);
  return { scheduler, driver, clock };
}

let uuids = 0;
const update = (taskId: string, state: TaskState = "TASK_RUNNING"): TaskStatus => ({
  taskId,
  state,
  agentId: "agent",
  uuid: `uuid-${++uuids}`,
  source: "SOURCE_EXECUTOR",
  timestampMs: 1,
});

async function storedStatus(store: Persister, taskId: string): Promise<TaskStatus | undefined> {
  const [service, task] = taskId.split("__");
  const v = await store.get(`Services/${service}/Tasks/${task}/TaskStatus`);
  return v && decodeJson<TaskStatus>(v.data);
}

describe("batched task-status persistence", () => {
  it("stores updates that arrive together in one multi, then acknowledges each", async () => {
    const { store, taskIds } = await deployedStore();
    const counting = new FaultInjectingPersister(store);
    const { scheduler, driver } = await restartOn(counting);
    const writes = counting.writes;
    const sent = taskIds.map((id) => update(id));
    for (const s of sent) driver.events!.update(s);
    await flush(scheduler);
    expect(counting.writes - writes).toBe(1);
    expect(driver.acks.sort()).toEqual(sent.map((s) => s.uuid!).sort());
    for (const s of sent) expect((await storedStatus(store, s.taskId))?.uuid).toBe(s.uuid);
    await scheduler.stop();
  });

  it("acknowledges nothing while the batch's multi is in flight; updates arriving meanwhile form the next batch", async () => {
    const { store, taskIds } = await deployedStore();
    const gated = new GatedPersister(store);
    const { scheduler, driver } = await restartOn(gated);
    gated.hold();
    const base = gated.multis.length;
    const first = taskIds.slice(0, 2).map((id) => update(id));
    for (const s of first) driver.events!.update(s);
    await new Promise((r) => setImmediate(r));
    expect(gated.multis.length - base).toBe(1);
    const later = taskIds.slice(2).map((id) => update(id));
    for (const s of later) driver.events!.update(s);
    await new Promise((r) => setImmediate(r));
    expect(driver.acks).toEqual([]);
    expect(gated.multis.length - base).toBe(1);
    gated.release();
    await flush(scheduler);
    // The first batch, then one more multi for the four that queued up behind it.
    expect(gated.multis.length - base).toBe(2);
    expect(gated.multis.at(-1)!.filter((op) => op.path.endsWith("/TaskStatus"))).toHaveLength(4);
    expect(driver.acks.sort()).toEqual([...first, ...later].map((s) => s.uuid!).sort());
    await scheduler.stop();
  });

  it("a failed batch write acknowledges none of its statuses and applies none; the resent updates land", async () => {
    const { store, taskIds } = await deployedStore();
    const faulty = new FaultInjectingPersister(store);
    const { scheduler, driver, clock } = await restartOn(faulty);
    /** Runs the offer cycles due: recovery is planned there. */
    const cycle = async (): Promise<void> => {
      await clock.advanceAsync(DEFAULT_RUNNER_OPTIONS.cycleIntervalMs);
      await flush(scheduler);
    };
    faulty.failFromWrite(faulty.writes + 1);
    const failed = taskIds.map((id) => update(id, "TASK_FAILED"));
    for (const s of failed) driver.events!.update(s);
    await flush(scheduler);
    expect(faulty.injectedFailures).toBe(1);
    expect(driver.acks).toEqual([]);
    for (const s of failed) expect((await storedStatus(store, s.taskId))?.state).toBe("TASK_RUNNING");
    // Not applied either: the services still look healthy, no recovery was planned.
    await cycle();
    for (const name of ["one", "two"]) {
      expect(scheduler.getService(name).state).toBe("RUNNING");
      expect(scheduler.getPlan(name, "recovery").phases).toEqual([]);
    }

    // The cluster sends unacknowledged updates again; now they are stored and acknowledged.
    faulty.heal();
    for (const s of failed) driver.events!.update(s);
    await flush(scheduler);
    expect(driver.acks.sort()).toEqual(failed.map((s) => s.uuid!).sort());
    for (const s of failed) expect((await storedStatus(store, s.taskId))?.state).toBe("TASK_FAILED");
    await cycle();
    expect(scheduler.getPlan("one", "recovery").phases.length).toBeGreaterThan(0);
    await scheduler.stop();
  });

  it("takes at most MAX_STATUS_BATCH updates per multi", async () => {
    const { store, taskIds } = await deployedStore();
    const gated = new GatedPersister(store);
    const { scheduler, driver } = await restartOn(gated);
    const base = gated.multis.length;
    const n = MAX_STATUS_BATCH + 10;
    const sent = Array.from({ length: n }, (_, i) => update(taskIds[i % taskIds.length]!));
    for (const s of sent) driver.events!.update(s);
    await flush(scheduler);
    const statusOps = gated.multis.slice(base).map((ops) => ops.filter((op) => op.path.endsWith("/TaskStatus")).length);
    expect(statusOps).toEqual([MAX_STATUS_BATCH, 10]);
    expect(driver.acks).toHaveLength(n);
    await scheduler.stop();
  });

  it("acknowledges updates of unknown tasks without writing, and kills the live ones", async () => {
    const { store } = await deployedStore();
    const counting = new FaultInjectingPersister(store);
    const { scheduler, driver } = await restartOn(counting);
    const writes = counting.writes;
    const stray = update("ghost__web-0-server__00000000-0000-4000-8000-000000000001");
    driver.events!.update(stray);
    await flush(scheduler);
    expect(counting.writes).toBe(writes);
    expect(driver.acks).toEqual([stray.uuid]);
    expect(driver.kills).toEqual([stray.taskId]);
    await scheduler.stop();
  });
});

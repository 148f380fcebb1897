/**
 * The launch recorder across services: the TaskInfos of every service that launches in one
 * offer cycle are stored in one multi before any operation leaves, and when that write fails
 * nothing of it is launched; the next cycle tries again.
 */
import { describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Persister, PersisterOp, Versioned } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";

/** Counts multis that store TaskInfos, and can fail them. */
class LaunchWatcher implements Persister {
  launchWrites: number[] = [];
  failLaunches = false;
  constructor(private readonly inner: Persister = new MemoryPersister()) {}
  get(path: string): Promise<Versioned | undefined> {
    return this.inner.get(path);
  }
  children(path: string): Promise<string[]> {
    return this.inner.children(path);
  }
  async multi(ops: readonly PersisterOp[]): Promise<void> {
    const infos = ops.filter((op) => op.kind === "set" && op.path.endsWith("/TaskInfo")).length;
    if (infos > 0) {
      this.launchWrites.push(infos);
      if (this.failLaunches) throw new Error("store unreachable");
    }
    await this.inner.multi(ops);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe("launches of one offer cycle", () => {
  it("are stored for every service in one multi", async () => {
    const store = new LaunchWatcher();
    const h = await createHarness({ persister: store, agents: 2 }); // one offer each
    // Both are put before any cycle runs, so the first cycle launches both.
    await Promise.all([h.scheduler.putService({ name: "a", spec: simple(), parameters: {} }), h.scheduler.putService({ name: "b", spec: simple(), parameters: {} })]);
    await h.deployAll(["a", "b"]);
    expect(store.launchWrites).toEqual([2]);
  });

  it("that cannot be stored are not sent; the next cycle launches them", async () => {
    const store = new LaunchWatcher();
    const h = await createHarness({ persister: store });
    store.failLaunches = true;
    await h.put("a", "simple.yml");
    await h.advance(100);
    expect(store.launchWrites.length).toBeGreaterThan(0);
    expect(h.cluster.counts.launches).toBe(0);
    expect(h.cluster.tasks()).toEqual([]);
    store.failLaunches = false;
    await h.deployAll(["a"]);
    expect(h.cluster.tasks()).toHaveLength(1);
  });
});

function simple(): string {
  return "name: {{SERVICE_NAME}}\npods:\n  hello:\n    count: 1\n    tasks:\n      server:\n        goal: RUNNING\n        cmd: sleep 1000\n        cpus: 0.1\n        memory: 32\n";
}

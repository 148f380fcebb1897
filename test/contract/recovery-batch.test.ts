/**
 * Recovery reads in batches (ServiceStore.recover, StateStore.loadMany, the scheduler's
 * recoverBatch) and must come back exactly as the node-by-node reads did: quarantine, a removal
 * resumed, missing nodes. The same damaged store is recovered through `getMany` and through a
 * store without it (one `get` per node); both must agree, with far fewer reads for the first.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { ClusterDriver, ClusterEvents, Persister, PersisterOp, Versioned } from "../../src/engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../../src/engine/scheduler.js";
import { decodeJson, encodeJson } from "../../src/engine/store/codec.js";
import { createHarness } from "../harness/harness.js";

/** A cluster that never offers nor reports anything: what recovery rebuilt stays as it is. */
class SilentDriver implements ClusterDriver {
  async subscribe(_f: unknown, events: ClusterEvents): Promise<void> {
    events.subscribed("fw-1");
  }
  async accept(): Promise<void> {}
  async decline(): Promise<void> {}
  async kill(): Promise<void> {}
  async acknowledge(): Promise<void> {}
  async reconcile(): Promise<void> {}
  async revive(): Promise<void> {}
  async suppress(): Promise<void> {}
  async teardown(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Counts reads; `batched: false` hides the inner store's getMany (the fallback path). */
class Counting implements Persister {
  gets = 0;
  children_ = 0;
  getManys: number[] = [];
  getMany?: (paths: readonly string[]) => Promise<(Versioned | undefined)[]>;
  constructor(
    readonly inner: MemoryPersister,
    batched: boolean,
  ) {
    if (batched) {
      this.getMany = (paths) => {
        this.getManys.push(paths.length);
        return inner.getMany(paths);
      };
    }
  }
  get(path: string): Promise<Versioned | undefined> {
    this.gets++;
    return this.inner.get(path);
  }
  children(path: string): Promise<string[]> {
    this.children_++;
    return this.inner.children(path);
  }
  multi(ops: readonly PersisterOp[]): Promise<void> {
    return this.inner.multi(ops);
  }
  async close(): Promise<void> {}
}

const N = 70; // more than two batches of 32 services
const names = Array.from({ length: N }, (_, i) => `svc-${String(i).padStart(2, "0")}`);
const enc = new TextEncoder();

/** N deployed services, then damaged the ways recovery must survive. Deterministic (same seeds). */
async function damagedStore(): Promise<MemoryPersister> {
  const store = new MemoryPersister();
  const h = await createHarness({ persister: store });
  for (const name of names) await h.put(name, "simple.yml");
  await h.deployAll(names);
  await h.scheduler.stop();
  h.cluster.stop();
  const ctx = decodeJson<Record<string, unknown>>((await store.get("ServiceList/svc-05/Context"))!.data);
  const configId = new TextDecoder().decode((await store.get("Services/svc-09/ConfigTarget"))!.data);
  await store.multi([
    { kind: "set", path: "ServiceList/svc-03/Context", data: enc.encode("{not json") },
    { kind: "set", path: "ServiceList/svc-05/Context", data: encodeJson({ ...ctx, spec: "name: svc-05\npods: {}" }) },
    { kind: "delete", path: "Services/svc-07/ConfigTarget" },
    { kind: "set", path: "ServiceList/svc-09/Removal", data: encodeJson({ startedMs: h.clock.now(), released: [], configId }) },
    { kind: "set", path: "Services/svc-11/Tasks/hello-0-server/TaskInfo", data: enc.encode("{broken") },
    { kind: "delete", path: "Services/svc-13" },
    { kind: "delete", path: "Services/svc-40/Tasks/hello-0-server/TaskStatus" },
    { kind: "set", path: "ServiceList/ghost", data: new Uint8Array() },
  ]);
  return store;
}

async function recover(persister: Persister): Promise<{ scheduler: MultiServiceScheduler; views: string[] }> {
  const scheduler = new MultiServiceScheduler(
    { persister, driver: new SilentDriver(), clock: new FakeClock(), random: new SeededRandom(7), log: pino({ level: "silent" }) },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "r", principal: "p" } },
  );
  await scheduler.start();
  const views = scheduler.listServices().map((v) => {
    if (v.state === "QUARANTINED" || v.state === "UNINSTALLING") return `${v.name} ${v.state} ${v.error ?? ""}`;
    const steps = scheduler.getPlan(v.name, "deploy").phases.flatMap((p) => p.steps.map((s) => s.status));
    return `${v.name} ${v.state} ${steps.join(",")}`;
  });
  await scheduler.stop();
  return { scheduler, views };
}

describe("recovery in batches", () => {
  it("recovers a damaged store as node-by-node reads do, with a handful of batched reads", async () => {
    const batched = new Counting(await damagedStore(), true);
    const single = new Counting(await damagedStore(), false);
    const a = await recover(batched);
    const b = await recover(single);
    expect(a.views).toEqual(b.views);
    expect(a.views).toHaveLength(N + 1);

    const view = (name: string): string => a.views.find((v) => v.startsWith(`${name} `))!;
    expect(view("svc-03")).toMatch(/^svc-03 QUARANTINED .*JSON/);
    expect(view("svc-05")).toMatch(/^svc-05 QUARANTINED .*pod/);
    expect(view("svc-07")).not.toMatch(/QUARANTINED/);
    expect(view("svc-09")).toMatch(/^svc-09 UNINSTALLING/);
    expect(view("svc-11")).toMatch(/^svc-11 QUARANTINED .*JSON/);
    expect(view("svc-13")).toMatch(/^svc-13 \w+ PENDING$/); // no tasks left: deploys again
    expect(view("svc-40")).not.toMatch(/COMPLETE$/); // its status is gone: not known to run
    expect(view("ghost")).toBe("ghost QUARANTINED context missing");
    for (const name of ["svc-00", "svc-31", "svc-32", "svc-69"]) expect(view(name)).toBe(`${name} RUNNING COMPLETE`);

    // Node by node: ~6 reads per service. Batched: the plan event log's nodes and its services'
    // baselines in one read each, contexts in one read, then per batch of 32 services one read of
    // Removal + ConfigTarget and one of the task nodes, and the resumed removal's task nodes; the
    // `get`s left are the schema, the event logs' sequence numbers and the framework id.
    expect(single.gets).toBeGreaterThan(5 * N);
    expect(batched.getManys).toHaveLength(2 + 1 + 2 * 3 + 1);
    expect(batched.getManys[1]).toBe(N);
    expect(batched.getManys[2]).toBe(N + 1);
    expect(batched.gets).toBeLessThanOrEqual(7);
    expect(batched.children_).toBe(single.children_);
  }, 60_000);
});

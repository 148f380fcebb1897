import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { SqlitePersister } from "../../src/adapters/persister/sqlite-persister.js";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { encodeJson, decodeJson } from "../../src/engine/store/codec.js";
import { createHarness, example } from "../harness/harness.js";
import { tempDir } from "../use-temp-dir.js";

describe("restart recovery", () => {
  it("a scheduler restarted on the same SQLite file recovers services and plans, launching nothing", async () => {
    const file = join(tempDir("restart"), "corral.db");
    const store = SqlitePersister.open(file);
    const first = await createHarness({ persister: store });
    await first.put("hello", "hello-world.yml");
    await first.put("team/simple", "simple.yml");
    await first.deployAll(["hello", "team/simple"]);
    const launches = first.cluster.counts.launches;
    const taskIds = first.cluster.tasks().map((t) => t.taskId).sort();
    await first.scheduler.stop();
    await store.close();

    const reopened = SqlitePersister.open(file);
    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: reopened });
    await second.advance(30_000);
    expect(second.scheduler.listServices().map((s) => [s.name, s.state])).toEqual([
      ["hello", "RUNNING"],
      ["team/simple", "RUNNING"],
    ]);
    const steps = second.scheduler.getPlan("hello", "deploy").phases.flatMap((p) => p.steps.map((x) => [x.name, x.status]));
    expect(steps).toEqual([
      ["hello-0:[server]", "COMPLETE"],
      ["world-0:[server]", "COMPLETE"],
      ["world-1:[server]", "COMPLETE"],
    ]);
    expect(first.cluster.counts.launches).toBe(launches);
    expect(first.cluster.tasks().map((t) => t.taskId).sort()).toEqual(taskIds);
    await reopened.close();
  });

  it("quarantines a stored service that no longer builds, leaves its tasks and reservations alone, and repairs it", async () => {
    const first = await createHarness();
    await first.put("hello", "simple.yml");
    await first.deployAll(["hello"]);
    const [task] = first.cluster.tasks();
    const reservations = [...first.cluster.reservations().values()].flat().length;
    await first.scheduler.stop();

    // What an upgrade that rejects the stored spec looks like: the context no longer builds.
    const path = "ServiceList/hello/Context";
    const ctx = decodeJson<Record<string, unknown>>((await first.persister.get(path))!.data);
    await first.persister.multi([{ kind: "set", path, data: encodeJson({ ...ctx, spec: "name: hello\npods: {}" }) }]);

    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    expect(second.scheduler.getService("hello")).toMatchObject({ state: "QUARANTINED", error: expect.stringMatching(/pod/) });
    expect(() => second.scheduler.getPlan("hello", "deploy")).toThrowError(/quarantined/);
    // Another service keeps the offer cycle busy, so garbage collection runs on the offers.
    await second.put("other", "simple.yml");
    await second.deployAll(["other"]);
    await second.advance(60_000);
    expect(first.cluster.tasks().map((t) => t.taskId)).toContain(task!.taskId);
    const hello = [...first.cluster.reservations().values()].flat().filter((r) => r.reservations?.at(-1)?.labels["namespace"] === "hello");
    expect(hello).toHaveLength(reservations);

    const repaired = await second.scheduler.putService({ name: "hello", spec: example("simple.yml"), parameters: {} });
    expect(repaired.outcome).toBe("UPDATED");
    await second.deployAll(["hello"]);
    // The running task was adopted, not relaunched.
    expect(first.cluster.tasks().filter((t) => t.taskId.startsWith("hello__")).map((t) => t.taskId)).toEqual([task!.taskId]);
  });

  /** Writes of putting hello-world and deploying it (8 of them plan events), counted by the first test below. */
  const WRITES = 18;

  it("the scenario below makes exactly the writes the table covers", async () => {
    const faulty = new FaultInjectingPersister(new MemoryPersister());
    const h = await createHarness({ persister: faulty });
    const before = faulty.writes;
    await h.scheduler.putService({ name: "hello", spec: example("hello-world.yml"), parameters: {} });
    await h.deployAll(["hello"]);
    expect(faulty.writes - before).toBe(WRITES);
  });

  const cases = (["before", "after"] as const).flatMap((mode) =>
    Array.from({ length: WRITES }, (_, i) => ({ mode, k: i + 1 })),
  );

  it.each(cases)(
    "a scheduler that dies at write $k ($mode it is applied) recovers with nothing launched twice",
    async ({ mode, k }) => {
      const memory = new MemoryPersister();
      const faulty = new FaultInjectingPersister(memory, { mode });
      const first = await createHarness({ persister: faulty });
      faulty.failFromWrite(faulty.writes + k);
      let putFailed = false;
      await first.scheduler
        .putService({ name: "hello", spec: example("hello-world.yml"), parameters: {} })
        .catch(() => (putFailed = true));
      await first.advance(5000).catch(() => undefined);
      await first.scheduler.stop().catch(() => undefined);

      faulty.heal();
      const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: memory });
      if (putFailed && mode === "before") {
        // The put stored nothing: the service is unknown, and its caller saw an error.
        expect(second.scheduler.listServices()).toEqual([]);
        return;
      }
      // Otherwise the service was stored (even if its caller saw an error) and deploys to the end.
      await second.deployAll(["hello"]);
      await second.advance(30_000);
      const names = first.cluster.tasks().map((t) => t.name);
      expect(names.sort()).toEqual(["hello-0-server", "world-0-server", "world-1-server"]);
    },
  );
});

import { describe, expect, it } from "vitest";
import { LABEL_NAMESPACE } from "../../src/domain/cluster.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { parseTaskId } from "../../src/domain/task-id.js";
import { createHarness } from "../harness/harness.js";

function namespaces(h: Awaited<ReturnType<typeof createHarness>>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const resources of h.cluster.reservations().values()) {
    for (const r of resources) {
      const ns = r.reservations?.at(-1)?.labels[LABEL_NAMESPACE] ?? "(none)";
      counts.set(ns, (counts.get(ns) ?? 0) + 1);
    }
  }
  return counts;
}

describe("multi-service engine on the simulated cluster", () => {
  it("deploys two services that share offers", async () => {
    const h = await createHarness({ agents: 2 });
    await h.put("hello", "hello-world.yml");
    await h.put("team/simple", "simple.yml");
    await h.deployAll(["hello", "team/simple"]);

    const steps = h.scheduler.getPlan("hello", "deploy").phases.flatMap((p) => p.steps.map((s) => s.name));
    expect(steps).toEqual(["hello-0:[server]", "world-0:[server]", "world-1:[server]"]);
    const byService = new Map<string, number>();
    for (const t of h.cluster.tasks()) {
      const svc = parseTaskId(t.taskId).service ?? "";
      byService.set(svc, (byService.get(svc) ?? 0) + 1);
    }
    expect(Object.fromEntries(byService)).toEqual({ hello: 3, "team.simple": 1 });
    // Every reservation names the service that made it, by its original name.
    expect([...namespaces(h).keys()].sort()).toEqual(["hello", "team/simple"]);
    expect(h.cluster.counts.launches).toBe(4);
  });

  it("routes a task failure to its own service, which relaunches in place", async () => {
    const h = await createHarness();
    await h.put("a", "simple.yml");
    await h.put("b", "simple.yml");
    await h.deployAll(["a", "b"]);
    const before = h.cluster.tasks().find((t) => t.taskId.startsWith("a__"))!;
    const reservedBefore = namespaces(h).get("a");

    h.cluster.failTask(before.taskId);
    await h.settle();
    const recovery = h.scheduler.getPlan("a", "recovery");
    expect(recovery.phases.map((p) => [p.name, p.steps.map((s) => s.name)])).toEqual([["hello", ["hello-0:[server]"]]]);
    expect(h.scheduler.getPlan("b", "recovery").phases).toHaveLength(0);

    await h.advance(1000);
    const after = h.cluster.tasks().find((t) => t.taskId.startsWith("a__"))!;
    expect(after.taskId).not.toBe(before.taskId);
    expect(after.agentId).toBe(before.agentId);
    expect(h.scheduler.getPlan("a", "recovery").status).toBe("COMPLETE");
    // Relaunched on the same reservations: nothing new was reserved.
    expect(namespaces(h).get("a")).toBe(reservedBefore);
  });

  it("kills tasks that no service owns", async () => {
    const first = await createHarness();
    await first.put("orphan", "simple.yml");
    await first.deployAll(["orphan"]);
    expect(first.cluster.tasks()).toHaveLength(1);
    await first.scheduler.stop();

    // A scheduler whose store knows the framework but no service: the task is nobody's.
    const persister = new MemoryPersister();
    const fid = (await first.persister.get("FrameworkID"))!;
    await persister.multi([{ kind: "set", path: "FrameworkID", data: fid.data }]);
    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister });
    await second.settle();
    expect(first.cluster.counts.kills).toBeGreaterThanOrEqual(1);
    expect(first.cluster.tasks()).toHaveLength(0);
  });

  it("suppresses offers when all services are idle and revives for new work", async () => {
    const h = await createHarness();
    await h.put("one", "simple.yml");
    await h.deployAll(["one"]);
    await h.advance(5000);
    expect(h.cluster.counts.suppresses).toBeGreaterThanOrEqual(1);
    const revives = h.cluster.counts.revives;

    await h.put("two", "simple.yml");
    await h.deployAll(["two"]);
    expect(h.cluster.counts.revives).toBeGreaterThan(revives);
  });

  it("a restarted scheduler recovers services and launches nothing twice", async () => {
    const first = await createHarness();
    await first.put("hello", "hello-world.yml");
    await first.put("team/simple", "simple.yml");
    await first.deployAll(["hello", "team/simple"]);
    const launches = first.cluster.counts.launches;
    await first.scheduler.stop();

    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    await second.advance(1000);
    expect(second.scheduler.listServices().map((s) => s.name)).toEqual(["hello", "team/simple"]);
    expect(second.deployStatus("hello")).toBe("COMPLETE");
    expect(second.deployStatus("team/simple")).toBe("COMPLETE");
    await second.advance(30_000);
    expect(first.cluster.counts.launches).toBe(launches);
    expect(first.cluster.tasks()).toHaveLength(4);
  });

  it("retries a FINISH task that exits non-zero and completes ONCE/FINISH tasks", async () => {
    let failures = 1;
    const h = await createHarness({
      sim: {
        taskScript: (task) => {
          if (!task.name.endsWith("-init") && !task.name.endsWith("-finish")) return {};
          const exitCode = task.name.endsWith("-finish") && failures-- > 0 ? 1 : 0;
          return { exitAfterMs: 10, exitCode };
        },
      },
    });
    await h.put("jobs", "finish-once.yml");
    await h.deployAll(["jobs"]);
    expect(failures).toBeLessThan(0);
    const finish = h.scheduler.getPlan("jobs", "deploy").phases.find((p) => p.name === "world-finish-deploy")!;
    // The failed first run and the successful retry are two launches with distinct IDs.
    expect(finish.steps[0]!.status).toBe("COMPLETE");
    expect(h.cluster.counts.launches).toBe(2 + 1 + 1 + 2);
  });
});

describe("offers for steps that do not fit yet", () => {
  it("declines short while a step waits, so the offer keeps coming back", async () => {
    // One agent with room for one simple service (0.1 cpu) but not two.
    const h = await createHarness({ agents: [{ cpus: 0.15 }] });
    await h.put("first", "simple.yml");
    await h.deployAll(["first"]);
    await h.put("second", "simple.yml");
    const declines = h.cluster.counts.declines;
    await h.advance(30_000);
    // A long (3600 s) decline would have been the only one; short ones repeat every ~5 s.
    expect(h.cluster.counts.declines - declines).toBeGreaterThanOrEqual(3);
    expect(h.deployStatus("second")).not.toBe("COMPLETE");
    const step = h.scheduler.getPlan("second", "deploy").phases[0]!.steps[0]!;
    expect(step.status).toBe("PREPARED");
    expect(step.message).toMatch(/insufficient cpus/);
  });
});

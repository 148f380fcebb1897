/**
 * The driver wrapper and the scrape-time gauges on the real engine: the simulated cluster, the
 * memory store and a fake clock (test/harness). The counters are checked against what the
 * simulated cluster itself counted.
 */
import { describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { createMetrics } from "../../src/adapters/metrics/index.js";
import type { MetricsPart } from "../../src/adapters/metrics/index.js";
import type { ClusterDriver } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";
import type { HarnessOptions } from "../harness/harness.js";
import { MemoryTaskFiles, withTaskFiles } from "../engine/memory-task-files.js";
import { parseExposition, samplesOf, valueOf } from "./exposition.js";
import type { Sample } from "./exposition.js";

async function metered(part: MetricsPart, options: HarnessOptions = {}) {
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({ agents: 3, clock, random: new SeededRandom(99), ...options.sim });
  const h = await createHarness({ ...options, clock, cluster, persister: part.wrapPersister(new MemoryPersister()), deps: { driver: part.wrapDriver(cluster) } });
  part.setScheduler(() => h.scheduler);
  return h;
}

async function scrape(part: MetricsPart): Promise<Sample[]> {
  return parseExposition((await part.metrics.exposition()).body);
}

describe("metered cluster driver", () => {
  it("counts offers, operations by type and status updates by state as the cluster saw them", async () => {
    const part = createMetrics();
    const h = await metered(part);
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const s = await scrape(part);
    const offers = (outcome: string): number => valueOf(s, "corral_offers_total", { outcome })!;
    const ops = (type: string): number => valueOf(s, "corral_operations_total", { type })!;
    expect(offers("received")).toBeGreaterThan(0);
    expect(offers("used")).toBeGreaterThan(0);
    expect(offers("used") + offers("declined")).toBeLessThanOrEqual(offers("received"));
    // hello-world: three pods of one task each, so one LAUNCH_GROUP per task launched
    expect(ops("LAUNCH_GROUP")).toBe(3);
    expect(ops("LAUNCH_GROUP")).toBe(h.cluster.counts.launches);
    expect(ops("RESERVE")).toBe(h.cluster.counts.reserves);
    expect(ops("CREATE")).toBe(h.cluster.counts.creates);
    expect(ops("UNRESERVE")).toBe(0);
    expect(valueOf(s, "corral_task_status_updates_total", { state: "TASK_RUNNING" })).toBe(3);

    h.cluster.failTask(h.cluster.tasks()[0]!.taskId);
    await h.settle();
    expect(valueOf(await scrape(part), "corral_task_status_updates_total", { state: "TASK_FAILED" })).toBe(1);
  });

  it("forwards the task files a driver serves, and none when it serves none", async () => {
    const part = createMetrics();
    const clock = new FakeClock();
    const cluster = new SimulatedCluster({ agents: 1, clock, random: new SeededRandom(1) });
    expect("taskFiles" in part.wrapDriver(cluster)).toBe(false);
    const files = new MemoryTaskFiles();
    const withFiles: ClusterDriver = withTaskFiles(cluster, files);
    expect(part.wrapDriver(withFiles).taskFiles).toBe(files);
  });
});

describe("scrape-time gauges", () => {
  it("have no samples while there is no scheduler", async () => {
    const part = createMetrics();
    part.setScheduler(() => undefined);
    const s = await scrape(part);
    for (const name of ["corral_services", "corral_plans", "corral_plan_steps", "corral_deploy_slots"]) expect(samplesOf(s, name)).toEqual([]);
  });

  it("read the scheduler once per scrape", async () => {
    const part = createMetrics();
    const calls = { figures: 0, deploySlots: 0 };
    part.setScheduler(() => ({
      figures: () => (calls.figures++, { services: new Map(), plans: [], steps: new Map([["PENDING", 2]]) }),
      deploySlots: async () => (calls.deploySlots++, { used: 0, limit: 2 }),
    }));
    const s = await scrape(part);
    await scrape(part);
    expect(calls).toEqual({ figures: 2, deploySlots: 2 });
    expect(valueOf(s, "corral_plan_steps", { status: "PENDING" })).toBe(2);
    expect(valueOf(s, "corral_deploy_slots", { kind: "limit" })).toBe(2);
  });

  it("count services by state, each plan's status and steps by status", async () => {
    const part = createMetrics();
    const h = await metered(part);
    await h.put("hello", "hello-world.yml");
    let s = await scrape(part);
    expect(valueOf(s, "corral_services", { state: "DEPLOYING" })).toBe(1);
    expect(valueOf(s, "corral_services", { state: "RUNNING" })).toBe(0);
    expect(valueOf(s, "corral_plans", { service: "hello", plan: "deploy", status: "COMPLETE" })).toBeUndefined();

    await h.put("other", "simple.yml");
    await h.deployAll(["hello", "other"]);
    s = await scrape(part);
    expect(valueOf(s, "corral_services", { state: "RUNNING" })).toBe(2);
    expect(valueOf(s, "corral_services", { state: "DEPLOYING" })).toBe(0);
    expect(samplesOf(s, "corral_plans", { service: "hello", plan: "deploy" }).map((x) => [x.labels["status"], x.value])).toEqual([["COMPLETE", 1]]);
    // hello-world has three deploy steps, simple.yml one; nothing else has steps yet
    expect(valueOf(s, "corral_plan_steps", { status: "COMPLETE" })).toBe(4);
    expect(valueOf(s, "corral_plan_steps", { status: "PENDING" })).toBe(0);
    expect(samplesOf(s, "corral_deploy_slots")).toEqual([]); // no --max-parallel-deploys

    await h.scheduler.uninstallService("other");
    s = await scrape(part);
    expect(valueOf(s, "corral_services", { state: "UNINSTALLING" })).toBe(1);
  });

  it("are read without views yet say what the views say (services by state, each plan, steps by status)", async () => {
    const part = createMetrics();
    const h = await metered(part, { sim: { statusDelayMs: 1000 } });
    await h.put("done", "simple.yml");
    await h.deployAll(["done"]);
    await h.put("going", "hello-world.yml");
    await h.put("leaving", "simple.yml");
    await h.deployAll(["leaving"]);
    await h.scheduler.uninstallService("leaving");
    await h.advance(100);
    const views = h.scheduler.listServices();
    const states = new Map<string, number>();
    for (const v of views) states.set(v.state, (states.get(v.state) ?? 0) + 1);
    const steps = new Map<string, number>();
    for (const v of views) {
      for (const p of v.plans) {
        for (const phase of h.scheduler.getPlan(v.name, p.name).phases) for (const step of phase.steps) steps.set(step.status, (steps.get(step.status) ?? 0) + 1);
      }
    }
    expect([...states.keys()].sort()).toEqual(["DEPLOYING", "RUNNING", "UNINSTALLING"]);
    const figures = h.scheduler.figures();
    expect(new Map([...figures.services].sort())).toEqual(new Map([...states].sort()));
    expect(new Map([...figures.steps].sort())).toEqual(new Map([...steps].sort()));
    const triples: string[][] = [];
    for (let i = 0; i < figures.plans.length; i += 3) triples.push(figures.plans.slice(i, i + 3));
    expect(triples.sort()).toEqual(views.flatMap((v) => v.plans.map((p) => [v.name, p.name, p.status])).sort());
  });

  it("report the deployment limit's slots used and the limit", async () => {
    const part = createMetrics();
    // Each task transition takes a second, so a deploy spans several cycles.
    const h = await metered(part, { scheduler: { maxParallelDeploys: 1 }, sim: { statusDelayMs: 1000 } });
    await h.put("a", "simple.yml");
    await h.put("b", "simple.yml");
    await h.advance(100);
    let s = await scrape(part);
    expect(valueOf(s, "corral_deploy_slots", { kind: "limit" })).toBe(1);
    expect(valueOf(s, "corral_deploy_slots", { kind: "used" })).toBe(1);
    await h.deployAll(["a", "b"]);
    await h.advance(1000);
    s = await scrape(part);
    expect(valueOf(s, "corral_deploy_slots", { kind: "used" })).toBe(0);
  });
});

describe("role gauges", () => {
  it("say starting, standby or leader, and corral_leader is 1 only while leading", async () => {
    const part = createMetrics();
    const role = async (): Promise<[number | undefined, string[]]> => {
      const s = await scrape(part);
      return [valueOf(s, "corral_leader"), samplesOf(s, "corral_replica_role").filter((x) => x.value === 1).map((x) => x.labels["role"]!)];
    };
    expect(await role()).toEqual([0, ["starting"]]);
    part.setRole("standby");
    expect(await role()).toEqual([0, ["standby"]]);
    part.setRole("leader");
    expect(await role()).toEqual([1, ["leader"]]);
    expect(samplesOf(await scrape(part), "corral_replica_role")).toHaveLength(3);
  });
});

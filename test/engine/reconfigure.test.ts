/**
 * Reconfiguration by re-put on the simulated cluster (dcos-commons §3.4, §1.12–1.13): only what
 * changed is redeployed, in place on its reservations; a count raise adds a step; a count shrink
 * is refused without allow-decommission and decommissions the instance with it; a volume change
 * is refused; an identical spec changes nothing; a change during a running deploy.
 */
import { describe, expect, it } from "vitest";
import { LABEL_NAMESPACE, LABEL_RESOURCE_ID, LABEL_TARGET_CONFIG } from "../../src/domain/cluster.js";
import type { Resource } from "../../src/domain/cluster.js";
import { SchedulerError } from "../../src/domain/errors.js";
import { decodeText } from "../../src/engine/store/codec.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

const HELLO = example("hello-world.yml");
/** hello-world with the world pod's cpus raised. */
const WORLD_CPUS = HELLO.replace("cpus: 0.2", "cpus: 0.3");

function put(h: Harness, spec: string): ReturnType<Harness["scheduler"]["putService"]> {
  return h.scheduler.putService({ name: "hello", spec, parameters: {} });
}

/** Live task IDs by task name. */
function taskIds(h: Harness): Record<string, string> {
  return Object.fromEntries(h.cluster.tasks().filter((t) => t.state === "TASK_RUNNING").map((t) => [t.name, t.taskId]));
}

/** The service's reservations on the cluster: resource id → resource. */
function reservations(h: Harness): Map<string, Resource> {
  const out = new Map<string, Resource>();
  for (const rs of h.cluster.reservations().values()) {
    for (const r of rs) {
      const labels = r.reservations?.at(-1)?.labels;
      if (labels?.[LABEL_NAMESPACE] === "hello") out.set(`${labels[LABEL_RESOURCE_ID]}/${r.name}${r.disk?.persistence ? "/volume" : ""}`, r);
    }
  }
  return out;
}

async function target(h: Harness): Promise<string> {
  return decodeText((await h.persister.get("Services/hello/ConfigTarget"))!.data);
}

async function deployed(h: Harness): Promise<Harness> {
  await put(h, HELLO);
  await h.deployAll(["hello"]);
  return h;
}

/** Advances until every task named runs under a task ID other than the one given. */
async function relaunched(h: Harness, before: Record<string, string>, names: readonly string[]): Promise<void> {
  for (let i = 0; i < 120; i++) {
    const now = taskIds(h);
    if (names.every((n) => now[n] !== undefined && now[n] !== before[n]) && h.deployStatus("hello") === "COMPLETE") return;
    await h.advance(1000);
  }
  throw new Error(`not relaunched: ${JSON.stringify(h.scheduler.getPlan("hello", "deploy"))}`);
}

describe("reconfiguration", () => {
  it("asks the cluster about no task after a change: the replaced service followed their statuses", async () => {
    const h = await deployed(await createHarness());
    const asked: string[] = [];
    const reconcile = h.cluster.reconcile.bind(h.cluster);
    h.cluster.reconcile = (tasks) => {
      asked.push(...tasks.map((t) => t.taskId));
      return reconcile(tasks);
    };
    const before = taskIds(h);
    await put(h, WORLD_CPUS);
    await relaunched(h, before, ["world-0-server", "world-1-server"]);
    expect(asked).toEqual([]);
  });

  it("a cpu change of one pod relaunches only that pod, with new task IDs on the same grown reservation", async () => {
    const h = await deployed(await createHarness());
    const before = taskIds(h);
    const held = reservations(h);
    const result = await put(h, WORLD_CPUS);
    expect(result.outcome).toBe("UPDATED");
    expect(result.change).toMatchObject({ relaunched: ["world-0", "world-1"], added: [], decommissioned: [], violations: [] });
    expect(result.change?.plan?.phases.flatMap((p) => p.steps.map((s) => [s.name, s.status]))).toEqual([
      ["hello-0:[server]", "COMPLETE"],
      ["world-0:[server]", "PENDING"],
      ["world-1:[server]", "PENDING"],
    ]);
    await relaunched(h, before, ["world-0-server", "world-1-server"]);
    const after = taskIds(h);
    expect(after["hello-0-server"]).toBe(before["hello-0-server"]);
    // The same reservations (resource ids, volumes), the world pods' cpus grown to 0.3 in place.
    expect([...reservations(h).keys()].sort()).toEqual([...held.keys()].sort());
    const cpus = [...reservations(h).values()].filter((r) => r.name === "cpus").map((r) => r.scalar).sort();
    expect(cpus).toEqual([0.1, 0.3, 0.3]);
    const id = await target(h);
    expect(h.scheduler.getService("hello")).toMatchObject({ configId: id, state: "RUNNING", generation: 2 });
  });

  it("a count raised by one adds a step, and the running pods keep their tasks", async () => {
    const h = await deployed(await createHarness());
    const before = taskIds(h);
    const result = await put(h, HELLO.replace("count: 2", "count: 3"));
    expect(result.change).toMatchObject({ relaunched: [], added: ["world-2"], decommissioned: [] });
    await h.deployAll(["hello"]);
    const steps = h.scheduler.getPlan("hello", "deploy").phases.flatMap((p) => p.steps.map((s) => s.name));
    expect(steps).toEqual(["hello-0:[server]", "world-0:[server]", "world-1:[server]", "world-2:[server]"]);
    const after = taskIds(h);
    expect(Object.keys(after).sort()).toEqual(["hello-0-server", "world-0-server", "world-1-server", "world-2-server"]);
    for (const name of Object.keys(before)) expect(after[name]).toBe(before[name]);
  });

  it("refuses a count shrink without allow-decommission, with the reason, and changes nothing", async () => {
    const h = await createHarness();
    const strict = HELLO.replace("allow-decommission: true", "allow-decommission: false");
    await put(h, strict);
    await h.deployAll(["hello"]);
    const before = { target: await target(h), tasks: taskIds(h) };
    const err = await put(h, strict.replace("count: 2", "count: 1")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as SchedulerError).code).toBe("failed_precondition");
    expect((err as SchedulerError).violations?.[0]?.field).toBe("spec.pods.world.count");
    await h.advance(10_000);
    expect({ target: await target(h), tasks: taskIds(h) }).toEqual(before);
    expect(h.scheduler.getService("hello").generation).toBe(1);
  });

  it("with allow-decommission, a count shrink decommissions the last instance: killed, reservations released, records erased", async () => {
    const h = await deployed(await createHarness());
    const before = taskIds(h);
    const result = await put(h, HELLO.replace("count: 2", "count: 1"));
    expect(result.change).toMatchObject({ relaunched: [], added: [], decommissioned: ["world-1"] });
    for (let i = 0; i < 60 && h.scheduler.getPlan("hello", "decommission").status !== "COMPLETE"; i++) await h.advance(1000);
    const plan = h.scheduler.getPlan("hello", "decommission");
    expect(plan.status, JSON.stringify(plan, null, 1)).toBe("COMPLETE");
    expect(plan.phases.map((p) => p.name)).toEqual(["world-1"]);
    expect(plan.phases[0]!.steps.map((s) => s.name.replace(/unreserve-.*/, "unreserve"))).toEqual([
      "kill-world-1-server",
      ...Array(4).fill("unreserve"),
      "erase-world-1-server",
    ]);
    expect(Object.keys(taskIds(h)).sort()).toEqual(["hello-0-server", "world-0-server"]);
    expect(taskIds(h)["world-0-server"]).toBe(before["world-0-server"]);
    // world-1's reservations (cpus, mem, two volumes) are gone; the others stay.
    const left = [...reservations(h).values()];
    expect(left.filter((r) => r.name === "cpus")).toHaveLength(2);
    expect(await h.persister.children("Services/hello/Tasks")).toEqual(["hello-0-server", "world-0-server"]);
    expect(h.scheduler.getService("hello").state).toBe("RUNNING");
  });

  it("refuses a volume change", async () => {
    const h = await deployed(await createHarness());
    const err = await put(h, HELLO.replace("size: 25\n        health-check", "size: 30\n        health-check")).catch((e: unknown) => e);
    expect((err as SchedulerError).code).toBe("failed_precondition");
    expect((err as SchedulerError).violations?.map((v) => v.field)).toEqual([expect.stringMatching(/^spec\.pods\.hello\.tasks\.server/)]);
  });

  it("an identical spec is a no-op: nothing stored, nothing relaunched", async () => {
    const h = await deployed(await createHarness());
    const before = taskIds(h);
    const writes = await h.persister.children("Services/hello/Configurations");
    const result = await put(h, HELLO);
    expect(result.outcome).toBe("UNCHANGED");
    await h.advance(10_000);
    expect(taskIds(h)).toEqual(before);
    expect(await h.persister.children("Services/hello/Configurations")).toEqual(writes);
    expect(h.scheduler.getService("hello").generation).toBe(1);
  });

  it("a change during a running deploy: the deploy finishes on the new config", async () => {
    const h = await createHarness();
    await put(h, HELLO);
    await h.settle();
    expect(h.deployStatus("hello")).not.toBe("COMPLETE");
    await put(h, WORLD_CPUS);
    await h.deployAll(["hello"]);
    await h.advance(5000);
    const id = await target(h);
    const infos = await Promise.all(
      (await h.persister.children("Services/hello/Tasks")).map(async (t) => JSON.parse(decodeText((await h.persister.get(`Services/hello/Tasks/${t}/TaskInfo`))!.data)) as { labels: Record<string, string> }),
    );
    expect(infos.map((i) => i.labels[LABEL_TARGET_CONFIG])).toEqual([id, id, id]);
    const cpus = [...reservations(h).values()].filter((r) => r.name === "cpus").map((r) => r.scalar).sort();
    expect(cpus).toEqual([0.1, 0.3, 0.3]);
    // Only the old target is gone from the configs.
    expect(await h.persister.children("Services/hello/Configurations")).toEqual([id]);
  });

  it("a decommission cut short by a restart is finished by the restarted scheduler", async () => {
    const first = await deployed(await createHarness());
    await put(first, HELLO.replace("count: 2", "count: 1"));
    await first.scheduler.stop();
    const h = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    for (let i = 0; i < 60 && h.scheduler.getPlan("hello", "decommission").status !== "COMPLETE"; i++) await h.advance(1000);
    expect(h.scheduler.getPlan("hello", "decommission").status).toBe("COMPLETE");
    expect(Object.keys(taskIds(h)).sort()).toEqual(["hello-0-server", "world-0-server"]);
    expect([...reservations(h).values()].filter((r) => r.name === "cpus")).toHaveLength(2);
    expect(await h.persister.children("Services/hello/Tasks")).toEqual(["hello-0-server", "world-0-server"]);
  });

  it("after a completed deployment, the spec's update plan deploys a change", async () => {
    const h = await createHarness();
    const UPDATE = "plans:\n  update:\n    strategy: serial\n    phases:\n      worlds:\n        pod: world\n        strategy: parallel\n";
    await put(h, `${HELLO}\n${UPDATE}`);
    await h.deployAll(["hello"]);
    const before = taskIds(h);
    const result = await put(h, `${WORLD_CPUS}\n${UPDATE}`);
    expect(result.change?.plan?.phases.map((p) => [p.name, p.strategy])).toEqual([["worlds", "parallel"]]);
    await relaunched(h, before, ["world-0-server", "world-1-server"]);
    expect(h.scheduler.getPlan("hello", "deploy").phases.map((p) => p.name)).toEqual(["worlds"]);
    expect(taskIds(h)["hello-0-server"]).toBe(before["hello-0-server"]);
  });

  it("a change cut short by a restart goes on with the spec's update plan (the completed deployment is stored)", async () => {
    const first = await createHarness();
    const UPDATE = "plans:\n  update:\n    strategy: serial\n    phases:\n      worlds:\n        pod: world\n        strategy: parallel\n";
    await put(first, `${HELLO}\n${UPDATE}`);
    await first.deployAll(["hello"]);
    const before = taskIds(first);
    await put(first, `${WORLD_CPUS}\n${UPDATE}`);
    await first.scheduler.stop();
    const h = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    expect(h.scheduler.getPlan("hello", "deploy").phases.map((p) => p.name)).toEqual(["worlds"]);
    await relaunched(h, before, ["world-0-server", "world-1-server"]);
    expect(taskIds(h)["hello-0-server"]).toBe(before["hello-0-server"]);
  });

  it("a dry run says what would change (and what is refused) and changes nothing", async () => {
    const h = await deployed(await createHarness());
    const before = { target: await target(h), tasks: taskIds(h), configs: await h.persister.children("Services/hello/Configurations") };
    const dry = await h.scheduler.putService({ name: "hello", spec: WORLD_CPUS, parameters: {}, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, change: { relaunched: ["world-0", "world-1"], added: [], decommissioned: [], violations: [] } });
    expect(dry.change?.plan?.phases.flatMap((p) => p.steps.map((s) => s.status))).toEqual(["COMPLETE", "PENDING", "PENDING"]);
    const refused = await h.scheduler.putService({ name: "hello", spec: HELLO.replace("count: 1", "count: 0"), parameters: {}, dryRun: true });
    expect(refused.change?.violations.map((v) => v.field)).toEqual(["spec.pods.hello.count"]);
    await h.advance(10_000);
    const after = { target: await target(h), tasks: taskIds(h), configs: await h.persister.children("Services/hello/Configurations") };
    expect(after).toEqual(before);
    expect(h.scheduler.getService("hello").generation).toBe(1);
  });

  it("a removed pod whose spec allowed decommission is decommissioned, highest index first", async () => {
    const h = await deployed(await createHarness());
    const helloOnly = HELLO.slice(0, HELLO.indexOf("  world:"));
    const result = await put(h, helloOnly);
    expect(result.change).toMatchObject({ relaunched: [], added: [], decommissioned: ["world-0", "world-1"], violations: [] });
    expect(h.scheduler.getPlan("hello", "decommission").phases.map((p) => p.name)).toEqual(["world-1", "world-0"]);
    for (let i = 0; i < 60 && h.scheduler.getPlan("hello", "decommission").status !== "COMPLETE"; i++) await h.advance(1000);
    expect(h.scheduler.getPlan("hello", "decommission").status).toBe("COMPLETE");
    expect(Object.keys(taskIds(h))).toEqual(["hello-0-server"]);
    expect([...reservations(h).values()].filter((r) => r.name === "cpus")).toHaveLength(1);
    expect(await h.persister.children("Services/hello/Tasks")).toEqual(["hello-0-server"]);
    expect(h.scheduler.getService("hello").state).toBe("RUNNING");
  });

  it("never moves a pod: when its agent cannot hold the new resources, the step says so and waits", async () => {
    const h = await deployed(await createHarness());
    const agentOf = (name: string): string | undefined => h.cluster.tasks().find((t) => t.name === name)?.agentId;
    const agent = agentOf("world-0-server");
    await put(h, HELLO.replace("cpus: 0.2", "cpus: 50"));
    await h.advance(20_000);
    const step = h.scheduler.getPlan("hello", "deploy").phases[1]!.steps[0]!;
    expect(step.message).toMatch(new RegExp(`^insufficient cpus on agent ${agent} to grow the reservation: need 49.8 more`));
    // Its task was stopped to relaunch it and nothing was launched anywhere else.
    expect(agentOf("world-0-server")).toBeUndefined();
    expect(h.cluster.tasks().filter((t) => t.name === "world-0-server" && t.state === "TASK_RUNNING")).toEqual([]);
    expect(taskIds(h)["world-1-server"]).toBeDefined();
  });
});

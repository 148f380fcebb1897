/**
 * Pod control through the façade (MultiServiceScheduler.controlPod / listPods, §1.10, §3.6) on
 * the simulated cluster with the fake clock: restart relaunches in place; pause relaunches with
 * the idle command on the same reservations and survives a scheduler restart; resume relaunches
 * the pod's own command; a pod already paused or resumed answers changed:false; a bad pod name
 * is INVALID_ARGUMENT or NOT_FOUND naming field `pod`.
 */
import { describe, expect, it } from "vitest";
import { LABEL_RESOURCE_ID } from "../../src/domain/cluster.js";
import type { SchedulerError } from "../../src/domain/errors.js";
import { reservationLabels } from "../../src/domain/offer/pool.js";
import { IDLE_COMMAND } from "../../src/domain/service/pause.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

type SimTask = ReturnType<Harness["cluster"]["tasks"]>[number];

function task(h: Harness, name: string): SimTask | undefined {
  return h.cluster.tasks().find((x) => x.name === name && x.state === "TASK_RUNNING");
}

function ids(t: SimTask): string[] {
  return t.info.resources.flatMap((r) => reservationLabels(r)?.[LABEL_RESOURCE_ID] ?? []).sort();
}

/** Advances until `name` runs under a task ID other than `before`. */
async function relaunched(h: Harness, name: string, before: string): Promise<SimTask> {
  for (let i = 0; i < 60; i++) {
    const t = task(h, name);
    if (t && t.taskId !== before) return t;
    await h.advance(500);
  }
  throw new Error(`${name} was not relaunched`);
}

async function rejected(p: Promise<unknown>): Promise<SchedulerError> {
  try {
    await p;
  } catch (e) {
    return e as SchedulerError;
  }
  throw new Error("expected a rejection");
}

describe("pod control", () => {
  it("restart kills the pod's tasks and relaunches them in place, on the same reservations", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const before = task(h, "world-1-server")!;
    const other = task(h, "world-0-server")!;

    const result = await h.scheduler.controlPod({ name: "hello", pod: "world-1", action: "RESTART" });
    expect(result).toMatchObject({ changed: true, killed: [before.taskId], pod: { name: "world-1", paused: false, permanentlyFailed: false } });
    const after = await relaunched(h, "world-1-server", before.taskId);
    expect(after.agentId).toBe(before.agentId);
    expect(ids(after)).toEqual(ids(before));
    expect(task(h, "world-0-server")!.taskId).toBe(other.taskId); // the other pod untouched
    await h.advance(1000);
    const step = h.scheduler.getPlan("hello", "recovery").phases[0]!.steps[0]!;
    expect(step).toMatchObject({ name: "world-1:[server]", status: "COMPLETE", message: expect.stringMatching(/^attempt 1 \(transient\): task world-1-server was killed: .*; recovered$/) });
  });

  it("restart of a crash-looping pod relaunches it now instead of after its back-off", async () => {
    const h = await createHarness();
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    for (let i = 0; i < 4; i++) {
      const t = await relaunched(h, "hello-0-server", "");
      h.cluster.failTask(t.taskId);
      await h.advance(100);
    }
    const step = () => h.scheduler.getPlan("simple", "recovery").phases[0]!.steps[0]!;
    expect(step().message).toMatch(/relaunching in 4 s$/);
    const launches = h.cluster.counts.launches;
    expect(await h.scheduler.controlPod({ name: "simple", pod: "hello-0", action: "RESTART" })).toMatchObject({ changed: true, killed: [] });
    await h.advance(100);
    expect(h.cluster.counts.launches).toBe(launches + 1);
  });

  it("pause relaunches the pod with the idle command and no checks on its reservations; it stays paused across a scheduler restart; resume runs its command again", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const before = task(h, "hello-0-server")!;
    expect(before.info.healthCheck).toBeDefined();

    const paused = await h.scheduler.controlPod({ name: "hello", pod: "hello-0", action: "PAUSE" });
    expect(paused).toMatchObject({ changed: true, killed: [before.taskId], pod: { name: "hello-0", paused: true } });
    const idle = await relaunched(h, "hello-0-server", before.taskId);
    expect(idle.info.command.value).toBe(IDLE_COMMAND);
    expect(idle.info.healthCheck).toBeUndefined();
    expect(idle.agentId).toBe(before.agentId);
    expect(ids(idle)).toEqual(ids(before)); // same reservations and volume
    expect(await h.scheduler.controlPod({ name: "hello", pod: "hello-0", action: "PAUSE" })).toMatchObject({ changed: false, killed: [] });
    await h.advance(1000);
    expect(h.deployStatus("hello")).toBe("COMPLETE");
    expect(h.scheduler.getPlan("hello", "recovery").status).toBe("COMPLETE");

    // A restarted scheduler keeps the pod paused: it relaunches a paused task that dies idle again.
    await h.scheduler.stop();
    const h2 = await createHarness({ persister: h.persister, cluster: h.cluster, clock: h.clock });
    await h2.advance(5000);
    expect((await h2.scheduler.listPods("hello")).find((p) => p.name === "hello-0")).toMatchObject({ paused: true });
    h2.cluster.failTask(idle.taskId);
    const again = await relaunched(h2, "hello-0-server", idle.taskId);
    expect(again.info.command.value).toBe(IDLE_COMMAND);

    const resumed = await h2.scheduler.controlPod({ name: "hello", pod: "hello-0", action: "RESUME" });
    expect(resumed).toMatchObject({ changed: true, killed: [again.taskId], pod: { paused: false } });
    const back = await relaunched(h2, "hello-0-server", again.taskId);
    expect(back.info.command.value).toBe(before.info.command.value);
    expect(back.info.healthCheck).toBeDefined();
    expect(ids(back)).toEqual(ids(before));
    expect(await h2.scheduler.controlPod({ name: "hello", pod: "hello-0", action: "RESUME" })).toMatchObject({ changed: false, killed: [] });
  });

  it("keeps a paused pod paused through a reconfiguration that relaunches it", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const before = task(h, "world-0-server")!;
    await h.scheduler.controlPod({ name: "hello", pod: "world-0", action: "PAUSE" });
    const idle = await relaunched(h, "world-0-server", before.taskId);
    const world1 = task(h, "world-1-server")!;

    const spec = example("hello-world.yml").replace("        kill-grace-period: 10\n", "        kill-grace-period: 10\n        env:\n          GREETING: hi\n");
    expect((await h.scheduler.putService({ name: "hello", spec, parameters: {} })).outcome).toBe("UPDATED");
    await h.deployAll(["hello"]);
    const paused = await relaunched(h, "world-0-server", idle.taskId);
    expect(paused.info.command.value).toBe(IDLE_COMMAND);
    expect(paused.info.command.environment).toMatchObject({ GREETING: "hi" });
    const running = await relaunched(h, "world-1-server", world1.taskId);
    expect(running.info.command.value).not.toBe(IDLE_COMMAND);
    expect((await h.scheduler.listPods("hello")).filter((p) => p.paused).map((p) => p.name)).toEqual(["world-0"]);
  });

  it("lists every pod instance with its tasks, agent and reservations", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const pods = await h.scheduler.listPods("hello");
    expect(pods.map((p) => p.name)).toEqual(["hello-0", "world-0", "world-1"]);
    const world0 = pods[1]!;
    const t = task(h, "world-0-server")!;
    expect(world0).toMatchObject({ podType: "world", podIndex: 0, paused: false, permanentlyFailed: false, agentId: t.agentId });
    expect(world0.tasks.map((x) => x.id)).toEqual([t.taskId]);
    expect(world0.reservations.map((r) => r.resourceId).sort()).toEqual(ids(t));
    expect(world0.reservations.find((r) => r.resource === "cpus")).toMatchObject({ value: "0.2", persistenceId: "", containerPath: "" });
  });

  it.each([
    { pod: "world", code: "invalid_argument" },
    { pod: "world-01", code: "invalid_argument" },
    { pod: "planet-0", code: "not_found" },
    { pod: "world-2", code: "not_found" },
  ])("rejects pod $pod with $code naming field pod", async ({ pod, code }) => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    const e = await rejected(h.scheduler.controlPod({ name: "hello", pod, action: "RESTART" }));
    expect(e.code).toBe(code);
    expect(e.violations.map((v) => v.field)).toEqual(["pod"]);
  });
});

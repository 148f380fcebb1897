/**
 * The recovery plan's shape on the simulated cluster with the fake clock: one phase per pod,
 * one step per pod instance, reused by every recovery of it, its message saying which attempt
 * and why; and the log line of each recovery saying the same.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { AdminServer } from "../../src/adapters/grpc/server.js";
import { Status, Strategy, createAdminClient } from "../../src/client/index.js";
import type { PlanView } from "../../src/engine/admin-api.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

function live(h: Harness, name: string): string {
  const t = h.cluster.tasks().find((x) => x.name === name);
  if (!t) throw new Error(`no live task ${name}`);
  return t.taskId;
}

/** Advances until `name` runs again under a task ID other than `before`. */
async function relaunched(h: Harness, name: string, before: string): Promise<string> {
  for (let i = 0; i < 120; i++) {
    const t = h.cluster.tasks().find((x) => x.name === name && x.taskId !== before && x.state === "TASK_RUNNING");
    if (t) return t.taskId;
    await h.advance(500);
  }
  throw new Error(`${name} was not relaunched`);
}

/** Advances until the service's recovery plan is COMPLETE. */
async function recovered(h: Harness, service: string): Promise<PlanView> {
  for (let i = 0; i < 120; i++) {
    const plan = h.scheduler.getPlan(service, "recovery");
    if (plan.status === "COMPLETE") return plan;
    await h.advance(500);
  }
  throw new Error(`recovery of ${service} did not complete`);
}

function shape(plan: PlanView): [string, string[]][] {
  return plan.phases.map((p) => [p.name, p.steps.map((s) => s.name)]);
}

describe("the recovery plan", () => {
  it("keeps one phase per pod and one step per pod instance over three failures; the message names the attempt and the last reason", async () => {
    const h = await createHarness();
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);

    let id = live(h, "hello-0-server");
    h.cluster.failTask(id, "TASK_FAILED", "command exited with status 1");
    await h.settle();
    const first = h.scheduler.getPlan("simple", "recovery").phases[0]!.steps[0]!;
    id = await relaunched(h, "hello-0-server", id);
    h.cluster.failTask(id, "TASK_FAILED", "command exited with status 1");
    id = await relaunched(h, "hello-0-server", id);
    h.cluster.failTask(id, "TASK_FAILED", "command was terminated by SIGKILL");
    await h.settle();

    const plan = h.scheduler.getPlan("simple", "recovery");
    expect(shape(plan)).toEqual([["hello", ["hello-0:[server]"]]]);
    const step = plan.phases[0]!.steps[0]!;
    expect(step.id).toBe(first.id); // the same step, updated in place
    expect(step).toMatchObject({
      status: "DELAYED",
      message: "attempt 3 (transient): task hello-0-server failed: command was terminated by SIGKILL; relaunching in 2 s",
    });

    const done = await recovered(h, "simple");
    expect(shape(done)).toEqual([["hello", ["hello-0:[server]"]]]);
    expect(done.phases[0]!.steps[0]).toMatchObject({
      id: first.id,
      status: "COMPLETE",
      message: "attempt 3 (transient): task hello-0-server failed: command was terminated by SIGKILL; recovered",
    });
    expect(h.scheduler.getService("simple").state).toBe("RUNNING");
  });

  it("gives each failed pod instance its own step, in its pod's phase", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);

    h.cluster.failTask(live(h, "world-1-server"), "TASK_FAILED", "command exited with status 2");
    await h.settle();
    h.cluster.failTask(live(h, "world-0-server"), "TASK_KILLED", "killed by the scheduler");
    h.cluster.failTask(live(h, "hello-0-server"));
    await h.advance(100); // past the 10 ms between cycles: recovery is planned in the cycle

    const plan = h.scheduler.getPlan("hello", "recovery");
    expect(shape(plan)).toEqual([
      ["world", ["world-0:[server]", "world-1:[server]"]],
      ["hello", ["hello-0:[server]"]],
    ]);
    const messages = plan.phases.flatMap((p) => p.steps.map((s) => s.message));
    expect(messages[0]).toMatch(/^attempt 1 \(transient\): task world-0-server was killed: killed by the scheduler; /);
    expect(messages[1]).toMatch(/^attempt 1 \(transient\): task world-1-server failed: command exited with status 2; /);
    expect(messages[2]).toMatch(/^attempt 1 \(transient\): task hello-0-server failed: simulated failure; /);

    const done = await recovered(h, "hello");
    expect(shape(done)).toEqual(shape(plan));
    expect(done.phases.flatMap((p) => p.steps.map((s) => s.status))).toEqual(["COMPLETE", "COMPLETE", "COMPLETE"]);
    expect(h.cluster.tasks()).toHaveLength(3);
  });

  it("answers a relaunch that fails before it runs with the next attempt of the same step, backing off", async () => {
    let failLaunch = false;
    const h = await createHarness({ sim: { taskScript: () => (failLaunch ? { failLaunch: true } : {}) } });
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);

    failLaunch = true;
    h.cluster.failTask(live(h, "hello-0-server"), "TASK_FAILED", "command exited with status 1");
    await h.advance(100); // relaunched at once; that launch fails
    const plan = h.scheduler.getPlan("simple", "recovery");
    expect(shape(plan)).toEqual([["hello", ["hello-0:[server]"]]]);
    expect(plan.phases[0]!.steps[0]).toMatchObject({
      status: "DELAYED",
      message: "attempt 2 (transient): task hello-0-server failed (container launch failed): simulated launch failure; relaunching in 1 s",
    });
    const launches = h.cluster.counts.launches;
    await h.advance(500);
    expect(h.cluster.counts.launches).toBe(launches); // still waiting out the second

    failLaunch = false;
    const done = await recovered(h, "simple");
    expect(shape(done)).toEqual([["hello", ["hello-0:[server]"]]]);
    expect(done.phases[0]!.steps[0]!.message).toMatch(/^attempt \d+ \(transient\): .*; recovered$/);
  });

  it("keeps the reason in the message while the step waits for an offer", async () => {
    const h = await createHarness({ agents: 1 });
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    const [task] = h.cluster.tasks();

    h.cluster.crashAgent(task!.agentId);
    await h.advance(6000);
    const step = h.scheduler.getPlan("simple", "recovery").phases[0]!.steps[0]!;
    expect(step.message).toMatch(/^attempt 1 \(transient\): task hello-0-server is unreachable \(agent lost\): agent is unreachable; /);
    expect(step.status).not.toBe("COMPLETE");

    h.cluster.recoverAgent(task!.agentId);
    const done = await recovered(h, "simple");
    expect(done.phases[0]!.steps[0]).toMatchObject({ status: "COMPLETE", message: expect.stringMatching(/; recovered$/) });
  });
});

describe("recovery log lines", () => {
  it("say which task, why, which attempt and how long the back-off waits, with the service bound once", async () => {
    const lines: string[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const h = await createHarness({ deps: { log } });
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);

    let id = live(h, "hello-0-server");
    h.cluster.failTask(id, "TASK_FAILED", "command exited with status 1");
    id = await relaunched(h, "hello-0-server", id);
    h.cluster.failTask(id, "TASK_KILLED", "health check failed 3 times in a row");
    await h.settle();

    const recovery = lines.filter((l) => l.includes('"msg":"recovering '));
    expect(recovery).toHaveLength(2);
    for (const line of recovery) expect(line.match(/"service":/g)).toHaveLength(1);
    const [one, two] = recovery.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(one).toMatchObject({
      service: "simple",
      step: "hello-0:[server]",
      task: "hello-0-server",
      state: "TASK_FAILED",
      statusMessage: "command exited with status 1",
      attempt: 1,
      delayMs: 0,
      msg: "recovering hello-0:[server]: attempt 1 (transient): task hello-0-server failed: command exited with status 1; relaunching now",
    });
    expect(two).toMatchObject({
      taskId: id,
      state: "TASK_KILLED",
      attempt: 2,
      delayMs: 1000,
      msg: "recovering hello-0:[server]: attempt 2 (transient): task hello-0-server was killed: health check failed 3 times in a row; relaunching in 1 s",
    });
  });
});

describe("GetPlan recovery over gRPC", () => {
  it("shows the same phase per pod and step per pod instance, with the step's message", async () => {
    const h = await createHarness();
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    let id = live(h, "hello-0-server");
    h.cluster.failTask(id, "TASK_FAILED", "command exited with status 1");
    id = await relaunched(h, "hello-0-server", id);
    h.cluster.failTask(id, "TASK_FAILED", "command exited with status 1");
    await h.advance(100);
    await recovered(h, "simple");

    const server = new AdminServer({ api: h.scheduler, logger: pino({ level: "silent" }) });
    const { port } = await server.listen("127.0.0.1:0");
    const admin = createAdminClient({ address: `127.0.0.1:${port}`, defaultDeadlineMs: 5000 });
    try {
      const { plan } = await admin.getPlan({ name: "simple", plan: "recovery" });
      expect(plan).toMatchObject({ name: "recovery", status: Status.COMPLETE, strategy: Strategy.PARALLEL });
      expect(plan?.phases.map((p) => [p.name, p.steps.map((s) => s.name)])).toEqual([["hello", ["hello-0:[server]"]]]);
      expect(plan?.phases[0]?.steps[0]).toMatchObject({
        status: Status.COMPLETE,
        message: "attempt 2 (transient): task hello-0-server failed: command exited with status 1; recovered",
      });
    } finally {
      admin.close();
      await server.stop(3000);
    }
  });
});

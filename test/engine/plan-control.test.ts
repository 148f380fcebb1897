import { describe, expect, it } from "vitest";
import type { TaskInfo } from "../../src/domain/cluster.js";
import type { PlanAction, PlanControlInput, PlanView } from "../../src/engine/admin-api.js";
import { decodeJson } from "../../src/engine/store/codec.js";
import * as layout from "../../src/engine/store/layout.js";
import type { Harness } from "../harness/harness.js";
import { readFileSync } from "node:fs";
import { createHarness } from "../harness/harness.js";

const CANARY = readFileSync(new URL("../../examples/canary.yml", import.meta.url), "utf8");


const BACKUP = `name: {{SERVICE_NAME}}
pods:
  hello:
    count: 2
    allow-decommission: true
    tasks:
      server: {goal: RUNNING, cmd: sleep 1000, cpus: 0.1, memory: 32}
  backup:
    count: 1
    tasks:
      run: {goal: FINISH, cmd: ./backup.sh, cpus: 0.1, memory: 32, env: {BUCKET: default, KEEP: "yes"}}
plans:
  deploy:
    strategy: serial
    phases:
      hello-deploy: {pod: hello, strategy: serial}
  backup:
    strategy: serial
    phases:
      backup-phase: {pod: backup}
`;

async function put(h: Harness, name: string, spec: string): Promise<void> {
  await h.scheduler.putService({ name, spec, parameters: {} });
  await h.settle();
}

function control(h: Harness, name: string, plan: string, action: PlanAction, more: Partial<PlanControlInput> = {}): ReturnType<NonNullable<Harness["scheduler"]["controlPlan"]>> {
  return h.scheduler.controlPlan({ name, plan, action, phase: "", step: "", parameters: {}, ...more });
}

/** Names and statuses of a plan, its phases and steps (ids are new on every build). */
function shape(view: PlanView): unknown {
  return { status: view.status, phases: view.phases.map((ph) => ({ [ph.name]: ph.status, steps: ph.steps.map((s) => `${s.name} ${s.status}`) })) };
}

function steps(h: Harness, name: string, plan = "deploy"): string[] {
  return h.scheduler.getPlan(name, plan).phases.flatMap((ph) => ph.steps.map((s) => s.status));
}

function running(h: Harness, prefix: string): string[] {
  return h.cluster.tasks().filter((t) => t.taskId.startsWith(prefix)).map((t) => t.name).sort();
}

async function restart(h: Harness): Promise<Harness> {
  await h.scheduler.stop();
  const next = await createHarness({ cluster: h.cluster, clock: h.clock, persister: h.persister });
  await next.advance(10_000);
  return next;
}

async function storedInfo(h: Harness, service: string, task: string): Promise<TaskInfo> {
  const got = await h.persister.get(layout.taskInfoPath(service, task));
  return decodeJson<TaskInfo>(got!.data);
}

describe("canary deploy", () => {
  const WAITING_ALL = ["WAITING", "WAITING", "PENDING", "PENDING"];

  it("each phase waits for continue twice, then its wrapped strategy runs the rest", async () => {
    const h = await createHarness();
    await put(h, "hello", CANARY);
    await h.advance(10_000);
    expect(steps(h, "hello")).toEqual([...WAITING_ALL, ...WAITING_ALL]);
    expect(h.scheduler.getPlan("hello", "deploy").status).toBe("WAITING");
    expect(running(h, "hello__")).toEqual([]);

    const first = await control(h, "hello", "deploy", "CONTINUE");
    expect(first.changed).toBe(true);
    await h.advance(10_000);
    expect(running(h, "hello__")).toEqual(["hello-0-server"]);
    expect(steps(h, "hello")).toEqual(["COMPLETE", "WAITING", "PENDING", "PENDING", ...WAITING_ALL]);
    expect(h.scheduler.getPlan("hello", "deploy").phases.map((ph) => ph.status)).toEqual(["WAITING", "WAITING"]);
    expect(h.scheduler.getPlan("hello", "deploy").status).toBe("WAITING");

    // The second continue (here on the phase) hands over to parallel: hello-1..3 at once.
    await control(h, "hello", "deploy", "CONTINUE", { phase: "hello-deploy" });
    await h.advance(10_000);
    expect(running(h, "hello__")).toEqual(["hello-0-server", "hello-1-server", "hello-2-server", "hello-3-server"]);
    expect(steps(h, "hello").slice(4)).toEqual(WAITING_ALL);

    await control(h, "hello", "deploy", "CONTINUE");
    await h.advance(10_000);
    expect(running(h, "hello__").filter((n) => n.startsWith("world"))).toEqual(["world-0-server"]);
    await control(h, "hello", "deploy", "CONTINUE");
    await h.deployAll(["hello"]);
    expect(running(h, "hello__")).toHaveLength(8);
    // Nothing left to release.
    expect((await control(h, "hello", "deploy", "CONTINUE")).changed).toBe(false);
  });

  it("survives a scheduler restart while it waits for the second continue", async () => {
    const h = await createHarness();
    await put(h, "hello", CANARY);
    await control(h, "hello", "deploy", "CONTINUE");
    await h.advance(10_000);
    const before = shape(h.scheduler.getPlan("hello", "deploy"));

    const second = await restart(h);
    expect(shape(second.scheduler.getPlan("hello", "deploy"))).toEqual(before);
    expect(steps(second, "hello")).toEqual(["COMPLETE", "WAITING", "PENDING", "PENDING", ...WAITING_ALL]);
    await second.advance(30_000);
    expect(running(second, "hello__")).toEqual(["hello-0-server"]);

    for (let i = 0; i < 3; i++) {
      await control(second, "hello", "deploy", "CONTINUE");
      await second.advance(10_000);
    }
    await second.deployAll(["hello"]);
    expect(running(second, "hello__")).toHaveLength(8);
  });
});

describe("stop and start", () => {
  it("a stopped deploy survives a restart; start relaunches its pods", async () => {
    const h = await createHarness();
    await h.put("hello", "simple.yml");
    await h.deployAll(["hello"]);
    const [task] = h.cluster.tasks();

    const stopped = await control(h, "hello", "deploy", "STOP");
    expect(stopped.changed).toBe(true);
    expect(stopped.plan.status).toBe("WAITING");
    expect((await control(h, "hello", "deploy", "STOP")).changed).toBe(false);
    await h.advance(10_000);
    // Stopping leaves the tasks running.
    expect(h.cluster.tasks().map((t) => t.taskId)).toEqual([task!.taskId]);

    const second = await restart(h);
    expect(second.scheduler.getPlan("hello", "deploy").status).toBe("WAITING");
    expect(steps(second, "hello")).toEqual(["PENDING"]);
    expect(second.scheduler.getService("hello").state).toBe("DEPLOYING");
    await second.advance(30_000);
    expect(second.cluster.tasks().map((t) => t.taskId)).toEqual([task!.taskId]);

    expect((await control(second, "hello", "deploy", "START")).changed).toBe(true);
    await second.deployAll(["hello"]);
    const [relaunched] = second.cluster.tasks();
    expect(relaunched!.name).toBe(task!.name);
    expect(relaunched!.taskId).not.toBe(task!.taskId);
    // Relaunched in place, on the same reservations.
    expect(relaunched!.agentId).toBe(task!.agentId);
  });

  it("restarting a step kills its running task and relaunches it; restarting a PENDING step changes nothing", async () => {
    const h = await createHarness();
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    const world0 = h.cluster.tasks().find((t) => t.name === "world-0-server")!;
    const others = h.cluster.tasks().filter((t) => t.name !== "world-0-server").map((t) => t.taskId);

    const restarted = await control(h, "hello", "deploy", "RESTART", { phase: "world", step: "world-0:[server]" });
    expect(restarted.changed).toBe(true);
    expect(restarted.plan.phases[1]!.steps[0]!.status).toBe("PENDING");
    await h.deployAll(["hello"]);
    const now = h.cluster.tasks().find((t) => t.name === "world-0-server")!;
    expect(now.taskId).not.toBe(world0.taskId);
    expect(h.cluster.tasks().filter((t) => t.name !== "world-0-server").map((t) => t.taskId)).toEqual(others);

    await control(h, "hello", "deploy", "INTERRUPT");
    await control(h, "hello", "deploy", "RESTART", { phase: "world", step: "world-1:[server]" });
    expect((await control(h, "hello", "deploy", "RESTART", { phase: "world", step: "world-1:[server]" })).changed).toBe(false);
  });
});

describe("manual plans", () => {
  it("start interrupted; started with parameters, their steps launch tasks with that environment, and run again", async () => {
    const h = await createHarness();
    await put(h, "svc", BACKUP);
    await h.deployAll(["svc"]);
    await h.advance(10_000);
    expect(h.scheduler.getPlan("svc", "backup").status).toBe("WAITING");
    expect(await h.persister.get(layout.taskInfoPath("svc", "backup-0-run"))).toBeUndefined();

    const started = await control(h, "svc", "backup", "START", { parameters: { BUCKET: "b1", DATE: "2026-12-04" } });
    expect(started.changed).toBe(true);
    await h.advance(10_000);
    expect(h.scheduler.getPlan("svc", "backup").status).toBe("COMPLETE");
    const run1 = await storedInfo(h, "svc", "backup-0-run");
    expect(run1.command.environment).toMatchObject({ BUCKET: "b1", DATE: "2026-12-04", KEEP: "yes", TASK_NAME: "backup-0-run" });
    // The deploy plan's tasks get no parameters.
    expect((await storedInfo(h, "svc", "hello-0-server")).command.environment).not.toHaveProperty("BUCKET");

    // A complete manual plan started again runs its FINISH task again.
    expect((await control(h, "svc", "backup", "START", { parameters: { BUCKET: "b2" } })).changed).toBe(true);
    await h.advance(10_000);
    const run2 = await storedInfo(h, "svc", "backup-0-run");
    expect(run2.taskId).not.toBe(run1.taskId);
    expect(run2.command.environment).toMatchObject({ BUCKET: "b2", KEEP: "yes" });
    expect(run2.command.environment).not.toHaveProperty("DATE");
    expect(h.scheduler.getPlan("svc", "backup").status).toBe("COMPLETE");
  });

  it("ListPlans lists deploy, the custom plans, recovery and decommission", async () => {
    const h = await createHarness();
    await put(h, "svc", BACKUP);
    await h.deployAll(["svc"]);
    expect(h.scheduler.listPlans("svc").map((p) => p.name)).toEqual(["deploy", "backup", "recovery"]);
    await h.scheduler.putService({ name: "svc", spec: BACKUP.replace("count: 2", "count: 1"), parameters: {} });
    await h.settle();
    expect(h.scheduler.listPlans("svc").map((p) => p.name)).toEqual(["deploy", "backup", "recovery", "decommission"]);
  });
});

describe("every override survives a restart", () => {
  it("interrupted phase and step, force-completed and restarted steps, a started plan and its parameters", async () => {
    const h = await createHarness();
    await put(h, "svc", BACKUP);
    await put(h, "hello", CANARY);
    await h.deployAll(["svc"]);
    await control(h, "svc", "deploy", "RESTART", { phase: "hello-deploy", step: "hello-1:[server]" });
    await control(h, "svc", "deploy", "INTERRUPT", { phase: "hello-deploy" });
    await control(h, "svc", "backup", "INTERRUPT", { phase: "backup-phase", step: "backup-0:[run]" });
    await control(h, "svc", "backup", "START", { parameters: { BUCKET: "b9" } });
    await control(h, "hello", "deploy", "FORCE_COMPLETE", { phase: "hello-deploy", step: "hello-0:[server]" });
    await control(h, "hello", "deploy", "INTERRUPT", { phase: "hello-deploy", step: "hello-3:[server]" });
    await h.advance(10_000);
    const views = (g: Harness): unknown[] => ["svc", "hello"].flatMap((n) => g.scheduler.listPlans(n).map(shape));
    const before = views(h);
    expect(steps(h, "svc")).toEqual(["COMPLETE", "PENDING"]);
    expect(steps(h, "svc", "backup")).toEqual(["WAITING"]);
    expect(steps(h, "hello")).toEqual(["COMPLETE", "WAITING", "PENDING", "WAITING", ...["WAITING", "WAITING", "PENDING", "PENDING"]]);

    const second = await restart(h);
    expect(views(second)).toEqual(before);
    // The started plan's parameters came back with it.
    await control(second, "svc", "backup", "CONTINUE", { phase: "backup-phase", step: "backup-0:[run]" });
    await second.advance(10_000);
    expect((await storedInfo(second, "svc", "backup-0-run")).command.environment).toMatchObject({ BUCKET: "b9" });
  });

  it("drops them when a new config becomes the target", async () => {
    const h = await createHarness();
    await h.put("hello", "simple.yml");
    await h.deployAll(["hello"]);
    await control(h, "hello", "deploy", "STOP");
    await h.scheduler.putService({ name: "hello", spec: (await import("../harness/harness.js")).example("simple.yml").replace("cpus: 0.1", "cpus: 0.2"), parameters: {} });
    await h.deployAll(["hello"]);
    const second = await restart(h);
    expect(second.scheduler.getPlan("hello", "deploy").status).toBe("COMPLETE");
  });
});

describe("refused controls", () => {
  it.each([
    { name: "unknown plan", input: { plan: "nope" }, code: "not_found", message: /no plan 'nope'/ },
    { name: "unknown phase", input: { phase: "nope" }, code: "not_found", message: /no phase 'nope'/ },
    { name: "unknown step", input: { phase: "hello", step: "nope" }, code: "not_found", message: /no step 'nope'/ },
    { name: "step without phase", input: { step: "hello-0:[server]" }, code: "invalid_argument", message: /step: Missing phase/ },
    { name: "START of a phase", input: { action: "START", phase: "hello" }, code: "invalid_argument", message: /phase: START acts on a whole plan/ },
    { name: "bad parameter key", input: { action: "START", parameters: { "1BAD": "x" } }, code: "invalid_argument", message: /parameters\.1BAD/ },
    { name: "parameters on CONTINUE", input: { parameters: { A: "x" } }, code: "invalid_argument", message: /only START takes parameters/ },
  ] as const)("$name → $code", async ({ input, code, message }) => {
    const h = await createHarness();
    await h.put("hello", "simple.yml");
    const call = control(h, "hello", "deploy", "CONTINUE", input as Partial<PlanControlInput>);
    await expect(call).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it("finds phases and steps by id as well as by name", async () => {
    const h = await createHarness();
    await h.put("hello", "simple.yml");
    const view = h.scheduler.getPlan("hello", "deploy");
    const phase = view.phases[0]!;
    const out = await control(h, "hello", "deploy", "INTERRUPT", { phase: phase.id, step: phase.steps[0]!.id });
    expect(out.changed).toBe(true);
  });
});

/**
 * The deployment limit (`--max-parallel-deploys`, dcos-commons §1.4, §7.2 hazard 9) on the
 * simulated cluster: admission in arrival order, slots released by a deploy that waits for an
 * operator or is in ERROR, the admitted set stored and honoured after a restart.
 */
import { describe, expect, it } from "vitest";
import { decodeText, encodeText } from "../../src/engine/store/codec.js";
import { SELECTED_SERVICES } from "../../src/engine/store/layout.js";
import type { Plan } from "../../src/domain/plan/model.js";
import type { PlanAction } from "../../src/engine/admin-api.js";
import type { Persister } from "../../src/engine/ports.js";
import type { Harness, HarnessOptions } from "../harness/harness.js";
import { createHarness, example } from "../harness/harness.js";

/** Each task transition takes a second, so a deploy spans several cycles. */
const SLOW = { statusDelayMs: 1000 };

/** hello-world whose world phase is a canary: its first two steps wait for `continue`. */
const CANARY = `${example("hello-world.yml")}
plans:
  deploy:
    strategy: serial
    phases:
      hello:
        strategy: serial
        pod: hello
      world:
        strategy: canary
        pod: world
`;

async function limited(limit: number, options: HarnessOptions = {}): Promise<Harness> {
  return createHarness({ agents: 5, ...options, sim: options.sim ?? SLOW, scheduler: { maxParallelDeploys: limit, ...options.scheduler } });
}

/** Puts every service at once (in this order), as concurrent PutService calls. */
async function putAll(h: Harness, names: readonly string[], spec = example("hello-world.yml")): Promise<void> {
  await Promise.all(names.map((name) => h.scheduler.putService({ name, spec, parameters: {} })));
  await h.settle();
}

function launched(h: Harness, name: string): boolean {
  return h.scheduler.getPlan(name, "deploy").phases.some((p) => p.steps.some((s) => s.taskIds.length > 0));
}

/** Deploying: some task launched, deploy not COMPLETE. */
function deploying(h: Harness, names: readonly string[]): string[] {
  return names.filter((n) => launched(h, n) && h.deployStatus(n) !== "COMPLETE");
}

/**
 * Advances in half seconds until `done` names are COMPLETE; returns the order in which the
 * services started deploying and completed, and the most that deployed at once.
 */
async function watch(h: Harness, names: readonly string[], done: readonly string[] = names, maxSteps = 400) {
  const started: string[] = [];
  const completed: string[] = [];
  let most = 0;
  for (let i = 0; i < maxSteps && !done.every((n) => completed.includes(n)); i++) {
    for (const n of names) {
      if (!started.includes(n) && launched(h, n)) started.push(n);
      if (!completed.includes(n) && h.deployStatus(n) === "COMPLETE") completed.push(n);
    }
    most = Math.max(most, deploying(h, names).length);
    await h.advance(500);
  }
  return { started, completed, most };
}

function messages(h: Harness, name: string): string[] {
  return h.scheduler.getPlan(name, "deploy").phases.flatMap((p) => p.steps.map((s) => s.message));
}

async function stored(persister: Persister): Promise<string | undefined> {
  const v = await persister.get(SELECTED_SERVICES);
  return v && decodeText(v.data);
}

function control(h: Harness, name: string, action: PlanAction): Promise<unknown> {
  return h.scheduler.controlPlan({ name, plan: "deploy", action, phase: "", step: "", parameters: {} }).then(() => h.settle());
}

/** The service's live deploy plan, changed in place, and the service told to decide again. */
function changeDeploy(h: Harness, name: string, change: (plan: Plan) => void): void {
  const svc = h.scheduler.manager.get(name)!;
  change(svc.allPlans().find((p) => p.name === "deploy")!);
  // A refused ACCEPT of no offer changes nothing but makes the service decide again.
  svc.acceptRefused("none", "");
}

describe("deployment limit", () => {
  it("with limit 1 deploys services one after another, in the order they were put, and says why the others wait", async () => {
    const h = await limited(1);
    const names = ["c", "a", "b"];
    await putAll(h, names);
    await h.advance(500);
    expect(deploying(h, names)).toEqual(["c"]);
    expect(messages(h, "a")[0]).toBe("waiting for a deploy slot: 1 of 1 held by c");
    expect(launched(h, "b")).toBe(false);
    const run = await watch(h, names);
    expect(run.most).toBe(1);
    expect(run.started).toEqual(["c", "a", "b"]);
    expect(run.completed).toEqual(["c", "a", "b"]);
    // Nobody holds a slot once everything is deployed.
    expect(await stored(h.persister)).toBe("");
  });

  it("with limit 2 deploys two at a time; the third is admitted when a slot frees", async () => {
    const h = await limited(2);
    const names = ["a", "b", "c", "d"];
    await putAll(h, names);
    await h.advance(500);
    expect(deploying(h, names)).toEqual(["a", "b"]);
    expect(await stored(h.persister)).toBe("a__b");
    expect(messages(h, "c")[0]).toBe("waiting for a deploy slot: 2 of 2 held by a, b");
    const run = await watch(h, names);
    expect(run.most).toBe(2);
    expect(run.started.slice(0, 2).sort()).toEqual(["a", "b"]);
    expect(run.started.slice(2)).toEqual(["c", "d"]);
  });

  it("admits a service put later after those already waiting", async () => {
    const h = await limited(1);
    await putAll(h, ["a", "b"]);
    await h.advance(500);
    await putAll(h, ["0-late"]);
    const run = await watch(h, ["a", "b", "0-late"]);
    expect(run.most).toBe(1);
    expect(run.started).toEqual(["a", "b", "0-late"]);
  });

  it.each<{ name: string; act: (h: Harness) => Promise<unknown> }>([
    { name: "is interrupted", act: (h) => control(h, "a", "INTERRUPT") },
    { name: "is stopped", act: (h) => control(h, "a", "STOP") },
    // No operator action makes a deploy ERROR; a plan with errors does (invalid steps).
    { name: "is in ERROR", act: async (h) => changeDeploy(h, "a", (plan) => void plan.errors.push("invalid plan")) },
  ])("a service whose deploy $name releases its slot to the next", async ({ act }) => {
    const h = await limited(1);
    await putAll(h, ["a", "b"]);
    await h.advance(1500);
    expect(deploying(h, ["a", "b"])).toEqual(["a"]);
    await act(h);
    // Its launched step finishes; then nothing of it is acquiring.
    const run = await watch(h, ["a", "b"], ["b"]);
    expect(run.completed).toEqual(["b"]);
    expect(h.deployStatus("a")).not.toBe("COMPLETE");
    expect(await stored(h.persister)).toBe("");
  });

  it("a service whose canary phase waits for continue releases its slot, and queues again once continued", async () => {
    const h = await limited(1);
    await putAll(h, ["a"], CANARY);
    await putAll(h, ["b", "c"]);
    const run = await watch(h, ["a", "b", "c"], ["b"]);
    expect(run.started.slice(0, 2)).toEqual(["a", "b"]);
    expect(run.completed).toEqual(["b"]);
    // a deployed its hello phase, then the canary's first world step waits for the operator.
    const world = h.scheduler.getPlan("a", "deploy").phases[1]!;
    expect([world.status, world.steps[0]!.status]).toEqual(["WAITING", "WAITING"]);
    await control(h, "a", "CONTINUE");
    // c was in line first: a goes on after it.
    expect((await watch(h, ["a", "c"], ["c"])).completed).toEqual(["c"]);
    for (let i = 0; i < 100 && h.scheduler.getPlan("a", "deploy").phases[1]!.steps[1]!.status !== "WAITING"; i++) await h.advance(500);
    await control(h, "a", "CONTINUE");
    expect((await watch(h, ["a"])).completed).toEqual(["a"]);
  });

  it("with limit 1, five services put at once deploy one after another, and a stopped one does not block the rest", async () => {
    const h = await limited(1);
    const names = ["s1", "s2", "s3", "s4", "s5"];
    await putAll(h, names);
    await h.advance(500);
    expect(deploying(h, names)).toEqual(["s1"]);
    // The operator stops s2's deploy as soon as it is admitted.
    for (let i = 0; i < 100 && !launched(h, "s2"); i++) await h.advance(500);
    await control(h, "s2", "STOP");
    const rest = ["s1", "s3", "s4", "s5"];
    const run = await watch(h, rest);
    expect(run.most).toBe(1);
    expect(run.completed).toEqual(rest);
    expect(h.deployStatus("s2")).not.toBe("COMPLETE");
    // Started again, it deploys.
    await control(h, "s2", "START");
    expect((await watch(h, ["s2"])).completed).toEqual(["s2"]);
  });

  it("a pod replaced while another service holds the slot waits for it, and says so", async () => {
    const h = await limited(1);
    await putAll(h, ["a"], example("simple.yml"));
    await watch(h, ["a"]);
    const before = h.cluster.tasks().find((t) => t.taskId.startsWith("a__"))!;
    await putAll(h, ["b"]);
    await h.advance(500);
    expect(deploying(h, ["b"])).toEqual(["b"]);
    await h.scheduler.controlPod({ name: "a", pod: "hello-0", action: "REPLACE" });
    await h.advance(3000);
    const recovery = () => h.scheduler.getPlan("a", "recovery").phases.flatMap((p) => p.steps);
    expect(recovery().map((s) => s.message)).toEqual([expect.stringContaining("waiting for a deploy slot: 1 of 1 held by b")]);
    expect(h.cluster.tasks().some((t) => t.taskId.startsWith("a__"))).toBe(false);
    await watch(h, ["b"]);
    for (let i = 0; i < 100 && recovery()[0]!.status !== "COMPLETE"; i++) await h.advance(500);
    const after = h.cluster.tasks().find((t) => t.taskId.startsWith("a__"))!;
    expect(after.taskId).not.toBe(before.taskId);
    expect(await stored(h.persister)).toBe("");
  });

  it("frees the slot of a removed service", async () => {
    const h = await limited(1);
    await putAll(h, ["a", "b"]);
    await h.advance(500);
    expect(deploying(h, ["a", "b"])).toEqual(["a"]);
    await h.scheduler.uninstallService("a");
    const run = await watch(h, ["b"]);
    expect(run.completed).toEqual(["b"]);
  });

  it("lowering the limit evicts no holder; the freed slots are given once fewer than the limit hold one", async () => {
    const first = await limited(2);
    await putAll(first, ["a", "b", "c"]);
    await first.advance(500);
    expect(deploying(first, ["a", "b", "c"])).toEqual(["a", "b"]);
    await first.scheduler.stop();
    const second = await limited(1, { cluster: first.cluster, clock: first.clock, persister: first.persister });
    for (let i = 0; i < 400 && !launched(second, "c"); i++) {
      expect(deploying(second, ["c"])).toEqual([]);
      await second.advance(500);
    }
    expect(["a", "b"].map((n) => second.deployStatus(n))).toEqual(["COMPLETE", "COMPLETE"]);
    expect((await watch(second, ["c"])).completed).toEqual(["c"]);
  });

  it("a restarted scheduler honours the stored slot, and a waiting service goes on in its own reservations (testSingleSlotStartsOccupied)", async () => {
    const first = await limited(1);
    await putAll(first, ["a", "b", "c"]);
    await first.advance(500);
    expect(deploying(first, ["a", "b", "c"])).toEqual(["a"]);
    await first.scheduler.stop();
    // As if c had held the slot when the scheduler stopped.
    await first.persister.multi([{ kind: "set", path: SELECTED_SERVICES, data: encodeText("c") }]);
    const second = await limited(1, { cluster: first.cluster, clock: first.clock, persister: first.persister });
    await second.advance(3000);
    // a's launched step finished on what it had reserved; its next one waits.
    expect(second.scheduler.getPlan("a", "deploy").phases[0]!.steps[0]!.status).toBe("COMPLETE");
    expect(messages(second, "a")[1]).toBe("waiting for a deploy slot: 1 of 1 held by c");
    expect(deploying(second, ["b", "c"])).toEqual(["c"]);
    // Without a slot, a's recovery still relaunches its failed task in place.
    const before = second.cluster.tasks().find((t) => t.taskId.startsWith("a__"))!;
    second.cluster.failTask(before.taskId);
    await second.advance(3000);
    const after = second.cluster.tasks().find((t) => t.taskId.startsWith("a__"))!;
    expect(after.taskId).not.toBe(before.taskId);
    expect(after.agentId).toBe(before.agentId);
    expect(await stored(second.persister)).toBe("c");
    const run = await watch(second, ["a", "b", "c"]);
    expect(run.most).toBe(2);
    expect(run.completed).toEqual(["c", "a", "b"]);
  });

  it("prunes stored slots of unknown services (testSingleSlotUnknownStored)", async () => {
    const first = await limited(1);
    await putAll(first, ["a", "b"]);
    await first.scheduler.stop();
    await first.persister.multi([{ kind: "set", path: SELECTED_SERVICES, data: encodeText("gone__b") }]);
    const second = await limited(1, { cluster: first.cluster, clock: first.clock, persister: first.persister });
    await second.advance(500);
    expect(await stored(first.persister)).toBe("b");
    expect((await watch(second, ["a", "b"])).completed).toEqual(["b", "a"]);
  });
});

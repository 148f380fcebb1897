/**
 * The decision core of a running service, as scenarios: a state and offers in, decisions out.
 */
import { describe, expect, it } from "vitest";
import type { Resource } from "../cluster.js";
import { LABEL_RESOURCE_ID, LABEL_TARGET_CONFIG } from "../cluster.js";
import { ids, launched, offer, operationTypes, record, serviceState, spec, steps } from "../../../test/fixtures/service-state.js";
import { decideService } from "./decide.js";
import type { StoredTask } from "./task-record.js";
import { LABEL_PERMANENTLY_FAILED } from "./task-record.js";

const HELLO_WORLD = spec(`
name: hw
pods:
  hello:
    count: 1
    tasks:
      server: { goal: RUNNING, cmd: hello, cpus: 0.1, memory: 256, volume: { path: data, type: ROOT, size: 25 } }
  world:
    count: 2
    allow-decommission: true
    tasks:
      server: { goal: RUNNING, cmd: world, cpus: 0.2, memory: 512 }
`);

/** hello-world deployed on cfg-1: each task's record RUNNING, hello on a1, world on a2 and a3. */
function deployedRecords(): Map<string, StoredTask> {
  const d = decideService(serviceState(HELLO_WORLD), [offer("o1", "a1")], 0, ids("n"));
  const hello = launched(d).get("hello-0-server")!;
  const out = new Map<string, StoredTask>([["hello-0-server", record(hello, "TASK_RUNNING")]]);
  for (const [i, agent] of ["a2", "a3"].entries()) {
    const tasks = new Map(out);
    const next = decideService(serviceState(HELLO_WORLD, { tasks }), [offer(`o${i + 2}`, agent)], 0, ids(`w${i}`));
    const info = launched(next).get(`world-${i}-server`)!;
    out.set(info.name, record(info, "TASK_RUNNING"));
  }
  return out;
}

/** An offer of `agent` showing back the reservations the records hold there. */
function offerBack(id: string, agent: string, tasks: Iterable<StoredTask>, amounts: { cpus?: number } = {}): ReturnType<typeof offer> {
  const held: Resource[] = [...tasks].filter((t) => t.info.agentId === agent).flatMap((t) => t.info.resources);
  return offer(id, agent, amounts, held);
}

function resourceIds(resources: readonly Resource[]): string[] {
  return resources.map((r) => r.reservations?.at(-1)?.labels[LABEL_RESOURCE_ID] ?? "").sort();
}

describe("deploy", () => {
  it("launches the first step of the serial deploy plan on the first offer it fits: RESERVE, CREATE the volume, LAUNCH_GROUP", () => {
    const state = serviceState(HELLO_WORLD);
    const d = decideService(state, [offer("small", "a1", { cpus: 0.05 }), offer("big", "a2")], 0, ids());
    expect(d.launches.map((l) => l.offerId)).toEqual(["big"]);
    expect(operationTypes(d)).toEqual([["RESERVE", "CREATE", "LAUNCH_GROUP"]]);
    const info = launched(d).get("hello-0-server")!;
    expect(info.labels[LABEL_TARGET_CONFIG]).toBe("cfg-1");
    expect(info.agentId).toBe("a2");
    expect(d.launches[0]!.stepId).toBe(state.plans.deploy.phases[0]!.steps[0]!.id);
    expect(d.unplaced).toEqual([]);
    expect(d.work).toMatchObject({ working: true, footprint: true });
  });

  it("a step no offer fits says why and waits, PREPARED", () => {
    const d = decideService(serviceState(HELLO_WORLD), [offer("small", "a1", { cpus: 0.05 })], 0, ids());
    expect(d.launches).toEqual([]);
    expect(d.unplaced.map((u) => u.reason)).toEqual(["insufficient cpus: need 0.1, offered 0.05"]);
    expect(steps(d.plans.deploy)[0]).toEqual(["hello-0:[server]", "PREPARED", "insufficient cpus: need 0.1, offered 0.05"]);
  });

  it("without offers the candidates wait for offers; a status round names them and touches no step", () => {
    const state = serviceState(HELLO_WORLD);
    expect(decideService(state, [], 0, ids()).unplaced.map((u) => u.reason)).toEqual(["waiting for offers"]);
    const round = decideService(state, undefined, 0, ids());
    expect(round.work.candidates).toEqual([state.plans.deploy.phases[0]!.steps[0]!.id]);
    expect(steps(round.plans.deploy)[0]).toEqual(["hello-0:[server]", "PENDING", ""]);
  });

  it("launches nothing while reconciliation is unfinished", () => {
    const d = decideService(serviceState(HELLO_WORLD, { unreconciled: new Set(["x"]) }), [offer("o1", "a1")], 0, ids());
    expect(d.launches).toEqual([]);
    expect(d.unplaced).toEqual([]);
  });

  it("changes nothing it is given: the plans come back as a copy", () => {
    const state = serviceState(HELLO_WORLD);
    const before = JSON.stringify(steps(state.plans.deploy));
    const d = decideService(state, [offer("small", "a1", { cpus: 0.05 })], 0, ids());
    expect(JSON.stringify(steps(state.plans.deploy))).toBe(before);
    expect(d.plans.deploy).not.toBe(state.plans.deploy);
  });

  it("resumes from the records: steps whose tasks run the target config are COMPLETE, the service is idle", () => {
    const tasks = deployedRecords();
    const d = decideService(serviceState(HELLO_WORLD, { tasks }), undefined, 0, ids());
    expect(steps(d.plans.deploy).map(([n, s]) => [n, s])).toEqual([
      ["hello-0:[server]", "COMPLETE"],
      ["world-0:[server]", "COMPLETE"],
      ["world-1:[server]", "COMPLETE"],
    ]);
    expect(d.work).toEqual({ working: false, footprint: false, candidates: [] });
  });
});

describe("recovery", () => {
  /** Deployed, then hello-0-server failed: the deploy plan is COMPLETE, the record says TASK_FAILED. */
  function failed(): { tasks: Map<string, StoredTask>; plans: ReturnType<typeof serviceState>["plans"]; hello: StoredTask } {
    const tasks = deployedRecords();
    const { plans } = serviceState(HELLO_WORLD, { tasks: new Map(tasks) });
    const hello = tasks.get("hello-0-server")!;
    tasks.set(hello.info.name, record(hello.info, "TASK_FAILED"));
    return { tasks, plans, hello };
  }

  it("a dead task is relaunched in place by its pod instance's recovery step: same reservations, nothing reserved", () => {
    const { tasks, plans, hello } = failed();
    const d = decideService(serviceState(HELLO_WORLD, { tasks, plans }), [offerBack("o1", "a1", tasks.values())], 0, ids());
    expect(d.recoveries.map((r) => [r.stepName, r.attempt])).toEqual([["hello-0:[server]", 1]]);
    expect(operationTypes(d)).toEqual([["LAUNCH_GROUP"]]);
    const info = launched(d).get("hello-0-server")!;
    expect(info.taskId).not.toBe(hello.info.taskId);
    expect(resourceIds(info.resources)).toEqual(resourceIds(hello.info.resources));
    expect(d.launches[0]!.inPlace).toEqual(["hello-0-server"]);
  });

  it("a permanently failed pod is recovered at once on new reservations, whatever its back-off; the service wants footprint meanwhile", () => {
    const { tasks, plans, hello } = failed();
    const marked = { ...hello.info, labels: { ...hello.info.labels, [LABEL_PERMANENTLY_FAILED]: "true" } };
    tasks.set(hello.info.name, { ...tasks.get(hello.info.name)!, info: marked });
    const backoff = { counts: new Map([["hello-0", { failures: 5 }]]), heldUntilMs: new Map<string, number>() };
    const state = serviceState(HELLO_WORLD, { tasks, plans, backoff });
    expect(decideService(state, undefined, 0, ids()).work).toMatchObject({ working: true, footprint: true });
    const d = decideService(state, [offerBack("o1", "a1", tasks.values())], 0, ids());
    expect(d.recoveries.map((r) => [r.stepName, r.permanent, r.delayMs])).toEqual([["hello-0:[server]", true, 0]]);
    expect(operationTypes(d)).toEqual([["RESERVE", "CREATE", "LAUNCH_GROUP"]]);
    const info = launched(d).get("hello-0-server")!;
    expect(resourceIds(info.resources).filter((id) => resourceIds(hello.info.resources).includes(id))).toEqual([]);
    expect(d.launches[0]!.inPlace).toEqual([]);
    expect(info.labels[LABEL_PERMANENTLY_FAILED]).toBeUndefined();
  });

  it("a replaced pod moves: the agent it leaves is tried only after every other", () => {
    const { tasks, plans, hello } = failed();
    const marked = { ...hello.info, labels: { ...hello.info.labels, [LABEL_PERMANENTLY_FAILED]: "true" } };
    tasks.set(hello.info.name, { ...tasks.get(hello.info.name)!, info: marked });
    const state = serviceState(HELLO_WORLD, { tasks, plans });
    const elsewhere = decideService(state, [offerBack("o1", "a1", tasks.values()), offer("o9", "a9")], 0, ids());
    expect(launched(elsewhere).get("hello-0-server")!.agentId).toBe("a9");
    // Alone, the agent it leaves still takes it (on new reservations).
    const alone = decideService(state, [offerBack("o1", "a1", tasks.values())], 0, ids());
    expect(launched(alone).get("hello-0-server")!.agentId).toBe("a1");
  });

  it("a pod failing again and again waits out its back-off DELAYED, then relaunches", () => {
    const { tasks, plans } = failed();
    const backoff = { counts: new Map([["hello-0", { failures: 3 }]]), heldUntilMs: new Map<string, number>() };
    const state = serviceState(HELLO_WORLD, { tasks, plans, backoff });
    const held = decideService(state, [offerBack("o1", "a1", tasks.values())], 1000, ids());
    expect(held.launches).toEqual([]);
    expect(steps(held.plans.recovery)).toEqual([["hello-0:[server]", "DELAYED", "attempt 1 (transient): task hello-0-server failed; relaunching in 2 s"]]);
    expect([...held.backoff.heldUntilMs.values()]).toEqual([3000]);
    const later = { ...state, plans: held.plans, backoff: held.backoff };
    expect(decideService(later, [offerBack("o1", "a1", tasks.values())], 2999, ids()).launches).toEqual([]);
    expect(operationTypes(decideService(later, [offerBack("o1", "a1", tasks.values())], 3000, ids()))).toEqual([["LAUNCH_GROUP"]]);
  });
});

describe("reconfiguration", () => {
  /** The records of hello-world deployed on cfg-0, the target now cfg-1 with world's cpus at `cpus`. */
  function reconfigured(cpus: number, state: "TASK_RUNNING" | "TASK_KILLED"): { tasks: Map<string, StoredTask>; next: ReturnType<typeof spec> } {
    const tasks = new Map([...deployedRecords()].map(([n, t]) => [n, record(t.info, n.startsWith("world-0") ? state : "TASK_RUNNING", n.startsWith("world") ? "cfg-0" : "cfg-1")]));
    const next = { ...HELLO_WORLD, pods: HELLO_WORLD.pods.map((p) => (p.type === "world" ? { ...p, resourceSets: p.resourceSets.map((r) => ({ ...r, cpus })) } : p)) };
    return { tasks, next };
  }

  it("a task running the old config is killed before its step relaunches it", () => {
    const { tasks, next } = reconfigured(0.3, "TASK_RUNNING");
    const d = decideService(serviceState(next, { tasks }), [offerBack("o2", "a2", tasks.values())], 0, ids());
    expect(d.kills).toEqual([{ taskId: tasks.get("world-0-server")!.info.taskId, agentId: "a2", reason: "relaunching on the new config" }]);
    expect(d.launches).toEqual([]);
    expect(d.unplaced.map((u) => u.reason)).toEqual(["waiting for world-0-server to stop before relaunching on the new config"]);
    expect(steps(d.plans.deploy).map(([n, s]) => [n, s])).toEqual([
      ["hello-0:[server]", "COMPLETE"],
      ["world-0:[server]", "PREPARED"],
      ["world-1:[server]", "PENDING"],
    ]);
  });

  it("once it is dead, relaunches it in place, growing the reservation by a RESERVE of the difference", () => {
    const { tasks, next } = reconfigured(0.3, "TASK_KILLED");
    const before = tasks.get("world-0-server")!.info;
    const d = decideService(serviceState(next, { tasks }), [offerBack("o2", "a2", tasks.values())], 0, ids());
    expect(operationTypes(d)).toEqual([["RESERVE", "LAUNCH_GROUP"]]);
    const reserve = d.launches[0]!.operations[0]!;
    expect(reserve.type === "RESERVE" && reserve.resources.map((r) => [r.name, r.scalar])).toEqual([["cpus", 0.1]]);
    const info = launched(d).get("world-0-server")!;
    expect(info.resources.find((r) => r.name === "cpus")?.scalar).toBe(0.3);
    expect(resourceIds(info.resources)).toEqual(resourceIds(before.resources));
    expect(info.labels[LABEL_TARGET_CONFIG]).toBe("cfg-1");
  });

  it("shrinks a reservation by an UNRESERVE of the surplus", () => {
    const { tasks, next } = reconfigured(0.05, "TASK_KILLED");
    const d = decideService(serviceState(next, { tasks }), [offerBack("o2", "a2", tasks.values())], 0, ids());
    expect(operationTypes(d)).toEqual([["UNRESERVE", "LAUNCH_GROUP"]]);
    const unreserve = d.launches[0]!.operations[0]!;
    expect(unreserve.type === "UNRESERVE" && unreserve.resources.map((r) => [r.name, r.scalar])).toEqual([["cpus", 0.15]]);
  });

  it("never moves a pod: when the agent cannot grow the reservation, the step says so and waits", () => {
    const { tasks, next } = reconfigured(8, "TASK_KILLED");
    const d = decideService(serviceState(next, { tasks }), [offer("elsewhere", "a9"), offerBack("o2", "a2", tasks.values(), { cpus: 1 })], 0, ids());
    expect(d.launches).toEqual([]);
    expect(d.unplaced.map((u) => u.reason)).toEqual(["insufficient cpus on agent a2 to grow the reservation: need 7.8 more, offered 1"]);
  });
});

describe("decommission", () => {
  const ONE_WORLD = { ...HELLO_WORLD, pods: HELLO_WORLD.pods.map((p) => (p.type === "world" ? { ...p, count: 1 } : p)) };

  it("kills a task the spec no longer has, then releases its reservations and erases its record in one decision", () => {
    const tasks = deployedRecords();
    const world1 = tasks.get("world-1-server")!;
    const state = serviceState(ONE_WORLD, { tasks });
    expect(steps(state.plans.decommission!).map(([n]) => n.replace(/unreserve-.*/, "unreserve"))).toEqual([
      "kill-world-1-server",
      "unreserve",
      "unreserve",
      "erase-world-1-server",
    ]);
    const kill = decideService(state, [], 0, ids());
    expect(kill.kills.map((k) => k.taskId)).toEqual([world1.info.taskId]);
    expect(kill.work.working).toBe(true);

    tasks.set(world1.info.name, record(world1.info, "TASK_KILLED"));
    const dead = { ...serviceState(ONE_WORLD, { tasks }), plans: kill.plans };
    dead.plans.decommission!.phases[0]!.steps[0]!.status = "COMPLETE";
    const release = decideService(dead, [offerBack("o3", "a3", tasks.values())], 0, ids());
    expect(release.releases.map((r) => [r.offerId, r.operations.map((o) => o.type), r.resourceIds.length])).toEqual([["o3", ["UNRESERVE"], 2]]);
    expect(release.erases.map((e) => e.tasks)).toEqual([["world-1-server"]]);
  });
});

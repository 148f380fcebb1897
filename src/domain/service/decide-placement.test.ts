/**
 * Placement in the decision core: a pod with constraints tries only the agents they allow, best
 * first; the step says why each other agent was refused; instances launched earlier in the same
 * decision count; a pod relaunched in place is not checked again.
 */
import { describe, expect, it } from "vitest";
import type { Offer } from "../cluster.js";
import { ids, launched, offer, record, serviceState, spec, steps } from "../../../test/fixtures/service-state.js";
import { decideService } from "./decide.js";
import type { StoredTask } from "./task-record.js";

/** `world` pods deployed in parallel, so one decision may place several. */
function worlds(count: number, placement: string): ReturnType<typeof spec> {
  return spec(`
name: hw
pods:
  world:
    count: ${count}
    placement: '${placement}'
    tasks:
      server: { goal: RUNNING, cmd: world, cpus: 0.2, memory: 512 }
plans:
  deploy:
    phases:
      world: { pod: world, strategy: parallel }
`);
}

function zoned(id: string, agent: string, zone: string): Offer {
  return { ...offer(id, agent), attributes: { zone } };
}

function agentsOf(d: ReturnType<typeof decideService>): Record<string, string> {
  return Object.fromEntries([...launched(d)].map(([name, info]) => [name, info.agentId]));
}

describe("placement in the decision core", () => {
  it("two hostname-UNIQUE pods in one decision land on different agents, though the first agent fits both", () => {
    const d = decideService(serviceState(worlds(2, '[["hostname","UNIQUE"]]')), [offer("o1", "a1"), offer("o2", "a2")], 0, ids());
    expect(agentsOf(d)).toEqual({ "world-0-server": "a1", "world-1-server": "a2" });
  });

  it("a pod no agent may take waits, the step saying why each agent was refused", () => {
    const d = decideService(serviceState(worlds(3, "hostname:UNIQUE")), [offer("o1", "a1"), offer("o2", "a2")], 0, ids());
    expect(Object.keys(agentsOf(d))).toEqual(["world-0-server", "world-1-server"]);
    expect(d.unplaced.map((u) => u.reason)).toEqual(["agent a1.host: hostname:UNIQUE, world-0 already there; agent a2.host: hostname:UNIQUE, world-1 already there"]);
    expect(steps(d.plans.deploy)[2]).toEqual(["world-2:[server]", "PREPARED", d.unplaced[0]!.reason]);
  });

  it("counts the instances the task records place, and labels each launch with where it went", () => {
    const state = serviceState(worlds(2, "hostname:UNIQUE"));
    const first = decideService(state, [offer("o1", "a1")], 0, ids("a"));
    const world0 = launched(first).get("world-0-server")!;
    expect(world0.labels).toMatchObject({ offer_hostname: "a1.host", offer_attributes: "" });
    const tasks = new Map<string, StoredTask>([[world0.name, record(world0, "TASK_RUNNING")]]);
    const next = decideService(serviceState(worlds(2, "hostname:UNIQUE"), { tasks }), [offer("o1", "a1")], 0, ids("b"));
    expect(next.launches).toEqual([]);
    expect(next.unplaced.map((u) => u.reason)).toEqual(["agent a1.host: hostname:UNIQUE, world-0 already there"]);
  });

  it("GROUP_BY tries the emptiest zone first", () => {
    const offers = [zoned("o1", "a1", "z1"), zoned("o2", "a2", "z1"), zoned("o3", "a3", "z2")];
    const d = decideService(serviceState(worlds(3, "zone:GROUP_BY")), offers, 0, ids());
    expect(agentsOf(d)).toEqual({ "world-0-server": "a1", "world-1-server": "a3", "world-2-server": "a1" });
    const world1 = launched(d).get("world-1-server")!;
    expect(world1.labels).toMatchObject({ offer_attributes: "zone:z2", offer_zone: "z2" });
    expect(world1.command.environment["ZONE"]).toBe("z2");
    expect(world1.command.environment["REGION"]).toBeUndefined();
  });

  it("when the agents the constraints allow have no room, says so and names the agents refused", () => {
    const d = decideService(serviceState(worlds(1, "hostname:LIKE:a2.*")), [offer("o1", "a1"), offer("o2", "a2", { cpus: 0.1 })], 0, ids());
    expect(d.unplaced.map((u) => u.reason)).toEqual(["insufficient cpus: need 0.2, offered 0.1; agent a1.host: hostname:LIKE:a2.*, hostname a1.host does not match"]);
  });

  it("a pod marked permanently failed is about to move: its agent is free for another", () => {
    const first = decideService(serviceState(worlds(2, "")), [offer("o1", "a1", { cpus: 0.3 }), offer("o2", "a2")], 0, ids("a"));
    const tasks = new Map<string, StoredTask>([...launched(first)].map(([n, info]) => [n, record(info, "TASK_RUNNING")]));
    expect([...tasks.values()].map((t) => t.info.agentId)).toEqual(["a1", "a2"]);
    const world1 = tasks.get("world-1-server")!;
    tasks.set(world1.info.name, record({ ...world1.info, labels: { ...world1.info.labels, "permanently-failed": "true" } }, "TASK_RUNNING"));
    const d = decideService(serviceState(worlds(3, "hostname:UNIQUE"), { tasks }), [offer("o1", "a1"), offer("o2", "a2")], 0, ids("b"));
    expect(agentsOf(d)["world-2-server"]).toBe("a2");
  });

  it("a pod relaunched in place is not checked again", () => {
    // Both instances were placed on a1 before the spec asked for UNIQUE; world-1 died.
    const loose = serviceState(worlds(2, ""));
    const first = decideService(loose, [offer("o1", "a1")], 0, ids("a"));
    const tasks = new Map<string, StoredTask>([...launched(first)].map(([n, info]) => [n, record(info, "TASK_RUNNING")]));
    expect(new Set([...tasks.values()].map((t) => t.info.agentId))).toEqual(new Set(["a1"]));
    const world1 = tasks.get("world-1-server")!;
    tasks.set(world1.info.name, record(world1.info, "TASK_FAILED"));
    const unique = worlds(2, "hostname:UNIQUE");
    const state = serviceState(unique, { tasks });
    const held = world1.info.resources;
    const d = decideService(state, [offer("o1", "a1", {}, held)], 0, ids("b"));
    expect(agentsOf(d)).toEqual({ "world-1-server": "a1" });
    expect(d.launches[0]!.inPlace).toEqual(["world-1-server"]);
  });
});

/**
 * Placement on the simulated cluster: hostname-UNIQUE pods land on different agents, one more
 * than there are agents waits with the reason in its step, instances launched in the same cycle
 * count, and a restarted scheduler still knows where they are (from the TaskInfo labels).
 */
import { describe, expect, it } from "vitest";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

function worlds(count: number, placement: string, strategy = "serial"): string {
  return `
name: hw
pods:
  world:
    count: ${count}
    placement: '${placement}'
    tasks:
      server: { goal: RUNNING, cmd: sleep 1000, cpus: 0.2, memory: 64 }
plans:
  deploy:
    phases:
      world: { pod: world, strategy: ${strategy} }
`;
}

async function put(h: Harness, spec: string): Promise<void> {
  await h.scheduler.putService({ name: "hw", spec, parameters: {} });
  await h.settle();
}

function hostsOf(h: Harness): Map<string, string> {
  return new Map(h.cluster.tasks().map((t) => [t.name, t.info.labels["offer_hostname"] ?? ""]));
}

function stepsOf(h: Harness): [string, string, string][] {
  return h.scheduler.getPlan("hw", "deploy").phases.flatMap((p) => p.steps.map((s): [string, string, string] => [s.name, s.status, s.message]));
}

describe("placement on the simulated cluster", () => {
  it("3 hostname-UNIQUE pods land on 3 agents; a 4th waits, its step saying why each agent refused it", async () => {
    const h = await createHarness({ agents: 3 });
    await put(h, worlds(4, '[["hostname","UNIQUE"]]'));
    await h.advance(20_000);
    const hosts = hostsOf(h);
    expect([...hosts.keys()].sort()).toEqual(["world-0-server", "world-1-server", "world-2-server"]);
    expect(new Set(hosts.values()).size).toBe(3);
    expect(new Set(h.cluster.tasks().map((t) => t.agentId)).size).toBe(3);
    const [name, status, message] = stepsOf(h)[3]!;
    expect([name, status]).toEqual(["world-3:[server]", "PREPARED"]);
    for (const [task, host] of hosts) {
      expect(message).toContain(`agent ${host}: hostname:UNIQUE, ${task.replace(/-server$/, "")} already there`);
    }
    expect(h.deployStatus("hw")).not.toBe("COMPLETE");
  });

  it("pods deployed in parallel, in one cycle, still land on different agents", async () => {
    const h = await createHarness({ agents: 3 });
    await put(h, worlds(3, "hostname:UNIQUE", "parallel"));
    await h.deployAll(["hw"]);
    expect(new Set(hostsOf(h).values()).size).toBe(3);
  });

  it("attributes: zone GROUP_BY spreads over the zones, LIKE keeps to the racks it names", async () => {
    const agents = ["z1", "z1", "z1", "z2", "z2"].map((zone, i) => ({ attributes: { zone, rack: `r${i}` } }));
    const h = await createHarness({ agents });
    await put(h, worlds(4, "zone:GROUP_BY:2,rack:LIKE:r[0-3],hostname:MAX_PER:2", "parallel"));
    await h.deployAll(["hw"]);
    const labels = h.cluster.tasks().map((t) => t.info.labels);
    expect(labels.filter((l) => l["offer_zone"] === "z1")).toHaveLength(2);
    expect(labels.filter((l) => l["offer_zone"] === "z2")).toHaveLength(2);
    // r4 is the other agent of z2: z2's two pods share r3, MAX_PER allowing two.
    expect(labels.filter((l) => l["offer_attributes"]?.includes("rack:r3"))).toHaveLength(2);
  });

  it("a placement change is accepted and moves no running pod; new instances follow it", async () => {
    const h = await createHarness({ agents: 3 });
    await put(h, worlds(2, "hostname:UNIQUE"));
    await h.deployAll(["hw"]);
    const before = new Map(h.cluster.tasks().map((t) => [t.name, t.taskId]));
    const result = await h.scheduler.putService({ name: "hw", spec: worlds(3, "hostname:CLUSTER:agent-0.sim.local"), parameters: {} });
    expect(result.outcome).toBe("UPDATED");
    expect(result.change).toMatchObject({ relaunched: [], added: ["world-2"], violations: [] });
    await h.deployAll(["hw"]);
    const after = new Map(h.cluster.tasks().map((t) => [t.name, t.taskId]));
    expect(after.get("world-0-server")).toBe(before.get("world-0-server"));
    expect(after.get("world-1-server")).toBe(before.get("world-1-server"));
    expect(hostsOf(h).get("world-2-server")).toBe("agent-0.sim.local");
  });

  it("a restarted scheduler counts the pods placed before it, from their task records", async () => {
    const first = await createHarness({ agents: 4 });
    await put(first, worlds(3, "hostname:UNIQUE"));
    await first.deployAll(["hw"]);
    await first.scheduler.stop();

    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    await put(second, worlds(4, "hostname:UNIQUE"));
    await second.deployAll(["hw"]);
    expect(new Set(hostsOf(second).values()).size).toBe(4);
  });
});

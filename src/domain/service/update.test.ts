/** A new target for a running service, as scenarios (§1.13, §3.4): what changes and what is written. */
import { describe, expect, it } from "vitest";
import { LABEL_TARGET_CONFIG } from "../cluster.js";
import type { TaskInfo } from "../cluster.js";
import { ids, record, spec, steps } from "../../../test/fixtures/service-state.js";
import type { StoredTask } from "./task-record.js";
import { planUpdate } from "./update.js";

const YAML = (o: { helloCpus?: number; worldCount?: number; decommission?: boolean; update?: boolean } = {}): string => `
name: hw
pods:
  hello:
    count: 1
    tasks:
      server: { goal: RUNNING, cmd: hello, cpus: ${o.helloCpus ?? 0.1}, memory: 256, volume: { path: data, type: ROOT, size: 25 } }
  world:
    count: ${o.worldCount ?? 2}
    allow-decommission: ${o.decommission ?? true}
    tasks:
      server: { goal: RUNNING, cmd: world, cpus: 0.2, memory: 512 }
${o.update ? "plans:\n  update:\n    strategy: parallel\n    phases:\n      all-world:\n        pod: world\n        strategy: parallel\n" : ""}`;

function info(pod: string, index: number): TaskInfo {
  const name = `${pod}-${index}-server`;
  return {
    name,
    taskId: `hw__${name}__1`,
    agentId: "a1",
    resources: [],
    command: { value: "x", environment: {} },
    labels: { [LABEL_TARGET_CONFIG]: "cfg-1", task_type: pod, index: String(index), resource_set: "server-resource-set" },
  };
}

/** Every instance of hello-world running cfg-1; world-1 on cfg-0, an older config. */
function records(): Map<string, StoredTask> {
  const out = new Map<string, StoredTask>();
  for (const t of [info("hello", 0), info("world", 0)]) out.set(t.name, record(t, "TASK_RUNNING"));
  out.set("world-1-server", record(info("world", 1), "TASK_RUNNING", "cfg-0"));
  return out;
}

function update(next: string, current = YAML(), deployCompleted = true): ReturnType<typeof planUpdate> {
  return planUpdate({
    current: { spec: spec(current), configId: "cfg-1", tasks: records(), deployCompleted },
    next: { spec: spec(next), configId: "cfg-2" },
    newId: ids(),
  });
}

describe("a new target config", () => {
  it("relabels the records of pods it leaves equivalent, relaunches the changed pod, deletes the configs no one references", () => {
    const u = update(YAML({ helloCpus: 0.3 }));
    expect(u.violations).toEqual([]);
    expect(u.relaunched).toEqual(["hello-0"]);
    expect(u.relabelled.map((t) => t.info.name)).toEqual(["world-0-server"]);
    expect([...u.tasks.values()].map((t) => [t.info.name, t.info.labels[LABEL_TARGET_CONFIG]])).toEqual([
      ["hello-0-server", "cfg-1"],
      ["world-0-server", "cfg-2"],
      ["world-1-server", "cfg-0"],
    ]);
    expect(steps(u.plans.deploy).map(([n, s]) => [n, s])).toEqual([
      ["hello-0:[server]", "PENDING"],
      ["world-0:[server]", "COMPLETE"],
      ["world-1:[server]", "PENDING"],
    ]);
    expect(u.obsoleteConfigs).toEqual([]);
    expect(update(YAML({ helloCpus: 0.3 })).plans.decommission).toBeUndefined();
  });

  it("a count raised adds instances; a count shrunk with allow-decommission decommissions them", () => {
    expect(update(YAML({ worldCount: 3 }))).toMatchObject({ added: ["world-2"], relaunched: [], decommissioned: [] });
    const shrunk = update(YAML({ worldCount: 1 }));
    expect(shrunk).toMatchObject({ added: [], relaunched: [], decommissioned: ["world-1"], violations: [] });
    expect(shrunk.plans.decommission?.phases.map((p) => p.name)).toEqual(["world-1"]);
    // Every record on cfg-1 moves to cfg-2; world-1's record (cfg-0) stays until it is erased.
    expect(shrunk.obsoleteConfigs).toEqual(["cfg-1"]);
  });

  it("refuses a count shrink without allow-decommission, naming the field", () => {
    const u = update(YAML({ worldCount: 1, decommission: false }), YAML({ decommission: false }));
    expect(u.violations.map((v) => v.field)).toEqual(["spec.pods.world.count"]);
  });

  it("runs the spec's update plan as deploy after a completed deployment, the generated deploy plan before", () => {
    const next = YAML({ helloCpus: 0.3, update: true });
    expect(update(next, YAML(), true).plans.deploy.phases.map((p) => p.name)).toEqual(["all-world"]);
    expect(update(next, YAML(), false).plans.deploy.phases.map((p) => p.name)).toEqual(["hello", "world"]);
    expect(update(next, YAML(), false).plans.custom.map((p) => p.name)).toEqual(["update"]);
  });
});

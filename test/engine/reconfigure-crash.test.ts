/**
 * A reconfiguration that crashes at each of its writes (the write lost, or applied and then the
 * crash): the store holds the old target or the new one, never a mix, and a restarted
 * scheduler on the same store and cluster finishes whichever it holds.
 */
import { describe, expect, it } from "vitest";
import { LABEL_TARGET_CONFIG } from "../../src/domain/cluster.js";
import type { TaskInfo } from "../../src/domain/cluster.js";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Persister } from "../../src/engine/ports.js";
import { decodeJson, decodeText } from "../../src/engine/store/codec.js";
import { createHarness, example } from "../harness/harness.js";

const HELLO = example("hello-world.yml");
const WORLD_CPUS = HELLO.replace("cpus: 0.2", "cpus: 0.3");

/** Writes from the put of WORLD_CPUS until its deploy is COMPLETE (7 of them plan events; counted by the first test). */
const WRITES = 16;

async function stored(p: Persister): Promise<{ target: string; configs: string[]; generation: number; infos: TaskInfo[] }> {
  const target = decodeText((await p.get("Services/hello/ConfigTarget"))!.data);
  const configs = await p.children("Services/hello/Configurations");
  const generation = decodeJson<{ generation: number }>((await p.get("ServiceList/hello/Context"))!.data).generation;
  const names = await p.children("Services/hello/Tasks");
  const infos = await Promise.all(names.map(async (n) => decodeJson<TaskInfo>((await p.get(`Services/hello/Tasks/${n}/TaskInfo`))!.data)));
  return { target, configs, generation, infos };
}

describe("a reconfiguration that crashes", () => {
  it("makes exactly the writes the table below covers", async () => {
    const faulty = new FaultInjectingPersister(new MemoryPersister());
    const h = await createHarness({ persister: faulty });
    await h.put("hello", "hello-world.yml");
    await h.deployAll(["hello"]);
    await h.advance(10_000);
    const before = faulty.writes;
    await h.scheduler.putService({ name: "hello", spec: WORLD_CPUS, parameters: {} });
    await h.settle();
    await h.deployAll(["hello"]);
    expect(faulty.writes - before).toBe(WRITES);
  });

  const cases = (["before", "after"] as const).flatMap((mode) => Array.from({ length: WRITES }, (_, i) => ({ mode, k: i + 1 })));

  it.each(cases)("at write $k ($mode it is applied) leaves the old or the new target, and a restart finishes it", async ({ mode, k }) => {
    const memory = new MemoryPersister();
    const faulty = new FaultInjectingPersister(memory, { mode });
    const first = await createHarness({ persister: faulty });
    await first.put("hello", "hello-world.yml");
    await first.deployAll(["hello"]);
    await first.advance(10_000);
    const old = await stored(memory);
    faulty.failFromWrite(faulty.writes + k);
    await first.scheduler.putService({ name: "hello", spec: WORLD_CPUS, parameters: {} }).catch(() => undefined);
    await first.advance(5000).catch(() => undefined);
    await first.scheduler.stop().catch(() => undefined);

    // Old or new, whole: the target's config is stored, the context's generation goes with it.
    const crashed = await stored(memory);
    const updated = crashed.target !== old.target;
    expect(crashed.configs).toContain(crashed.target);
    expect(crashed.generation).toBe(updated ? 2 : 1);
    if (!updated) expect(crashed.configs).toEqual(old.configs);

    faulty.heal();
    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: memory });
    await second.deployAll(["hello"]);
    await second.advance(30_000);
    const done = await stored(memory);
    expect(done.target).toBe(crashed.target);
    expect(done.infos.map((i) => i.labels[LABEL_TARGET_CONFIG])).toEqual([done.target, done.target, done.target]);
    const running = first.cluster.tasks().filter((t) => t.state === "TASK_RUNNING");
    expect(running.map((t) => t.name).sort()).toEqual(["hello-0-server", "world-0-server", "world-1-server"]);
    const worldCpus = done.infos.filter((i) => i.name.startsWith("world")).map((i) => i.resources.find((r) => r.name === "cpus")?.scalar);
    expect(worldCpus).toEqual(updated ? [0.3, 0.3] : [0.2, 0.2]);
    // The tasks run on the reservations they had: nothing was reserved anew.
    const ids = (infos: TaskInfo[]): string[] => infos.flatMap((i) => i.resources.map((r) => r.reservations?.at(-1)?.labels["resource_id"] ?? "")).sort();
    expect(ids(done.infos)).toEqual(ids(old.infos));
  });
});

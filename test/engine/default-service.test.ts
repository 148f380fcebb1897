/**
 * The default service (dcos-commons §1.3, §3.10 item 8, §7.2 hazard 2 fixed) on the simulated
 * cluster with a fake clock: a mono scheduler's reservations carry no namespace label, and the
 * framework-named service still keeps them, relaunches in place on them, decommissions and
 * releases them; without such a service they are left alone.
 */
import { describe, expect, it } from "vitest";
import type { Resource } from "../../src/domain/cluster.js";
import { LABEL_FRAMEWORK_ID, LABEL_NAMESPACE, LABEL_RESOURCE_ID } from "../../src/domain/cluster.js";
import type { FrameworkIdentity } from "../../src/domain/service/model.js";
import * as layout from "../../src/engine/store/layout.js";
import { createHarness } from "../harness/harness.js";
import type { Harness, HarnessOptions } from "../harness/harness.js";

const SPEC = `name: {{SERVICE_NAME}}
pods:
  hello:
    count: {{COUNT}}
    allow-decommission: true
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 0.1
        memory: 64
        volume:
          path: data
          type: ROOT
          size: 10
`;

/** Never fits an agent: its deploy stays WORKING, so every cycle collects garbage from the unused offers. */
const BUSY = `name: busy
pods:
  big:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: sleep 1000
        cpus: 1000
        memory: 64
`;

const mono = (name: string): FrameworkIdentity => ({ name, role: "corral-role", principal: "corral-principal", mono: true });

let seed = 1;

/** A scheduler; with `from`, restarted on its cluster, clock and store (a new seed: new ids). */
function start(framework: FrameworkIdentity, from?: Harness): Promise<Harness> {
  const reuse: HarnessOptions = from ? { cluster: from.cluster, clock: from.clock, persister: from.persister } : {};
  return createHarness({ ...reuse, seed: seed++, scheduler: { framework } });
}

function reserved(h: Harness): Resource[] {
  return [...h.cluster.reservations().values()].flat();
}

const label = (r: Resource, key: string): string | undefined => r.reservations?.at(-1)?.labels[key];

function resourceIds(h: Harness, match: (r: Resource) => boolean = () => true): Set<string> {
  return new Set(reserved(h).filter(match).map((r) => label(r, LABEL_RESOURCE_ID)!));
}

async function put(h: Harness, name: string, spec: string, parameters: Record<string, string> = {}): Promise<void> {
  await h.scheduler.putService({ name, spec, parameters });
  await h.settle();
}

async function untilGone(h: Harness, name: string, maxSteps = 60): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (!h.scheduler.listServices().some((s) => s.name === name)) return;
    await h.advance(1000);
  }
  throw new Error(`${name} was not removed`);
}

describe("default service", () => {
  it("a mono scheduler reserves without a namespace label; after a restart its service keeps and relaunches in place on them", async () => {
    const first = await start(mono("corral"));
    await put(first, "corral", SPEC, { COUNT: "2" });
    await first.deployAll(["corral"]);
    const all = reserved(first);
    expect(all.length).toBeGreaterThan(0);
    for (const r of all) {
      expect(label(r, LABEL_NAMESPACE)).toBeUndefined();
      expect(label(r, LABEL_RESOURCE_ID)).toBeDefined();
      expect(label(r, LABEL_FRAMEWORK_ID)).toBe(first.cluster.frameworkId);
    }
    const ids = resourceIds(first);
    const launches = first.cluster.counts.launches;
    await first.scheduler.stop();

    const second = await start(mono("corral"), first);
    // Another service keeps the cycle WORKING, so garbage collection looks at every unused offer.
    await put(second, "busy", BUSY);
    await second.advance(60_000);
    expect(first.cluster.counts.launches).toBe(launches);
    expect(resourceIds(second)).toEqual(ids);

    const [before] = first.cluster.tasks().filter((t) => t.name === "hello-0-server");
    first.cluster.failTask(before!.taskId, "TASK_FAILED", "exit 1");
    await second.advance(30_000);
    const [after] = first.cluster.tasks().filter((t) => t.name === "hello-0-server");
    expect(after!.taskId).not.toBe(before!.taskId);
    const held = (t: typeof before): string[] => t!.info.resources.flatMap((r) => label(r, LABEL_RESOURCE_ID) ?? []).sort();
    expect(held(after)).toEqual(held(before));
    await second.advance(60_000);
    expect(resourceIds(second)).toEqual(ids);
  });

  it("a mono service decommissions a pod: its unlabelled reservations and volume are released", async () => {
    const h = await start(mono("corral"));
    await put(h, "corral", SPEC, { COUNT: "2" });
    await h.deployAll(["corral"]);
    const [gone] = h.cluster.tasks().filter((t) => t.name === "hello-1-server");
    const goneIds = gone!.info.resources.flatMap((r) => label(r, LABEL_RESOURCE_ID) ?? []);
    expect(goneIds.length).toBeGreaterThan(0);
    await put(h, "corral", SPEC, { COUNT: "1" });
    await h.advance(30_000);
    expect(h.scheduler.getPlan("corral", "decommission").status).toBe("COMPLETE");
    expect(h.cluster.tasks().map((t) => t.name)).toEqual(["hello-0-server"]);
    const left = resourceIds(h);
    for (const id of goneIds) expect(left.has(id)).toBe(false);
    expect(left.size).toBeGreaterThan(0);
  });

  it("removing the framework-named service releases its unlabelled reservations; a foldered framework name matches", async () => {
    // `/team/fw` and `team/fw` sanitize alike (team.fw): the reference compared the raw name (hazard 2).
    const h = await start(mono("/team/fw"));
    await put(h, "team/fw", SPEC, { COUNT: "2" });
    await h.deployAll(["team/fw"]);
    expect(reserved(h).length).toBeGreaterThan(0);
    await h.scheduler.uninstallService("team/fw");
    await untilGone(h, "team/fw");
    expect(reserved(h)).toEqual([]);
    expect(h.cluster.tasks()).toEqual([]);
  });

  it("the default service collects its unlabelled reservations no task holds, and keeps those its tasks hold", async () => {
    const first = await start(mono("corral"));
    await put(first, "corral", SPEC, { COUNT: "2" });
    await first.deployAll(["corral"]);
    const [orphan] = first.cluster.tasks().filter((t) => t.name === "hello-1-server");
    const orphanIds = orphan!.info.resources.flatMap((r) => label(r, LABEL_RESOURCE_ID) ?? []);
    await first.scheduler.stop();
    // Its record lost, the task dead: its reservations are nobody's but unlabelled.
    first.cluster.failTask(orphan!.taskId, "TASK_FAILED", "exit 1");
    await first.persister.multi([{ kind: "delete", path: layout.taskInfoPath("corral", "hello-1-server").replace(/\/[^/]*$/, "") }]);

    const second = await start(mono("corral"), first);
    await put(second, "busy", BUSY);
    await second.advance(60_000);
    const left = resourceIds(second);
    for (const id of orphanIds) expect(left.has(id)).toBe(false);
    const [kept] = first.cluster.tasks().filter((t) => t.name === "hello-0-server");
    for (const r of kept!.info.resources) expect(left.has(label(r, LABEL_RESOURCE_ID)!)).toBe(true);
  });

  it("without a framework-named service, unlabelled reservations are left alone (an unknown namespace's are collected)", async () => {
    const first = await start(mono("corral"));
    await put(first, "corral", SPEC, { COUNT: "1" });
    await first.deployAll(["corral"]);
    await first.scheduler.stop();
    // The same framework as a multi scheduler: a labelled service beside it.
    const second = await start({ name: "corral", role: "corral-role", principal: "corral-principal" }, first);
    await put(second, "labelled", SPEC, { COUNT: "1" });
    await second.deployAll(["labelled"]);
    await second.scheduler.stop();
    const unlabelled = resourceIds(second, (r) => label(r, LABEL_NAMESPACE) === undefined);
    expect(unlabelled.size).toBeGreaterThan(0);
    expect(resourceIds(second, (r) => label(r, LABEL_NAMESPACE) === "labelled").size).toBeGreaterThan(0);
    // Both services forgotten, their tasks dead.
    for (const t of first.cluster.tasks()) first.cluster.failTask(t.taskId, "TASK_FAILED", "exit 1");
    for (const name of ["corral", "labelled"]) {
      await first.persister.multi([
        { kind: "delete", path: layout.serviceRoot(name) },
        { kind: "delete", path: layout.serviceListEntry(name) },
      ]);
    }

    const third = await start({ name: "corral", role: "corral-role", principal: "corral-principal" }, first);
    await put(third, "busy", BUSY);
    await third.advance(60_000);
    expect(resourceIds(third, (r) => label(r, LABEL_NAMESPACE) === "labelled").size).toBe(0);
    expect(resourceIds(third, (r) => label(r, LABEL_NAMESPACE) === undefined)).toEqual(unlabelled);
  });

  it("after a move to multi mode the framework-named service relaunches in place on its unlabelled reservations and labels new ones", async () => {
    const first = await start(mono("corral"));
    await put(first, "corral", SPEC, { COUNT: "1" });
    await first.deployAll(["corral"]);
    const old = resourceIds(first);
    await first.scheduler.stop();

    const second = await start({ name: "corral", role: "corral-role", principal: "corral-principal" }, first);
    await second.advance(5000);
    const [before] = first.cluster.tasks();
    first.cluster.failTask(before!.taskId, "TASK_FAILED", "exit 1");
    await second.advance(30_000);
    const [after] = first.cluster.tasks();
    expect(after!.taskId).not.toBe(before!.taskId);
    expect(new Set(after!.info.resources.flatMap((r) => label(r, LABEL_RESOURCE_ID) ?? []))).toEqual(new Set(before!.info.resources.flatMap((r) => label(r, LABEL_RESOURCE_ID) ?? [])));
    // A new pod reserves with the namespace label; the old pod's reservations stay unlabelled.
    await put(second, "corral", SPEC, { COUNT: "2" });
    await second.deployAll(["corral"]);
    expect(resourceIds(second, (r) => label(r, LABEL_NAMESPACE) === undefined)).toEqual(old);
    expect(resourceIds(second, (r) => label(r, LABEL_NAMESPACE) === "corral").size).toBeGreaterThan(0);
    // The removal releases every reservation of the service, labelled or not.
    await second.scheduler.uninstallService("corral");
    await untilGone(second, "corral");
    expect(reserved(second)).toEqual([]);
  });

  it("a removal of the framework-named service resumed after a restart, alone in the scheduler, releases what its tasks held", async () => {
    const first = await start(mono("corral"));
    await put(first, "corral", SPEC, { COUNT: "2" });
    await first.deployAll(["corral"]);
    expect(reserved(first).length).toBeGreaterThan(0);
    await first.scheduler.uninstallService("corral");
    await first.scheduler.stop();

    const second = await start(mono("corral"), first);
    await untilGone(second, "corral");
    expect(reserved(second)).toEqual([]);
    expect(first.cluster.tasks()).toEqual([]);
  });
});


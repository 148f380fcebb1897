/**
 * The reference's multi-service integration scenarios (dcos-commons-behaviour.md §5,
 * test_multiservice_dynamic.py) against our gRPC API, with the scheduler as its own process on
 * the local agent it starts (through the Mesos driver): services are added, deployed, survive restarts and are removed, a removal
 * survives a crash of the scheduler, and a watcher that reconnects misses no event and sees
 * none twice. The teardown is the whole-scheduler uninstall: no process, reservation, volume,
 * sandbox or stored state may be left.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqlitePersister } from "../../src/adapters/persister/sqlite-persister.js";
import { ServiceState, UninstallEventKind, createAdminClient } from "../../src/client/index.js";
import type { AdminClient } from "../../src/client/index.js";
import { reservationOwners, reservedResources, sandboxIds, sandboxOf, savedTasks, settled, volumeDirs } from "../local/agent-world.js";
import { isAlive, killEverything, tempDataDir } from "../local/local-harness.js";
import { ROOT, completedTaskIds, killSchedulers, startScheduler, taskPids } from "./scheduler-process.js";
import type { SchedulerProcess } from "./scheduler-process.js";

/** The reference svc.yml (our hello-world) with 1 s check intervals; and simple.yml. */
const SVC = readFileSync(join(ROOT, "examples/hello-world.yml"), "utf8").replace(/interval: 5/g, "interval: 1");
const SIMPLE = readFileSync(join(ROOT, "examples/simple.yml"), "utf8");
const SVC_STEPS = ["hello-0:[server]", "world-0:[server]", "world-1:[server]"];

const dirs: string[] = [];
const clients: AdminClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  killSchedulers();
  for (const d of dirs.splice(0)) await killEverything(d);
});

function client(s: SchedulerProcess): AdminClient {
  const c = createAdminClient({ address: s.address, defaultDeadlineMs: 5000 });
  clients.push(c);
  return c;
}

async function stepNames(c: AdminClient, name: string): Promise<string[]> {
  const { plan } = await c.getPlan({ name });
  return plan!.phases.flatMap((p) => p.steps.map((s) => s.name));
}

async function restart(s: SchedulerProcess, dataDir: string, signal: NodeJS.Signals = "SIGTERM"): Promise<SchedulerProcess> {
  s.child.kill(signal);
  await s.exited;
  return startScheduler(dataDir);
}

async function untilServices(c: AdminClient, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await c.listServices({})).services.length !== count) {
    if (Date.now() > deadline) throw new Error(`service count did not reach ${count}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Nothing of any service on the machine: no live task process, no reservation, no volume, no sandbox. */
async function expectMachineClean(dataDir: string, pids: Iterable<number>): Promise<void> {
  for (const pid of pids) expect(isAlive(pid)).toBe(false);
  expect(await settled(() => reservedResources(dataDir), [])).toEqual([]);
  expect(await settled(() => savedTasks(dataDir), [])).toEqual([]);
  expect(await settled(() => volumeDirs(dataDir), [])).toEqual([]);
  expect(await settled(() => sandboxIds(dataDir), [])).toEqual([]);
}

describe("reference scenario 1: add, deploy, restart, remove", () => {
  it("test_add_deploy_restart_remove", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    let s = await startScheduler(dataDir);
    let c = client(s);
    await c.putService({ name: "test1", spec: SVC, parameters: { FRAMEWORK_NAME: "test1" } });
    const listed = (await c.listServices({})).services;
    expect(listed.map((x) => [x.name, x.state === ServiceState.UNINSTALLING])).toEqual([["test1", false]]);
    const ids = await completedTaskIds(s.address, "test1");

    s = await restart(s, dataDir);
    c = client(s);
    expect((await c.listServices({})).services.map((x) => [x.name, x.state === ServiceState.UNINSTALLING])).toEqual([["test1", false]]);
    expect(await completedTaskIds(s.address, "test1")).toEqual(ids);
    expect(await stepNames(c, "test1")).toEqual(SVC_STEPS);
    const pids = [...taskPids(dataDir).values()];

    await c.uninstallService({ name: "test1" });
    const during = (await c.listServices({})).services;
    expect(during.length).toBeLessThanOrEqual(1);
    for (const x of during) expect([x.name, x.state]).toEqual(["test1", ServiceState.UNINSTALLING]);
    await untilServices(c, 0);
    await expectMachineClean(dataDir, pids);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
  }, 180_000);
});

describe("reference scenario 2: multiple services, a removal survives a restart", () => {
  it("test_add_multiple_uninstall, then the whole-scheduler uninstall as its teardown", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    let s = await startScheduler(dataDir);
    let c = client(s);
    await c.putService({ name: "test1", spec: SVC, parameters: { FRAMEWORK_NAME: "test1" } });
    await c.putService({ name: "test2", spec: SIMPLE, parameters: { FRAMEWORK_NAME: "test2" } });
    expect((await c.listServices({})).services.map((x) => [x.name, x.state === ServiceState.UNINSTALLING])).toEqual([
      ["test1", false],
      ["test2", false],
    ]);
    const test1Ids = await completedTaskIds(s.address, "test1");
    const [test2Task] = await completedTaskIds(s.address, "test2");
    const test2Pid = taskPids(dataDir).get(test2Task!)!;
    expect(await stepNames(c, "test1")).toEqual(SVC_STEPS);
    expect(await stepNames(c, "test2")).toEqual(["hello-0:[server]"]);

    // A watcher follows test2's removal across the scheduler's crash.
    const events: { sequence: bigint; kind: UninstallEventKind }[] = [];
    const follow = async (from: SchedulerProcess): Promise<"ended" | "broken"> => {
      const after = events.at(-1)?.sequence ?? 0n;
      try {
        for await (const { event } of client(from).watchUninstall({ names: ["test2"], after })) {
          events.push({ sequence: event!.sequence, kind: event!.kind });
        }
        return "ended";
      } catch {
        return "broken";
      }
    };
    const firstWatch = follow(s);
    await c.uninstallService({ name: "test2" });
    const during = (await c.listServices({})).services.map((x) => [x.name, x.state === ServiceState.UNINSTALLING]);
    expect(during).toContainEqual(["test2", true]);
    expect(during.filter(([, uninstalling]) => uninstalling)).toEqual([["test2", true]]);

    s = await restart(s, dataDir, "SIGKILL"); // right away, mid-removal
    expect(["ended", "broken"]).toContain(await firstWatch);
    c = client(s);
    if (events.at(-1)?.kind !== UninstallEventKind.COMPLETED) expect(await follow(s)).toBe("ended");
    await untilServices(c, 1);
    // Nothing of test2 is left: no process, no sandbox, no reservation.
    expect(isAlive(test2Pid)).toBe(false);
    expect(await settled(() => sandboxOf(dataDir, test2Task!), undefined)).toBeUndefined();
    expect(await settled(() => [...reservationOwners(dataDir)], ["test1"])).toEqual(["test1"]);
    const sequences = events.map((e) => e.sequence);
    expect(new Set(sequences).size).toBe(sequences.length); // none twice
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
    expect(events[0]?.kind).toBe(UninstallEventKind.STARTED);
    expect(events.filter((e) => e.kind === UninstallEventKind.COMPLETED)).toHaveLength(1);
    expect(events.at(-1)?.kind).toBe(UninstallEventKind.COMPLETED);
    // A watcher that starts after the removal completed still gets the event.
    const late: UninstallEventKind[] = [];
    for await (const { event } of client(s).watchUninstall({ names: ["test2"] })) late.push(event!.kind);
    expect(late.at(-1)).toBe(UninstallEventKind.COMPLETED);
    // test1 is untouched: same steps, same tasks.
    expect(await completedTaskIds(s.address, "test1")).toEqual(test1Ids);
    expect(await stepNames(c, "test1")).toEqual(SVC_STEPS);

    // Teardown: the whole scheduler is uninstalled; the process exits 0 by itself.
    const pids = [...taskPids(dataDir).values()];
    s.child.kill("SIGTERM");
    await s.exited;
    const u = await startScheduler(dataDir, ["--uninstall"]);
    expect(await u.exited).toBe(0);
    expect(u.log.some((l) => l["msg"] === "uninstall complete")).toBe(true);
    await expectMachineClean(dataDir, pids);
    const store = SqlitePersister.open(join(dataDir, "corral.db"));
    try {
      for (const root of ["ServiceList", "Services", "UninstallEvents"]) expect(await store.children(root)).toEqual([]);
      for (const node of ["SchemaVersion", "FrameworkID"]) expect(await store.get(node)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 240_000);
});

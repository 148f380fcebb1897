/**
 * The reference's mono → multi migration scenarios (dcos-commons-behaviour.md §5, scenarios 3 and
 * 4, test_mono_to_multi_migrate.py) on the local agent, for any store: hello-world deployed in
 * mono mode, then the scheduler restarted in static mode with hello-world and foobar; and what
 * may follow a migration: the rollback, hello-world's removal, a dynamic scheduler. The SQLite
 * and ZooKeeper test files run them.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { expect } from "vitest";
import { ServiceMode } from "../../src/client/index.js";
import { listBackups } from "../../src/engine/store/migration.js";
import { liveTaskIds, reservationOwners, reservedResources, sandboxIds, settled } from "../local/agent-world.js";
import { isAlive } from "../local/local-harness.js";
import { waitDead } from "../processes.js";
import { FIXTURES, FW, adminClient, completeTasks, dynamicArgs, eventually, helloWithUser, monoArgs, readStore, schemaVersion, servicesDir, staticArgs, taskUsers, tasksNamed } from "./modes-world.js";
import type { StoreUnderTest } from "./modes-world.js";
import { crashSchedulerAt, runSchedulerToExit, startScheduler, stopScheduler, taskPids } from "./scheduler-process.js";
import type { SchedulerExit } from "./scheduler-process.js";

/** What the mono scheduler left running. */
export interface MonoRun {
  /** hello-world's task ids, sorted. */
  readonly ids: string[];
  /** Task id → pid. */
  readonly pids: Map<string, number>;
}

const idOf = (ids: readonly string[], task: string): string => ids.find((id) => id.includes(`__${task}__`))!;

/** hello-world deployed by a mono scheduler, which is then stopped (SIGTERM); its tasks keep running. */
export async function deployMono(dataDir: string, store: StoreUnderTest): Promise<MonoRun> {
  const s = await startScheduler(dataDir, monoArgs(store));
  const c = adminClient(s.address);
  const ids = await completeTasks(c, FW);
  expect(ids).toHaveLength(3);
  for (const id of ids) expect(id).toMatch(/^hello-world__(hello-0|world-0|world-1)-server__/);
  expect(await c.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.MONO, schemaVersion: 1 });
  expect((await c.listServices({})).services.map((x) => x.name)).toEqual([FW]);
  // The reference's mono reservations: no namespace label.
  expect(await settled(() => [...reservationOwners(dataDir)], [undefined])).toEqual([undefined]);
  const all = taskPids(dataDir);
  const pids = new Map(ids.map((id) => [id, all.get(id)!]));
  const users = await taskUsers(dataDir);
  for (const id of ids) expect(users.get(id)).toBe("root"); // mono's default user, not the framework's
  expect(await stopScheduler(s)).toBe(0);
  for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);
  expect(await schemaVersion(store)).toBe("1");
  return { ids, pids };
}

/** Scenario 3: unchanged hello-world tasks are not relaunched; foobar is added; old tasks' statuses reach hello-world. */
export async function scenario3(dataDir: string, store: StoreUnderTest): Promise<void> {
  const mono = await deployMono(dataDir, store);
  const s = await startScheduler(dataDir, staticArgs(store, servicesDir(dataDir, ["hello-world.yml", "foobar.yml"])));
  const c = adminClient(s.address);
  const foobar = await completeTasks(c, "foobar");
  expect(foobar).toHaveLength(1);
  expect(foobar[0]).toMatch(/^foobar__foo-0-bar__/);
  expect(await completeTasks(c, FW)).toEqual(mono.ids);
  await completeTasks(c, FW, "recovery");
  // The same processes: nothing of hello-world was launched again; exactly foobar's task was added.
  const pids = taskPids(dataDir);
  for (const [id, pid] of mono.pids) {
    expect(pids.get(id)).toBe(pid);
    expect(isAlive(pid)).toBe(true);
  }
  expect(await liveTaskIds(dataDir)).toEqual([...mono.ids, ...foobar].sort());
  const users = await taskUsers(dataDir);
  for (const id of mono.ids) expect(users.get(id)).toBe("root");
  expect(users.get(foobar[0]!)).toBe("nobody"); // a new service without a user: the framework's
  // The old reservations (no namespace label) stay hello-world's; foobar's carry its name.
  expect(await settled(() => [...reservationOwners(dataDir)].sort(), ["foobar", undefined])).toEqual(["foobar", undefined]);
  expect(await c.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.STATIC, schemaVersion: 2 });
  expect((await c.listServices({})).services.map((x) => x.name)).toEqual(["foobar", FW]);
  const guard = { code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(/static mode/) };
  await expect(c.putService({ name: "other", spec: "name: other\n", parameters: {} })).rejects.toMatchObject(guard);
  await expect(c.uninstallService({ name: "foobar" })).rejects.toMatchObject(guard);

  // An old task's status update reaches hello-world: its recovery relaunches the killed task.
  const world0 = idOf(mono.ids, "world-0-server");
  process.kill(-mono.pids.get(world0)!, "SIGKILL");
  const relaunched = await eventually("world-0-server relaunched", async () => {
    const [t] = await tasksNamed(c, FW, "world-0-server");
    return t !== undefined && t.id !== world0 && t.state === "TASK_RUNNING" && t.id;
  });
  expect(relaunched).toMatch(/^hello-world__world-0-server__/);
  await completeTasks(c, FW, "recovery", (ids) => ids.includes(relaunched));
  expect(await liveTaskIds(dataDir)).toEqual([...mono.ids.filter((id) => id !== world0), relaunched, ...foobar].sort());
  expect(await stopScheduler(s)).toBe(0);

  // The schema-1 nodes moved under Services/hello-world (and ServiceList/hello-world), a backup kept.
  expect(await schemaVersion(store)).toBe("2");
  await readStore(store, async (p) => {
    expect(await p.children("Tasks")).toEqual([]);
    expect(await p.get("ServiceContext")).toBeUndefined();
    expect(await p.children(`Services/${FW}/Tasks`)).toEqual(["hello-0-server", "world-0-server", "world-1-server"]);
    expect(await p.get(`ServiceList/${FW}/Context`)).toBeDefined();
    const backups = await listBackups(p);
    expect(backups).toHaveLength(1);
    expect(backups[0]).toMatch(/^backup-\d{4}-\d{2}-\d{2}-\d{6}$/);
    expect(await p.children(`${backups[0]}/Tasks`)).toEqual(["hello-0-server", "world-0-server", "world-1-server"]);
  });
}

/** Scenario 4: a cpu change (-p HELLO_CPUS=0.2) relaunches hello-0-server with a new task id; world and foobar as in 3. */
export async function scenario4(dataDir: string, store: StoreUnderTest): Promise<void> {
  const mono = await deployMono(dataDir, store);
  const s = await startScheduler(dataDir, staticArgs(store, servicesDir(dataDir, ["hello-world.yml", "foobar.yml"]), ["HELLO_CPUS=0.2"]));
  const c = adminClient(s.address);
  const foobar = await completeTasks(c, "foobar");
  expect(foobar).toHaveLength(1);
  const oldHello = idOf(mono.ids, "hello-0-server");
  const ids = await completeTasks(c, FW, "deploy", (got) => got.length === 3 && !got.includes(oldHello));
  const newHello = idOf(ids, "hello-0-server");
  expect(newHello).toMatch(/^hello-world__hello-0-server__/);
  // The old hello-0-server ended; the new one runs.
  await waitDead([mono.pids.get(oldHello)!]);
  expect(isAlive(mono.pids.get(oldHello)!)).toBe(false);
  const [hello] = await tasksNamed(c, FW, "hello-0-server");
  expect(hello).toMatchObject({ id: newHello, state: "TASK_RUNNING" });
  expect((await taskUsers(dataDir)).get(newHello)).toBe("root"); // the relaunch keeps mono's user
  // world's config did not change: its tasks are the old ones, the same processes.
  const worlds = mono.ids.filter((id) => id !== oldHello);
  expect(ids.filter((id) => id !== newHello)).toEqual(worlds);
  for (const id of worlds) expect(isAlive(mono.pids.get(id)!)).toBe(true);
  expect(await eventually("the old hello task gone from the agent", async () => {
    const live = await liveTaskIds(dataDir);
    return !live.includes(oldHello) && live;
  })).toEqual([...worlds, newHello, ...foobar].sort());
  expect((await liveTaskIds(dataDir)).filter((id) => id.startsWith("foo"))).toHaveLength(1);
  expect(await c.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.STATIC, schemaVersion: 2 });
  expect(await stopScheduler(s)).toBe(0);
}

/**
 * The manual rollback as the README tells it: after a migration that added foobar, a restore is
 * refused while the scheduler runs (its lock) and while foobar is stored; foobar's file taken out
 * and the static scheduler run until it is gone; then `--list-backups` and `--restore-backup`
 * on the stopped scheduler's store exit 0, and a mono scheduler runs hello-world again with the
 * same tasks.
 */
export async function rollback(dataDir: string, store: StoreUnderTest): Promise<void> {
  const mono = await deployMono(dataDir, store);
  const services = servicesDir(dataDir, ["hello-world.yml", "foobar.yml"]);
  const offline = (...flags: string[]): Promise<SchedulerExit> => runSchedulerToExit(dataDir, ["--framework-name", FW, ...store.args, ...flags]);
  const s = await startScheduler(dataDir, staticArgs(store, services));
  const [foobar] = await completeTasks(adminClient(s.address), "foobar");
  const foobarPid = taskPids(dataDir).get(foobar!)!;
  expect(await completeTasks(adminClient(s.address), FW)).toEqual(mono.ids);
  expect((await offline("--restore-backup")).code).toBe(1); // the running scheduler holds the store
  expect(await stopScheduler(s)).toBe(0);
  const withFoobar = await offline("--restore-backup");
  expect(withFoobar.code).toBe(1);
  expect(withFoobar.stderr).toMatch(/foobar/);
  expect(await schemaVersion(store)).toBe("2");

  rmSync(join(services, "foobar.yml"));
  const alone = await startScheduler(dataDir, staticArgs(store, services));
  const c = adminClient(alone.address);
  await eventually("foobar removed", async () => (await c.listServices({})).services.length === 1);
  await waitDead([foobarPid]);
  expect(isAlive(foobarPid)).toBe(false);
  expect(await completeTasks(c, FW)).toEqual(mono.ids);
  expect(await stopScheduler(alone)).toBe(0);
  const [backup] = await readStore(store, (p) => listBackups(p));
  const listed = await offline("--list-backups");
  expect(listed).toMatchObject({ code: 0 });
  expect(listed.stdout).toContain(backup!);
  const restored = await offline("--restore-backup", backup!); // named, as listed; the refusals above took the newest
  expect(restored).toMatchObject({ code: 0 });
  expect(restored.stdout).toContain(backup!);
  expect(await schemaVersion(store)).toBe("1");

  const again = await startScheduler(dataDir, monoArgs(store));
  const m = adminClient(again.address);
  expect(await completeTasks(m, FW)).toEqual(mono.ids);
  expect(await m.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.MONO, schemaVersion: 1 });
  const pids = taskPids(dataDir);
  for (const [id, pid] of mono.pids) {
    expect(pids.get(id)).toBe(pid);
    expect(isAlive(pid)).toBe(true);
  }
  expect(await liveTaskIds(dataDir)).toEqual(mono.ids);
  expect(await stopScheduler(again)).toBe(0);
}

/**
 * After the migration, hello-world.yml removed from the set: hello-world is uninstalled with the
 * reservations the mono scheduler made (no namespace label: the default service's), foobar stays.
 */
export async function removeMigrated(dataDir: string, store: StoreUnderTest): Promise<void> {
  const mono = await deployMono(dataDir, store);
  const services = servicesDir(dataDir, ["hello-world.yml", "foobar.yml"]);
  const s = await startScheduler(dataDir, staticArgs(store, services));
  const [foobar] = await completeTasks(adminClient(s.address), "foobar");
  expect(await completeTasks(adminClient(s.address), FW)).toEqual(mono.ids);
  expect(await stopScheduler(s)).toBe(0);

  rmSync(join(services, "hello-world.yml"));
  const again = await startScheduler(dataDir, staticArgs(store, services));
  const c = adminClient(again.address);
  await eventually("hello-world removed", async () => (await c.listServices({})).services.length === 1);
  expect((await c.listServices({})).services.map((x) => x.name)).toEqual(["foobar"]);
  await waitDead([...mono.pids.values()]);
  for (const pid of mono.pids.values()) expect(isAlive(pid)).toBe(false);
  expect(await settled(() => [...reservationOwners(dataDir)], ["foobar"])).toEqual(["foobar"]);
  expect(await liveTaskIds(dataDir)).toEqual([foobar]);
  expect(await c.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.STATIC, schemaVersion: 2 });
  expect(await stopScheduler(again)).toBe(0);
}

/**
 * After the migration the store is an ordinary multi one: a dynamic scheduler takes it over with
 * the same tasks, and PutService and UninstallService work again.
 */
export async function thenDynamic(dataDir: string, store: StoreUnderTest): Promise<void> {
  const mono = await deployMono(dataDir, store);
  const s = await startScheduler(dataDir, staticArgs(store, servicesDir(dataDir, ["hello-world.yml", "foobar.yml"])));
  const [foobar] = await completeTasks(adminClient(s.address), "foobar");
  expect(await completeTasks(adminClient(s.address), FW)).toEqual(mono.ids);
  expect(await stopScheduler(s)).toBe(0);

  const dynamic = await startScheduler(dataDir, dynamicArgs(store));
  const c = adminClient(dynamic.address);
  expect(await c.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.DYNAMIC, schemaVersion: 2 });
  expect((await c.listServices({})).services.map((x) => x.name)).toEqual(["foobar", FW]);
  expect(await completeTasks(c, FW)).toEqual(mono.ids);
  expect(await completeTasks(c, "foobar")).toEqual([foobar]);
  await c.putService({ name: "extra", spec: readFileSync(join(FIXTURES, "by-file-name.yml"), "utf8"), parameters: {} });
  const [extra] = await completeTasks(c, "extra");
  expect(extra).toMatch(/^extra__one-0-task__/);
  await c.uninstallService({ name: "foobar" });
  await eventually("foobar removed", async () => (await c.listServices({})).services.length === 2);
  const want = [...mono.ids, extra!].sort();
  // Polled until the agent forgot foobar's task; the assertion then shows any difference.
  await eventually("foobar's task gone", async () => (await liveTaskIds(dataDir)).length === want.length).catch(() => undefined);
  expect(await liveTaskIds(dataDir)).toEqual(want);
  for (const [id, pid] of mono.pids) expect(taskPids(dataDir).get(id)).toBe(pid);
  expect(await stopScheduler(dynamic)).toBe(0);
}

/**
 * The migration never changes a task's user: a hello-world file naming another user (nobody)
 * than the mono service's (root) is refused like any user change, naming both; the tasks run on.
 */
export async function userChangeRefused(dataDir: string, store: StoreUnderTest): Promise<void> {
  const mono = await deployMono(dataDir, store);
  const services = servicesDir(dataDir, []);
  writeFileSync(join(services, "hello-world.yml"), helloWithUser("nobody"));
  const refused = await runSchedulerToExit(dataDir, staticArgs(store, services));
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/hello-world\.yml/);
  expect(refused.stderr).toMatch(/user 'nobody' differs from the running 'root'/);
  expect(await liveTaskIds(dataDir)).toEqual(mono.ids);
  for (const pid of mono.pids.values()) expect(isAlive(pid)).toBe(true);
  for (const user of (await taskUsers(dataDir)).values()) expect(user).toBe("root");
}

/**
 * A crash of the static scheduler right after it migrated the store (before it put its files'
 * services): the next static start goes on from the migrated store, and hello-world's tasks are
 * still the mono ones.
 */
export async function crashAfterMigration(dataDir: string, store: StoreUnderTest): Promise<void> {
  const mono = await deployMono(dataDir, store);
  const services = servicesDir(dataDir, ["hello-world.yml", "foobar.yml"]);
  await crashSchedulerAt(dataDir, staticArgs(store, services), /^migrated the mono store/); // schema.ts logs it once the migration is written
  expect(await schemaVersion(store)).toBe("2");
  for (const pid of mono.pids.values()) expect(isAlive(pid)).toBe(true);

  // ZooKeeper keeps the killed scheduler's lock node until its session expires (10 s).
  const s = await startScheduler(dataDir, [...staticArgs(store, services), "--wait-for-lock", "30"]);
  const c = adminClient(s.address);
  const foobar = await completeTasks(c, "foobar");
  expect(await completeTasks(c, FW)).toEqual(mono.ids);
  expect(taskPids(dataDir).get(mono.ids[0]!)).toBe(mono.pids.get(mono.ids[0]!));
  expect(await liveTaskIds(dataDir)).toEqual([...mono.ids, ...foobar].sort());
  expect(await readStore(store, (p) => listBackups(p))).toHaveLength(1);
  expect(await stopScheduler(s)).toBe(0);
}

/**
 * The whole-scheduler uninstall of a migrated store: hello-world (on the mono scheduler's
 * unlabelled reservations) and foobar go, nothing is left on the machine or in the store.
 */
export async function uninstallMigrated(dataDir: string, store: StoreUnderTest): Promise<void> {
  const mono = await deployMono(dataDir, store);
  const services = servicesDir(dataDir, ["hello-world.yml", "foobar.yml"]);
  const s = await startScheduler(dataDir, staticArgs(store, services));
  const [foobar] = await completeTasks(adminClient(s.address), "foobar");
  const foobarPid = taskPids(dataDir).get(foobar!)!;
  expect(await stopScheduler(s)).toBe(0);

  const run = await runSchedulerToExit(dataDir, [...staticArgs(store, services), "--uninstall"], 30_000);
  expect(run.code).toBe(0);
  const pids = [...mono.pids.values(), foobarPid];
  await waitDead(pids);
  for (const pid of pids) expect(isAlive(pid)).toBe(false);
  expect(await settled(() => reservedResources(dataDir), [])).toEqual([]);
  expect(await settled(() => sandboxIds(dataDir), [])).toEqual([]);
  await readStore(store, async (p) => {
    for (const root of ["Services", "ServiceList"]) expect(await p.children(root)).toEqual([]);
    for (const node of ["SchemaVersion", "FrameworkID"]) expect(await p.get(node)).toBeUndefined();
  });
}

/**
 * Static mode with the scheduler as its own process on the local agent: the services are the
 * files of a directory (or the files named), named by their rendered `name:`; a file removed
 * from the directory uninstalls its service on the next start, and the others keep their tasks;
 * a refused file fails the start with nothing changed, and so do two files that render the same
 * name; a file that drops its user line keeps its tasks' user.
 */
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ServiceMode, UninstallEventKind } from "../../src/client/index.js";
import { liveTaskIds, reservationOwners, sandboxOf, settled } from "../local/agent-world.js";
import { isAlive } from "../local/local-harness.js";
import { waitDead } from "../processes.js";
import { FIXTURES, FW, adminClient, helloWithUser, completeTasks, dataDirsEachTest, eventually, schemaVersion, servicesDir, sqliteStore, staticArgs, taskUsers } from "./modes-world.js";
import { runSchedulerToExit, startScheduler, stopScheduler, taskPids } from "./scheduler-process.js";

const newDir = dataDirsEachTest("static");

describe("--mode static", () => {
  it("deploys each file's service; a file removed from the directory uninstalls its service on the next start", async () => {
    const dataDir = newDir();
    const store = sqliteStore(dataDir);
    const services = servicesDir(dataDir, ["hello-world.yml", "foobar.yml"]);
    const first = await startScheduler(dataDir, staticArgs(store, services));
    let c = adminClient(first.address);
    const [foobar] = await completeTasks(c, "foobar");
    const hello = await completeTasks(c, FW);
    expect(hello).toHaveLength(3);
    expect((await c.listServices({})).services.map((x) => x.name)).toEqual(["foobar", FW]);
    expect(await c.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.STATIC, schemaVersion: 2 });
    expect(await settled(() => [...reservationOwners(dataDir)].sort(), ["foobar", FW])).toEqual(["foobar", FW]);
    const pids = taskPids(dataDir);
    const users = await taskUsers(dataDir);
    for (const id of [...hello, foobar!]) expect(users.get(id)).toBe("nobody"); // specs without a user: the framework's
    expect(await stopScheduler(first)).toBe(0);
    expect(await schemaVersion(store)).toBe("2");

    rmSync(join(services, "foobar.yml"));
    const second = await startScheduler(dataDir, staticArgs(store, services));
    c = adminClient(second.address);
    await eventually("foobar gone", async () => (await c.listServices({})).services.length === 1);
    expect((await c.listServices({})).services.map((x) => x.name)).toEqual([FW]);
    const kinds: UninstallEventKind[] = [];
    for await (const { event } of c.watchUninstall({ names: ["foobar"] })) kinds.push(event!.kind);
    expect(kinds[0]).toBe(UninstallEventKind.STARTED);
    expect(kinds.at(-1)).toBe(UninstallEventKind.COMPLETED);
    // foobar's task ended, its sandbox and reservations went; hello-world's tasks are untouched.
    await waitDead([pids.get(foobar!)!]);
    expect(isAlive(pids.get(foobar!)!)).toBe(false);
    expect(await settled(() => sandboxOf(dataDir, foobar!), undefined)).toBeUndefined();
    expect(await settled(() => [...reservationOwners(dataDir)], [FW])).toEqual([FW]);
    expect(await completeTasks(c, FW)).toEqual(hello);
    for (const id of hello) expect(taskPids(dataDir).get(id)).toBe(pids.get(id));
    expect(await liveTaskIds(dataDir)).toEqual(hello);
    expect(await stopScheduler(second)).toBe(0);
  }, 90_000);

  it("names services by their rendered name; a refused file fails the start with nothing changed", async () => {
    const dataDir = newDir();
    const store = sqliteStore(dataDir);
    const services = servicesDir(dataDir, ["hello-world.yml", "by-file-name.yml"]);
    // Named as files here, as the directory (and a file in it) below.
    const first = await startScheduler(dataDir, staticArgs(store, [join(services, "hello-world.yml"), join(services, "by-file-name.yml")]));
    const c = adminClient(first.address);
    const hello = await completeTasks(c, FW);
    const [byFile] = await completeTasks(c, "by-file-name");
    expect(byFile).toMatch(/^by-file-name__one-0-task__/);
    expect((await c.listServices({})).services.map((x) => x.name)).toEqual(["by-file-name", FW]);
    const pids = taskPids(dataDir);
    expect(await stopScheduler(first)).toBe(0);

    // A cpu change for hello-world together with a file that does not parse: the start fails
    // naming that file, and hello-world was not touched (same tasks, same processes).
    writeFileSync(join(services, "broken.yml"), "name: broken\npods:\n  p:\n    count: 1\n    tasks:\n      t:\n        goal: RUNNING\n        cmd: sleep 1\n        cpus: lots\n        memory: 32\n");
    const refused = await runSchedulerToExit(dataDir, staticArgs(store, services, ["HELLO_CPUS=0.2"]));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/broken\.yml/);
    for (const id of [...hello, byFile!]) expect(isAlive(pids.get(id)!)).toBe(true);
    expect(await liveTaskIds(dataDir)).toEqual([...hello, byFile!].sort());

    // The directory and a file in it: that file counts once.
    rmSync(join(services, "broken.yml"));
    const second = await startScheduler(dataDir, staticArgs(store, [services, join(services, "hello-world.yml")]));
    expect(await completeTasks(adminClient(second.address), FW)).toEqual(hello);
    expect(taskPids(dataDir)).toEqual(pids);
    expect(await stopScheduler(second)).toBe(0);
  }, 90_000);

  it("a file that drops its `scheduler.user` line keeps the tasks' user: nothing relaunches", async () => {
    const dataDir = newDir();
    const store = sqliteStore(dataDir);
    const services = servicesDir(dataDir, []);
    writeFileSync(join(services, "hello-world.yml"), helloWithUser("root"));
    const first = await startScheduler(dataDir, staticArgs(store, services));
    const hello = await completeTasks(adminClient(first.address), FW);
    const pids = taskPids(dataDir);
    expect([...(await taskUsers(dataDir)).values()]).toEqual(["root", "root", "root"]);
    expect(await stopScheduler(first)).toBe(0);

    // Without the line the framework's user (nobody) would apply; the running service's (root) is kept.
    copyFileSync(join(FIXTURES, "hello-world.yml"), join(services, "hello-world.yml"));
    for (let start = 0; start < 2; start++) {
      const again = await startScheduler(dataDir, staticArgs(store, services));
      expect(await completeTasks(adminClient(again.address), FW)).toEqual(hello);
      expect(taskPids(dataDir)).toEqual(pids);
      expect([...(await taskUsers(dataDir)).values()]).toEqual(["root", "root", "root"]);
      expect(await stopScheduler(again)).toBe(0);
    }
  }, 90_000);

  it("refuses to start when two files render the same service name, naming it", async () => {
    const dataDir = newDir();
    const services = servicesDir(dataDir, ["hello-world.yml"]);
    copyFileSync(join(FIXTURES, "hello-world.yml"), join(services, "again.yml"));
    const run = await runSchedulerToExit(dataDir, staticArgs(sqliteStore(dataDir), services));
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    expect(run.stderr).toMatch(/hello-world/);
  }, 60_000);
});

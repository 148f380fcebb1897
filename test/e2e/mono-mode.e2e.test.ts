/**
 * Mono mode and the schema-version checks, with the scheduler as its own process on the local
 * agent: the API refuses PutService and UninstallService; pod control works, its state kept at
 * the schema-1 places across a restart; a spec file not named like the framework is refused;
 * `--uninstall` leaves nothing of the mono layout; a mono store (schema 1) is refused by a
 * dynamic start, by a static start with no service named like the framework and by one with a
 * file that does not build — each exits non-zero saying why and changes nothing — and once
 * migrated (schema 2) it is refused by a mono start.
 */
import * as grpc from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { PodAction } from "../../src/client/index.js";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { schema1Nodes } from "../../src/engine/store/layout.js";
import { liveTaskIds, reservedResources, sandboxIds, settled } from "../local/agent-world.js";
import { isAlive, killEverything, tempDataDir } from "../local/local-harness.js";
import { waitDead } from "../processes.js";
import { deployMono } from "./migration-scenarios.js";
import { FIXTURES, FW, adminClient, closeClients, completeTasks, dynamicArgs, eventually, monoArgs, readStore, schemaVersion, servicesDir, sqliteStore, staticArgs, tasksNamed } from "./modes-world.js";
import { killSchedulers, runSchedulerToExit, startScheduler, stopScheduler, taskPids } from "./scheduler-process.js";

const dirs: string[] = [];
afterEach(async () => {
  closeClients();
  killSchedulers();
  for (const d of dirs.splice(0)) await killEverything(d);
});

describe("--mode mono", () => {
  it("refuses PutService and UninstallService over the API, naming the mode", async () => {
    const dataDir = tempDataDir("mono");
    dirs.push(dataDir);
    const s = await startScheduler(dataDir, monoArgs(sqliteStore(dataDir)));
    const c = adminClient(s.address);
    await completeTasks(c, FW);
    const guard = { code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(/mono mode.*--service/) };
    await expect(c.putService({ name: "other", spec: "name: other\n", parameters: {} })).rejects.toMatchObject(guard);
    await expect(c.uninstallService({ name: FW })).rejects.toMatchObject(guard);
    expect((await c.listServices({})).services.map((x) => x.name)).toEqual([FW]);
    expect(await stopScheduler(s)).toBe(0);
  }, 60_000);

  it("a restarted mono scheduler re-adopts the same task processes", async () => {
    const dataDir = tempDataDir("mono");
    dirs.push(dataDir);
    const store = sqliteStore(dataDir);
    const mono = await deployMono(dataDir, store);
    const again = await startScheduler(dataDir, monoArgs(store));
    expect(await completeTasks(adminClient(again.address), FW)).toEqual(mono.ids);
    expect(taskPids(dataDir)).toEqual(mono.pids);
    expect(await liveTaskIds(dataDir)).toEqual(mono.ids);
    expect(await stopScheduler(again)).toBe(0);
    expect(await schemaVersion(store)).toBe("1");
  }, 60_000);

  it("pod control works and is kept at the schema-1 places: a paused pod stays paused across a restart", async () => {
    const dataDir = tempDataDir("mono");
    dirs.push(dataDir);
    const store = sqliteStore(dataDir);
    const mono = await deployMono(dataDir, store);
    const world1 = mono.ids.find((id) => id.includes("__world-1-server__"))!;
    const first = await startScheduler(dataDir, monoArgs(store));
    let c = adminClient(first.address);
    const paused = await c.controlPod({ name: FW, pod: "world-1", action: PodAction.PAUSE });
    expect(paused).toMatchObject({ changed: true, killed: [world1] });
    const pausedTask = await eventually("world-1 relaunched paused", async () => {
      const [t] = await tasksNamed(c, FW, "world-1-server");
      return t !== undefined && t.id !== world1 && t.state === "TASK_RUNNING" && t.id;
    });
    expect(await stopScheduler(first)).toBe(0);
    await readStore(store, async (p) => {
      expect(await p.children("Services")).toEqual([]); // nothing at the schema-2 paths
      expect((await p.get("PausedPods")) !== undefined || (await p.children("PausedPods")).length > 0).toBe(true);
    });

    const second = await startScheduler(dataDir, monoArgs(store));
    c = adminClient(second.address);
    const pods = (await c.listPods({ name: FW })).pods;
    expect(pods.map((p) => [p.name, p.paused])).toEqual([["hello-0", false], ["world-0", false], ["world-1", true]]);
    expect((await tasksNamed(c, FW, "world-1-server"))[0]?.id).toBe(pausedTask);
    await c.controlPod({ name: FW, pod: "world-1", action: PodAction.RESUME });
    await eventually("world-1 resumed", async () => {
      const [t] = await tasksNamed(c, FW, "world-1-server");
      return t !== undefined && t.id !== pausedTask && t.state === "TASK_RUNNING";
    });
    expect((await c.listPods({ name: FW })).pods.map((p) => p.paused)).toEqual([false, false, false]);
    // hello-0 and world-0 were never touched.
    const live = await liveTaskIds(dataDir);
    for (const id of mono.ids.filter((i) => i !== world1)) expect(live).toContain(id);
    expect(await stopScheduler(second)).toBe(0);
  }, 90_000);

  it("refuses a spec file whose service is not named like the framework", async () => {
    const dataDir = tempDataDir("mono");
    dirs.push(dataDir);
    const store = sqliteStore(dataDir);
    const run = await runSchedulerToExit(dataDir, ["--framework-name", FW, "--mode", "mono", "--service", join(FIXTURES, "foobar.yml")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/foobar/);
    expect(run.stderr).toMatch(/hello-world/);
    expect(await schemaVersion(store)).toBeUndefined(); // refused before the store was touched
  }, 60_000);

  it("--uninstall removes the mono service's tasks, reservations and every node of the mono layout", async () => {
    const dataDir = tempDataDir("mono");
    dirs.push(dataDir);
    const store = sqliteStore(dataDir);
    const mono = await deployMono(dataDir, store);
    const run = await runSchedulerToExit(dataDir, [...monoArgs(store), "--uninstall"], 30_000);
    expect(run.code).toBe(0);
    await waitDead([...mono.pids.values()]);
    for (const pid of mono.pids.values()) expect(isAlive(pid)).toBe(false);
    expect(await settled(() => reservedResources(dataDir), [])).toEqual([]);
    expect(await settled(() => sandboxIds(dataDir), [])).toEqual([]);
    await readStore(store, async (p) => {
      for (const { root } of schema1Nodes(FW)) {
        expect(await p.get(root)).toBeUndefined();
        expect(await p.children(root)).toEqual([]);
      }
      for (const node of ["FrameworkID", "Services", "ServiceList"]) expect(await p.children(node)).toEqual([]);
      expect(await p.get("FrameworkID")).toBeUndefined();
    });
  }, 90_000);

  it("schema checks: dynamic, static without a framework-named service and static with a broken file refuse schema 1; mono refuses schema 2", async () => {
    const dataDir = tempDataDir("mono");
    dirs.push(dataDir);
    const store = sqliteStore(dataDir);
    const mono = await deployMono(dataDir, store);
    const unchanged = async (): Promise<void> => {
      expect(await schemaVersion(store)).toBe("1");
      expect(await liveTaskIds(dataDir)).toEqual(mono.ids);
      for (const pid of mono.pids.values()) expect(isAlive(pid)).toBe(true);
    };

    const dynamic = await runSchedulerToExit(dataDir, dynamicArgs(store));
    expect(dynamic.code).toBe(1);
    expect(dynamic.stderr).toMatch(/static mode/);
    expect(dynamic.stderr).toMatch(/hello-world/);
    await unchanged();

    const noFramework = await runSchedulerToExit(dataDir, staticArgs(store, servicesDir(dataDir, ["foobar.yml"], "only-foobar")));
    expect(noFramework.code).toBe(1);
    expect(noFramework.stderr).toMatch(/hello-world/);
    await unchanged();

    // A spec that does not build fails the start before the store is migrated.
    const withBroken = servicesDir(dataDir, ["hello-world.yml"], "with-broken");
    writeFileSync(join(withBroken, "broken.yml"), readFileSync(join(FIXTURES, "foobar.yml"), "utf8").replace("cpus: 0.1", "cpus: lots"));
    const broken = await runSchedulerToExit(dataDir, staticArgs(store, withBroken));
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/broken\.yml/);
    await unchanged();

    // Migrated by a static start with hello-world; then mono is refused.
    const migrated = await startScheduler(dataDir, staticArgs(store, servicesDir(dataDir, ["hello-world.yml"])));
    expect(await completeTasks(adminClient(migrated.address), FW)).toEqual(mono.ids);
    expect(await stopScheduler(migrated)).toBe(0);
    expect(await schemaVersion(store)).toBe("2");
    const back = await runSchedulerToExit(dataDir, monoArgs(store));
    expect(back.code).toBe(1);
    expect(back.stderr).toMatch(/--restore-backup/);
    expect(await schemaVersion(store)).toBe("2");
    expect(await liveTaskIds(dataDir)).toEqual(mono.ids);
  }, 90_000);
});

/**
 * The README's migration as a new user tries it, with the examples: a mono scheduler runs
 * examples/hello-world.yml (persistent volumes, a health and a readiness check), then restarts in
 * static mode over a directory with copies of it and of examples/simple.yml. hello-world's tasks
 * keep running on their volumes (nothing relaunched, nothing written twice) and simple is added;
 * with hello's cpus changed in the file, hello-0-server is relaunched on the same volume.
 * The checks run every second instead of every 5 s, so the deploys take seconds.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServiceMode } from "../../src/client/index.js";
import { liveTaskIds, reservationOwners, sandboxOf, settled, volumeDirs } from "../local/agent-world.js";
import { isAlive, killEverything, tempDataDir } from "../local/local-harness.js";
import { FW, adminClient, closeClients, completeTasks, monoArgs, servicesDir, sqliteStore, staticArgs } from "./modes-world.js";
import { ROOT, killSchedulers, startScheduler, stopScheduler, taskPids } from "./scheduler-process.js";

const quick = (file: string): string => readFileSync(join(ROOT, "examples", file), "utf8").replace(/interval: 5/g, "interval: 1");

const dirs: string[] = [];
afterEach(async () => {
  closeClients();
  killSchedulers();
  for (const d of dirs.splice(0)) await killEverything(d);
});

describe("the README's migration with the examples", () => {
  it("hello-world (volumes, checks) keeps its tasks and volumes; simple is added", async () => {
    const dataDir = tempDataDir("migration-readme");
    dirs.push(dataDir);
    const store = sqliteStore(dataDir);
    const services = servicesDir(dataDir, []);
    writeFileSync(join(services, "hello-world.yml"), quick("hello-world.yml"));
    writeFileSync(join(services, "simple.yml"), quick("simple.yml"));
    const monoSpec = join(dataDir, "mono-hello-world.yml");
    writeFileSync(monoSpec, quick("hello-world.yml"));

    const mono = await startScheduler(dataDir, monoArgs(store, [], monoSpec));
    const ids = await completeTasks(adminClient(mono.address), FW);
    expect(ids).toHaveLength(3);
    const pids = taskPids(dataDir);
    const volumes = volumeDirs(dataDir).sort();
    expect(volumes).toHaveLength(5); // hello's one, world's two each
    expect(await stopScheduler(mono)).toBe(0);

    const multi = await startScheduler(dataDir, staticArgs(store, services));
    const c = adminClient(multi.address);
    const [simple] = await completeTasks(c, "simple");
    expect(simple).toMatch(/^simple__hello-0-server__/);
    expect(await completeTasks(c, FW)).toEqual(ids);
    await completeTasks(c, FW, "recovery");
    expect(await c.getScheduler({})).toMatchObject({ serviceMode: ServiceMode.STATIC, schemaVersion: 2 });
    expect((await c.listServices({})).services.map((x) => x.name)).toEqual([FW, "simple"]);
    for (const id of ids) {
      expect(taskPids(dataDir).get(id)).toBe(pids.get(id));
      expect(isAlive(pids.get(id)!)).toBe(true);
    }
    expect(await liveTaskIds(dataDir)).toEqual([...ids, simple!].sort());
    // The same volumes, each written once: no task ran twice.
    expect(volumeDirs(dataDir).sort()).toEqual(volumes);
    const hello = ids.find((id) => id.includes("__hello-0-server__"))!;
    expect(readFileSync(join(sandboxOf(dataDir, hello)!, "hello-container-path", "output"), "utf8")).toBe("hello\n");
    expect(await settled(() => [...reservationOwners(dataDir)].sort(), ["simple", undefined])).toEqual(["simple", undefined]);
    expect(await stopScheduler(multi)).toBe(0);
  }, 90_000);

  it("a cpu change in the migration relaunches hello-0-server on its volume (the mono reservation, resized)", async () => {
    const dataDir = tempDataDir("migration-readme");
    dirs.push(dataDir);
    const store = sqliteStore(dataDir);
    const monoSpec = join(dataDir, "mono-hello-world.yml");
    writeFileSync(monoSpec, quick("hello-world.yml"));
    const services = servicesDir(dataDir, []);
    // hello's cpus 0.1 → 0.2 (world's are 0.2 already).
    writeFileSync(join(services, "hello-world.yml"), quick("hello-world.yml").replace("cpus: 0.1", "cpus: 0.2"));

    const mono = await startScheduler(dataDir, monoArgs(store, [], monoSpec));
    const ids = await completeTasks(adminClient(mono.address), FW);
    const volumes = volumeDirs(dataDir).sort();
    expect(await stopScheduler(mono)).toBe(0);

    const multi = await startScheduler(dataDir, staticArgs(store, services));
    const c = adminClient(multi.address);
    const oldHello = ids.find((id) => id.includes("__hello-0-server__"))!;
    const now = await completeTasks(c, FW, "deploy", (got) => got.length === 3 && !got.includes(oldHello));
    const newHello = now.find((id) => id.includes("__hello-0-server__"))!;
    expect(now.filter((id) => id !== newHello)).toEqual(ids.filter((id) => id !== oldHello));
    // Same volume: the first run's line is still there, the relaunch added its own.
    expect(volumeDirs(dataDir).sort()).toEqual(volumes);
    await settled(() => readFileSync(join(sandboxOf(dataDir, newHello)!, "hello-container-path", "output"), "utf8"), "hello\nhello\n");
    expect(readFileSync(join(sandboxOf(dataDir, newHello)!, "hello-container-path", "output"), "utf8")).toBe("hello\nhello\n");
    expect(await stopScheduler(multi)).toBe(0);
  }, 90_000);
});

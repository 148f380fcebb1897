/**
 * The reference's migration scenarios (§5 scenarios 3 and 4) on the engine: a mono scheduler
 * restarted in static mode with its spec (a service named like the framework) and a second one.
 * Unchanged, its tasks keep running, with their user; with a cpu change, its task is relaunched.
 * A static set without a service named like the framework is refused and changes nothing.
 */
import { describe, expect, it } from "vitest";
import type { StaticServiceFile } from "../../src/engine/scheduler-parts.js";
import { decodeJson, decodeText } from "../../src/engine/store/codec.js";
import { listBackups } from "../../src/engine/store/migration.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";
import { dumpStore } from "./store-dump.js";

const HELLO_WORLD = example("hello-world.yml");
const SIMPLE = example("simple.yml");
/** The mono service's spec as a static file names it: like the framework, whatever the file's name. */
const SVC = HELLO_WORLD.replace("name: {{SERVICE_NAME}}", "name: {{FRAMEWORK_NAME}}");

function file(base: string, spec: string): StaticServiceFile {
  return { file: `/etc/corral/${base}.yml`, base, spec, parameters: {} };
}

const ids = (h: Harness, prefix: string): string[] =>
  h.cluster
    .tasks()
    .filter((t) => t.taskId.startsWith(prefix))
    .map((t) => t.taskId)
    .sort();

async function deployedMono(): Promise<Harness> {
  const h = await createHarness({ seed: 1, scheduler: { serviceMode: "mono", staticServices: [file("svc", HELLO_WORLD)] } });
  await h.deployAll(["corral"]);
  await h.scheduler.stop();
  return h;
}

function asStatic(mono: Harness, files: readonly StaticServiceFile[]): Promise<Harness> {
  return createHarness({ seed: 2, cluster: mono.cluster, clock: mono.clock, persister: mono.persister, scheduler: { serviceMode: "static", staticServices: files } });
}

describe("mono → static migration", () => {
  it("keeps the unchanged service's tasks and their user, and deploys the second service (scenario 3)", async () => {
    const mono = await deployedMono();
    const before = ids(mono, "corral__");
    expect(before).toHaveLength(3);

    const h = await asStatic(mono, [file("svc", SVC), file("foobar", SIMPLE)]);
    expect(h.scheduler.getScheduler()).toMatchObject({ serviceMode: "static", schemaVersion: 2 });
    expect(h.scheduler.listServices().map((s) => s.name)).toEqual(["corral", "foobar"]);
    await h.deployAll(["corral", "foobar"]);
    await h.advance(30_000);
    expect(ids(h, "corral__")).toEqual(before);
    expect(ids(h, "foobar__")).toHaveLength(1);
    expect(new Set(h.cluster.tasks().filter((t) => t.taskId.startsWith("corral__")).map((t) => t.info.command.user))).toEqual(new Set(["root"]));
    // Schema 2 now, the mono root nodes gone; the user is still root (the mono default).
    expect(decodeText((await h.persister.get("SchemaVersion"))!.data)).toBe("2");
    expect(await h.persister.get("ConfigTarget")).toBeUndefined();
    const target = decodeText((await h.persister.get("Services/corral/ConfigTarget"))!.data);
    expect(decodeJson((await h.persister.get(`Services/corral/Configurations/${target}`))!.data)).toMatchObject({ user: "root" });
  });

  it("relaunches the service's task when its spec changed (scenario 4)", async () => {
    const mono = await deployedMono();
    const hello = ids(mono, "corral__hello-0-server__");
    const world = ids(mono, "corral__world-");

    const h = await asStatic(mono, [file("svc", SVC.replace("cpus: 0.1", "cpus: 0.2")), file("foobar", SIMPLE)]);
    expect(h.scheduler.getService("corral").generation).toBe(2);
    await h.deployAll(["corral", "foobar"]);
    const now = ids(h, "corral__hello-0-server__");
    expect(now).toHaveLength(1);
    expect(now).not.toEqual(hello);
    expect(ids(h, "corral__world-")).toEqual(world);
  });

  it("refuses a static set without a service named like the framework; the mono store is left as it was", async () => {
    const mono = await deployedMono();
    const before = await dumpStore(mono.persister);
    const rootBefore = await mono.persister.get("ConfigTarget");
    await expect(asStatic(mono, [file("svc", HELLO_WORLD), file("foobar", SIMPLE)])).rejects.toMatchObject({
      code: "failed_precondition",
      message: expect.stringContaining("named like the framework, 'corral'") as string,
    });
    expect(await dumpStore(mono.persister)).toEqual(before);
    expect(await mono.persister.get("ConfigTarget")).toEqual(rootBefore);
  });

  it("refuses a static set with a file that does not build before migrating; the mono store stays schema 1", async () => {
    const mono = await deployedMono();
    const before = await dumpStore(mono.persister);
    const broken = SIMPLE.replace(/cpus: [0-9.]+/, "cpus: lots");
    expect(broken).not.toBe(SIMPLE);
    await expect(asStatic(mono, [file("svc", SVC), file("foobar", broken)])).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("foobar.yml") as string,
    });
    expect(await dumpStore(mono.persister)).toEqual(before);
    expect(decodeText((await mono.persister.get("SchemaVersion"))!.data)).toBe("1");
  });

  it("the whole-scheduler uninstall after a migration wipes the backup and its index too", async () => {
    const mono = await deployedMono();
    const migrated = await asStatic(mono, [file("svc", SVC)]);
    const backups = await listBackups(migrated.persister);
    expect(backups).toHaveLength(1);
    await migrated.scheduler.stop();
    const h = await createHarness({
      seed: 3,
      cluster: migrated.cluster,
      clock: migrated.clock,
      persister: migrated.persister,
      scheduler: { serviceMode: "static", staticServices: [file("svc", SVC)], uninstall: true },
    });
    for (let i = 0; i < 120 && h.scheduler.getScheduler().state !== "UNINSTALLED"; i++) await h.advance(1000);
    expect(h.scheduler.getScheduler().state).toBe("UNINSTALLED");
    for (const node of [...backups, "Backups", "Migration", "SchemaVersion", "FrameworkID"]) expect(await h.persister.get(node), node).toBeUndefined();
    expect(await h.persister.children(backups[0]!)).toEqual([]);
  });
});

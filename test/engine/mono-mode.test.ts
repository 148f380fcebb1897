/**
 * Mono mode on the simulated cluster with a memory store and a fake clock: the one spec file's
 * service, named like the framework, deployed in the schema-1 layout (its nodes at the root),
 * run as root when the spec names no user, left running by a restart; the admin API refuses
 * puts and uninstalls; the schema versions of the other modes are refused.
 */
import { describe, expect, it } from "vitest";
import { LABEL_NAMESPACE } from "../../src/domain/cluster.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { StaticServiceFile } from "../../src/engine/scheduler-parts.js";
import { decodeJson, decodeText, encodeText } from "../../src/engine/store/codec.js";
import { createHarness, example } from "../harness/harness.js";
import type { Harness, HarnessOptions } from "../harness/harness.js";

const SIMPLE = example("simple.yml");
const HELLO_WORLD = example("hello-world.yml");

function file(spec: string, base = "svc"): StaticServiceFile {
  return { file: `/etc/corral/${base}.yml`, base, spec, parameters: {} };
}

let seed = 1;

async function mono(spec: string, from?: { persister: Harness["persister"]; cluster?: Harness["cluster"]; clock?: Harness["clock"] }, more: HarnessOptions = {}): Promise<Harness> {
  return createHarness({
    seed: seed++,
    ...from,
    ...more,
    scheduler: { serviceMode: "mono", staticServices: [file(spec)], ...more.scheduler },
  });
}

const taskIds = (h: Harness): string[] => h.cluster.tasks().map((t) => t.taskId).sort();

async function stored<T>(h: Harness, path: string): Promise<T> {
  const node = await h.persister.get(path);
  if (!node) throw new Error(`no node ${path}`);
  return decodeJson<T>(node.data);
}

describe("mono mode", () => {
  it("deploys its one service, named like the framework, in the schema-1 layout, as root when the spec names no user", async () => {
    const h = await mono(HELLO_WORLD);
    expect(h.scheduler.listServices().map((s) => s.name)).toEqual(["corral"]);
    await h.deployAll(["corral"]);
    expect(taskIds(h).every((id) => id.startsWith("corral__"))).toBe(true);
    expect(taskIds(h)).toHaveLength(3);
    expect(h.scheduler.getScheduler()).toMatchObject({ serviceMode: "mono", schemaVersion: 1, services: 1 });
    // Schema 1: the service's nodes directly under the root.
    expect(decodeText((await h.persister.get("SchemaVersion"))!.data)).toBe("1");
    expect(await h.persister.children("Services")).toEqual([]);
    expect(await h.persister.children("ServiceList")).toEqual([]);
    const target = decodeText((await h.persister.get("ConfigTarget"))!.data);
    expect(await stored(h, `Configurations/${target}`)).toMatchObject({ name: "corral", user: "root" });
    expect(await stored(h, "ServiceContext")).toMatchObject({ name: "corral", defaultUser: "root", presets: { SERVICE_NAME: "corral", FRAMEWORK_NAME: "corral" } });
    expect((await h.persister.children("Tasks")).sort()).toEqual(["hello-0-server", "world-0-server", "world-1-server"]);
    // The tasks run as root; the reservations carry no namespace label (as the reference's mono schedulers write them).
    expect(new Set(h.cluster.tasks().map((t) => t.info.command.user))).toEqual(new Set(["root"]));
    const reserved = [...h.cluster.reservations().values()].flat();
    expect(reserved.length).toBeGreaterThan(0);
    expect(reserved.filter((r) => r.reservations?.at(-1)?.labels[LABEL_NAMESPACE] !== undefined)).toEqual([]);
  });

  it("a spec naming its user keeps it; the context has no default user", async () => {
    const h = await mono(`scheduler:\n  user: nobody\n${SIMPLE}`);
    const target = decodeText((await h.persister.get("ConfigTarget"))!.data);
    expect(await stored(h, `Configurations/${target}`)).toMatchObject({ user: "nobody" });
    expect(await stored<Record<string, unknown>>(h, "ServiceContext")).not.toHaveProperty("defaultUser");
  });

  it("a restart relaunches nothing", async () => {
    const first = await mono(HELLO_WORLD);
    await first.deployAll(["corral"]);
    const ids = taskIds(first);
    const launches = first.cluster.counts.launches;
    await first.scheduler.stop();

    const second = await mono(HELLO_WORLD, first);
    await second.deployAll(["corral"]);
    await second.advance(30_000);
    expect(taskIds(second)).toEqual(ids);
    expect(second.cluster.counts.launches).toBe(launches);
    expect(second.scheduler.getService("corral").generation).toBe(1);
  });

  it("a changed file updates the service on the next start", async () => {
    const first = await mono(SIMPLE);
    await first.deployAll(["corral"]);
    const ids = taskIds(first);
    await first.scheduler.stop();

    const second = await mono(SIMPLE.replace("cpus: 0.1", "cpus: 0.2"), first);
    expect(second.scheduler.getService("corral").generation).toBe(2);
    await second.deployAll(["corral"]);
    expect(taskIds(second)).toHaveLength(1);
    expect(taskIds(second)).not.toEqual(ids);
    // Still the schema-1 layout, still root.
    const target = decodeText((await second.persister.get("ConfigTarget"))!.data);
    expect(await stored(second, `Configurations/${target}`)).toMatchObject({ user: "root", pods: [expect.objectContaining({ type: "hello" })] });
    expect(await second.persister.children("Services")).toEqual([]);
  });

  it("refuses PutService and UninstallService naming mono mode; reads work", async () => {
    const h = await mono(SIMPLE);
    await h.deployAll(["corral"]);
    const refusal = {
      code: "failed_precondition",
      message: "the scheduler runs in mono mode: its service comes from its spec file (--service); change the file and restart it",
    };
    await expect(h.scheduler.putService({ name: "corral", spec: SIMPLE, parameters: {} })).rejects.toMatchObject(refusal);
    await expect(h.scheduler.uninstallService("corral")).rejects.toMatchObject(refusal);
    expect(h.scheduler.getService("corral").state).toBe("RUNNING");
    expect(h.scheduler.getPlan("corral", "deploy").status).toBe("COMPLETE");
    expect(await h.scheduler.listTasks("corral")).toHaveLength(1);
  });

  it("a file naming its service otherwise than the framework fails the start", async () => {
    const persister = new MemoryPersister();
    await expect(mono(SIMPLE.replace("{{SERVICE_NAME}}", "other"), { persister })).rejects.toMatchObject({
      message: expect.stringMatching(/names its service 'other'; in mono mode it must be named like the framework, 'corral'/) as string,
    });
    expect(await persister.get("SchemaVersion")).toBeUndefined();
  });

  it("refuses a multi store (schema 2); dynamic mode refuses a mono store (schema 1)", async () => {
    const multi = new MemoryPersister();
    await multi.multi([{ kind: "set", path: "SchemaVersion", data: encodeText("2") }]);
    await expect(mono(SIMPLE, { persister: multi })).rejects.toMatchObject({ code: "failed_precondition", message: expect.stringContaining("cannot go back to mono") as string });

    const first = await mono(SIMPLE);
    await first.scheduler.stop();
    await expect(createHarness({ persister: first.persister })).rejects.toMatchObject({
      code: "failed_precondition",
      message: expect.stringContaining("a mono store is migrated by starting in static mode with a service named 'corral'") as string,
    });
    expect(decodeText((await first.persister.get("SchemaVersion"))!.data)).toBe("1");
  });

  it("the whole-scheduler uninstall removes the service and wipes the schema-1 nodes", async () => {
    const first = await mono(HELLO_WORLD);
    await first.deployAll(["corral"]);
    await first.scheduler.stop();
    // The uninstall needs no spec file: it removes what is stored.
    const h = await mono(HELLO_WORLD, first, { scheduler: { uninstall: true, staticServices: [] } });
    for (let i = 0; i < 120 && h.scheduler.getScheduler().state !== "UNINSTALLED"; i++) await h.advance(1000);
    expect(h.scheduler.getScheduler().state).toBe("UNINSTALLED");
    expect(h.cluster.tasks()).toEqual([]);
    for (const node of ["SchemaVersion", "FrameworkID", "ConfigTarget", "ServiceContext", "ServiceRemoval"]) expect(await h.persister.get(node), node).toBeUndefined();
    for (const node of ["Tasks", "Configurations", "Properties"]) expect(await h.persister.children(node), node).toEqual([]);
  });
});

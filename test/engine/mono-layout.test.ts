/**
 * The mono scheduler's view of the store: the engine's schema-2 paths of the framework-named
 * service land at the root under their schema-1 names; everything else passes through.
 */
import { describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Persister, PersisterOp } from "../../src/engine/ports.js";
import { removalPath } from "../../src/engine/service-removal.js";
import * as layout from "../../src/engine/store/layout.js";
import { MonoLayoutPersister } from "../../src/engine/store/mono-layout.js";
import { StateStore } from "../../src/engine/store/state-store.js";
import { opBytes, readTree, wipeOpsBatches } from "../../src/engine/store/tree.js";
import { dumpAll, expectedDump, TopRecorder } from "./migration-fixture.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);
const set = (path: string, value: string): PersisterOp => ({ kind: "set", path, data: enc(value) });

const FW = "hello-world";

/** Every per-service path the engine writes (layout.ts, state-store.ts, removals) and its schema-1 place. */
const MAPPED: readonly (readonly [string, string])[] = [
  [layout.configTargetPath(FW), "ConfigTarget"],
  [layout.configurationPath(FW, "config-a"), "Configurations/config-a"],
  [layout.taskInfoPath(FW, "hello-0-server"), "Tasks/hello-0-server/TaskInfo"],
  [layout.taskStatusPath(FW, "hello-0-server"), "Tasks/hello-0-server/TaskStatus"],
  [layout.taskConfirmedPath(FW, "hello-0-server"), "Tasks/hello-0-server/Confirmed"],
  [layout.planOverridesPath(FW), "PlanOverrides"],
  [layout.pausedPodsPath(FW), "PausedPods"],
  [`${layout.serviceRoot(FW)}/Properties/last-completed-update-type`, "Properties/last-completed-update-type"],
  [layout.contextPath(FW), "ServiceContext"],
  [removalPath(FW), "ServiceRemoval"],
];

/** Paths that are not the mono service's: they pass through unchanged. */
const THROUGH: readonly string[] = [
  layout.SCHEMA_VERSION,
  layout.FRAMEWORK_ID,
  layout.SELECTED_SERVICES,
  `${layout.PLAN_EVENTS}/00000000000000000001`,
  layout.uninstallEventPath(7n),
  "lock/x-0001",
  layout.configTargetPath("other"),
  layout.contextPath("other"),
  `${layout.SERVICES}/hello-world-2/ConfigTarget`,
];

function mono(): { view: MonoLayoutPersister; raw: TopRecorder } {
  const raw = new TopRecorder();
  return { view: new MonoLayoutPersister(raw, FW), raw };
}

describe("MonoLayoutPersister", () => {
  it("keeps the framework-named service's nodes at the root under their schema-1 names", async () => {
    const { view, raw } = mono();
    await view.multi(MAPPED.map(([path], i) => set(path, `v${i}`)));
    expect(await dumpAll(raw)).toEqual(expectedDump(Object.fromEntries(MAPPED.map(([, root], i) => [root, `v${i}`]))));
    for (const [i, [path]] of MAPPED.entries()) expect(dec((await view.get(path))?.data)).toBe(`v${i}`);
    expect(await raw.children("Services")).toEqual([]);
    expect(await raw.children("ServiceList")).toEqual([]);
  });

  it("passes every other path through", async () => {
    const { view, raw } = mono();
    await view.multi(THROUGH.map((path) => set(path, path)));
    expect(await dumpAll(raw)).toEqual(expectedDump(Object.fromEntries(THROUGH.map((p) => [p, p]))));
    for (const path of THROUGH) expect(dec((await view.get(path))?.data)).toBe(path);
  });

  it("maps getMany, check and versioned set; getMany only when the inner store has it", async () => {
    const { view, raw } = mono();
    await view.multi([set(layout.configTargetPath(FW), "a"), set(layout.FRAMEWORK_ID, "f")]);
    const got = await view.getMany!([layout.FRAMEWORK_ID, layout.configTargetPath(FW), layout.serviceRoot(FW), layout.contextPath(FW)]);
    expect(got.map((v) => v && dec(v.data))).toEqual(["f", "a", "", undefined]);
    await view.multi([
      { kind: "check", path: layout.configTargetPath(FW), version: 0 },
      { kind: "set", path: layout.configTargetPath(FW), data: enc("b"), version: 0 },
    ]);
    expect(dec((await raw.get("ConfigTarget"))?.data)).toBe("b");
    await expect(view.multi([{ kind: "check", path: layout.configTargetPath(FW), version: 0 }])).rejects.toMatchObject({ code: "aborted" });

    const bare: Persister = { get: (p) => raw.get(p), children: (p) => raw.children(p), multi: (ops) => raw.multi(ops), close: async () => undefined };
    expect(new MonoLayoutPersister(bare, FW).getMany).toBeUndefined();
    expect(dec((await new MonoLayoutPersister(bare, FW).get(layout.configTargetPath(FW)))?.data)).toBe("b");
  });

  it("lists the one service under Services and ServiceList only while its nodes exist", async () => {
    const { view } = mono();
    expect(await view.children(layout.SERVICES)).toEqual([]);
    expect(await view.children(layout.SERVICE_LIST)).toEqual([]);
    expect(await view.get(layout.serviceRoot(FW))).toBeUndefined();
    await view.multi([set(layout.taskInfoPath(FW, "hello-0-server"), "{}"), set(layout.taskInfoPath(FW, "world-0-server"), "{}")]);
    expect(await view.children(layout.SERVICES)).toEqual([FW]);
    expect(await view.children(layout.SERVICE_LIST)).toEqual([]);
    expect(await view.children(layout.serviceRoot(FW))).toEqual(["Tasks"]);
    expect(await view.children(layout.tasksPath(FW))).toEqual(["hello-0-server", "world-0-server"]);
    await view.multi([set(layout.contextPath(FW), "{}"), set(layout.configTargetPath("alpha"), "x"), set(layout.contextPath("zulu"), "{}")]);
    expect(await view.children(layout.SERVICES)).toEqual(["alpha", FW]);
    expect(await view.children(layout.SERVICE_LIST)).toEqual([FW, "zulu"]);
    expect(await view.children(layout.serviceListEntry(FW))).toEqual(["Context"]);
    await view.multi([set(removalPath(FW), "{}")]);
    expect(await view.children(layout.serviceListEntry(FW))).toEqual(["Context", "Removal"]);
  });

  it("a service's removal (delete Services/<fw>, then ServiceList/<fw>) deletes its root nodes and nothing else", async () => {
    const { view, raw } = mono();
    const others = { SchemaVersion: "1", FrameworkID: "f", "PlanEvents/1": "e", SelectedServices: FW };
    await view.multi([...MAPPED.map(([path]) => set(path, "x")), ...Object.entries(others).map(([p, v]) => set(p, v))]);
    await view.multi([{ kind: "delete", path: layout.serviceRoot(FW) }]);
    expect(await dumpAll(raw)).toEqual(expectedDump({ ...others, ServiceContext: "x", ServiceRemoval: "x" }));
    await view.multi([{ kind: "delete", path: layout.serviceListEntry(FW) }]);
    expect(await dumpAll(raw)).toEqual(expectedDump(others));
  });

  it("the whole-scheduler uninstall (delete Services, ServiceList) wipes the mapped root nodes and nothing else", async () => {
    const { view, raw } = mono();
    const others = { SchemaVersion: "1", FrameworkID: "f", "PlanEvents/1": "e", "lock/x": "" };
    await view.multi([...MAPPED.map(([path]) => set(path, "x")), ...Object.entries(others).map(([p, v]) => set(p, v))]);
    await view.multi([
      { kind: "delete", path: layout.SERVICE_LIST },
      { kind: "delete", path: layout.SERVICES },
    ]);
    expect(await dumpAll(raw)).toEqual(expectedDump(others));
    expect(await view.children(layout.SERVICES)).toEqual([]);
  });

  it("reads Services and ServiceList as empty nodes while it lists the service under them: a tree walk sees it", async () => {
    const { view } = mono();
    expect(await view.get(layout.SERVICES)).toBeUndefined();
    await view.multi([set(layout.taskInfoPath(FW, "hello-0-server"), "{}"), set(layout.contextPath(FW), "{}")]);
    for (const top of [layout.SERVICES, layout.SERVICE_LIST]) expect(await view.get(top)).toEqual({ data: new Uint8Array(0), version: 0 });
    expect((await readTree(view, layout.SERVICES)).map((n) => n.path)).toEqual([
      layout.SERVICES,
      layout.serviceRoot(FW),
      layout.tasksPath(FW),
      `${layout.tasksPath(FW)}/hello-0-server`,
      layout.taskInfoPath(FW, "hello-0-server"),
    ]);
  });

  it("wipeOpsBatches: the whole-scheduler wipe in multis under the store's budget, through the view too", async () => {
    const others = { SchemaVersion: "1", FrameworkID: "f", "lock/x": "" };
    const tasks = Array.from({ length: 30 }, (_, i) => set(layout.taskInfoPath(FW, `hello-${i}-server`), "x".repeat(100)));
    const wipe = [layout.SERVICES, layout.SERVICE_LIST, layout.PLAN_EVENTS];
    for (const budget of [undefined, 1000]) {
      const raw = new TopRecorder();
      const limited: Persister = Object.assign(
        { get: (p: string) => raw.get(p), children: (p: string) => raw.children(p), multi: (ops: readonly PersisterOp[]) => raw.multi(ops), close: () => raw.close() },
        budget === undefined ? {} : { maxMultiBytes: budget },
      );
      const view = new MonoLayoutPersister(limited, FW);
      await view.multi([...MAPPED.map(([path]) => set(path, "x")), ...tasks, set("PlanEvents/1", "e"), ...Object.entries(others).map(([p, v]) => set(p, v))]);
      const batches = await wipeOpsBatches(view, wipe);
      if (budget === undefined) expect(batches).toEqual([wipe.map((path) => ({ kind: "delete", path }))]);
      else {
        expect(batches.length).toBeGreaterThan(5);
        for (const batch of batches) expect(batch.reduce((sum, op) => sum + opBytes(op), 0)).toBeLessThanOrEqual(budget);
      }
      for (const batch of batches) await view.multi(batch);
      expect(await dumpAll(raw), String(budget)).toEqual(expectedDump(others));
    }
    expect(await wipeOpsBatches(new MemoryPersister(), [])).toEqual([]);
  });

  it("a multi stays all-or-nothing", async () => {
    const { view, raw } = mono();
    await view.multi([set(layout.contextPath(FW), "c")]);
    await expect(view.multi([set(layout.configTargetPath(FW), "t"), { kind: "create", path: layout.contextPath(FW), data: enc("again") }])).rejects.toMatchObject({
      code: "already_exists",
    });
    expect(await raw.get("ConfigTarget")).toBeUndefined();
  });

  it("refuses a per-service node it has no schema-1 place for, and writes to the service's own group node", async () => {
    const { view } = mono();
    await expect(view.get(`${layout.serviceRoot(FW)}/Unknown`)).rejects.toThrow(/no place for 'Services\/hello-world\/Unknown'/);
    await expect(view.multi([set(`${layout.serviceListEntry(FW)}/Other`, "x")])).rejects.toThrow(/no place/);
    await expect(view.multi([set(layout.serviceRoot(FW), "x")])).rejects.toThrow(/cannot set/);
  });

  it("serves the state store: tasks written and read back through the engine's own code", async () => {
    const raw = new MemoryPersister();
    const view = new MonoLayoutPersister(raw, FW);
    const store = new StateStore(view, FW);
    const info = { name: "hello-0-server", taskId: { value: "hello-world__hello-0-server__u" } };
    await view.multi([
      ...store.storeTasksOps([info as never], new Set()),
      ...store.statusOps("hello-0-server", { state: "TASK_RUNNING" } as never, true),
      ...store.pausedPodsOps(new Set(["hello-0"])),
    ]);
    expect(await raw.children("Tasks/hello-0-server")).toEqual(["Confirmed", "TaskInfo", "TaskStatus"]);
    const [loaded] = await StateStore.loadMany(view, [FW]);
    expect(loaded).toEqual({ tasks: new Map([["hello-0-server", { info, status: { state: "TASK_RUNNING" }, confirmed: true }]]) });
    expect(await new StateStore(view, FW).loadSteering()).toEqual({ pausedPods: enc(JSON.stringify(["hello-0"])) });
    await view.multi(store.eraseTaskOps("hello-0-server"));
    expect(await raw.children("Tasks")).toEqual([]);
  });

  it("escapes a foldered framework name (team/fw → team__fw)", async () => {
    const raw = new MemoryPersister();
    const view = new MonoLayoutPersister(raw, "team/fw");
    await view.multi([set(layout.configTargetPath("team/fw"), "t"), set(layout.contextPath("team/fw"), "c")]);
    expect(dec((await raw.get("ConfigTarget"))?.data)).toBe("t");
    expect(dec((await raw.get("ServiceContext"))?.data)).toBe("c");
    expect(await view.children(layout.SERVICES)).toEqual(["team__fw"]);
  });
});

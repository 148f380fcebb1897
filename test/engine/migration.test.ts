/**
 * The mono → multi migration (dcos-commons §3.10, made atomic): the exact result, a crash at
 * every write of it (one multi, or the marker path) finished by the next start, the backups and
 * the rollback.
 */
import pino from "pino";
import type { Persister, PersisterOp } from "../../src/engine/ports.js";
import { describe, expect, it } from "vitest";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { removalPath } from "../../src/engine/service-removal.js";
import * as layout from "../../src/engine/store/layout.js";
import { MIGRATION } from "../../src/engine/store/layout.js";
import { FencedPersister } from "../../src/engine/store/fenced-persister.js";
import { MonoLayoutPersister } from "../../src/engine/store/mono-layout.js";
import { OP_OVERHEAD_BYTES, opBytes, treeDeleteBytes } from "../../src/engine/store/tree.js";
import { listBackups, migrateMonoToMulti, restoreBackup } from "../../src/engine/store/migration.js";
import { ensureSchema } from "../../src/engine/store/schema.js";
import type { SchemaCheck } from "../../src/engine/store/schema.js";
import { dumpAll, expectedDump, migratedNodes, schema1Nodes, storeWith } from "./migration-fixture.js";

const log = pino({ level: "silent" });
const dec = (b: Uint8Array | undefined): string | undefined => (b ? new TextDecoder().decode(b) : undefined);

const FW = "hello-world";
/** 2026-12-05 01:02:03 UTC. */
const NOW = Date.UTC(2026, 11, 5, 1, 2, 3);
const BACKUP = "backup-2026-12-05-010203";
/** Small enough that the fixture's store needs the marker path, in many multis. */
const SMALL = 2000;

/** `store`'s methods, bound (to override one of them). */
function bind(store: Persister): Persister {
  return { get: (p) => store.get(p), children: (p) => store.children(p), multi: (ops) => store.multi(ops), close: () => store.close() };
}

function staticStart(maxMultiBytes?: number, nowMs = NOW): SchemaCheck {
  return { mode: "static", frameworkName: FW, staticNames: ["foobar", FW], nowMs, log, ...(maxMultiBytes ? { migration: { maxMultiBytes } } : {}) };
}

describe("migrateMonoToMulti", () => {
  for (const [path, max] of [
    ["in one multi", undefined],
    ["with the marker", SMALL],
  ] as const) {
    it(`moves every schema-1 node into Services/<fw> and ServiceList/<fw>, byte for byte, and keeps a backup (${path})`, async () => {
      const nodes = schema1Nodes();
      nodes.ServiceRemoval = JSON.stringify({ startedMs: 5, released: [] });
      const store = await storeWith(nodes);
      const writes = new FaultInjectingPersister(store);
      const outcome = await ensureSchema(writes, staticStart(max));
      expect(outcome).toEqual({ version: 2, migratedBackup: BACKUP });
      if (max) expect(writes.writes).toBeGreaterThan(5);
      else expect(writes.writes).toBe(1);
      expect(await dumpAll(store)).toEqual(expectedDump(migratedNodes(nodes, FW, BACKUP)));
      expect(dec((await store.get("ServiceList/hello-world/Removal"))?.data)).toBe(nodes.ServiceRemoval);
      expect(await store.get(MIGRATION)).toBeUndefined();
      expect(await listBackups(store)).toEqual([BACKUP]);
    });
  }

  it("takes the marker path exactly when the multi would not fit", async () => {
    const nodes = schema1Nodes(40);
    const store = await storeWith(nodes);
    const writes = new FaultInjectingPersister(store);
    await migrateMonoToMulti(writes, FW, NOW, { maxMultiBytes: 64 * 1024 });
    expect(writes.writes).toBeGreaterThan(3);
    const big = await storeWith(nodes);
    const one = new FaultInjectingPersister(big);
    await migrateMonoToMulti(one, FW, NOW);
    expect(one.writes).toBe(1);
    expect(await dumpAll(big)).toEqual(await dumpAll(store));
  });

  it("takes the store's own budget (forwarded by the fenced, mono and fault-injecting wrappers) unless one is given; none means one multi", async () => {
    const nodes = schema1Nodes(40);
    const fence = { holds: () => true };
    const run = async (budget: number | undefined, options: { maxMultiBytes?: number } = {}): Promise<number> => {
      const store = await storeWith(nodes);
      const limited: Persister = budget === undefined ? store : Object.assign(bind(store), { maxMultiBytes: budget });
      const counted = new FaultInjectingPersister(new FencedPersister(new MonoLayoutPersister(limited, "unrelated"), fence));
      expect(counted.maxMultiBytes).toBe(budget);
      await migrateMonoToMulti(counted, FW, NOW, options);
      expect(await dumpAll(store)).toEqual(expectedDump(migratedNodes(nodes, FW, BACKUP)));
      return counted.writes;
    };
    expect(await run(undefined)).toBe(1);
    expect(await run(SMALL)).toBeGreaterThan(10);
    expect(await run(SMALL, { maxMultiBytes: 10 * 1024 * 1024 })).toBe(1);
    expect(await run(undefined, { maxMultiBytes: SMALL })).toBeGreaterThan(10);
  });

  it("counts a path's UTF-8 bytes", () => {
    const data = new Uint8Array(3);
    expect(opBytes({ kind: "set", path: "Tasks/a", data })).toBe(OP_OVERHEAD_BYTES + 7 + 3);
    expect(opBytes({ kind: "set", path: "Tasks/é", data })).toBe(OP_OVERHEAD_BYTES + 8 + 3);
    expect(opBytes({ kind: "delete", path: "Tasks/日本" })).toBe(OP_OVERHEAD_BYTES + 12);
    expect(treeDeleteBytes([{ path: "é", data }])).toBe(OP_OVERHEAD_BYTES + 2);
  });

  it("is fine with missing source nodes (the reference fails on them)", async () => {
    const nodes = { SchemaVersion: "1", ConfigTarget: "c", "Tasks/hello-0-server/TaskInfo": "{}" };
    for (const max of [undefined, 300]) {
      const store = await storeWith(nodes);
      await migrateMonoToMulti(store, FW, NOW, max ? { maxMultiBytes: max } : {});
      expect(await dumpAll(store)).toEqual(expectedDump(migratedNodes(nodes, FW, BACKUP)));
    }
  });

  it("replaces a same-named backup and leftovers under Services/<fw> from an earlier attempt", async () => {
    const nodes = schema1Nodes();
    for (const max of [undefined, SMALL]) {
      const store = await storeWith({
        ...nodes,
        [`${BACKUP}/junk`]: "old",
        [`${BACKUP}/Tasks/gone-0-server/TaskInfo`]: "old",
        "Services/hello-world/Tasks/gone-0-server/TaskInfo": "old",
        "ServiceList/hello-world/Removal": "old",
        Backups: JSON.stringify([BACKUP]),
      });
      await migrateMonoToMulti(store, FW, NOW, max ? { maxMultiBytes: max } : {});
      expect(await dumpAll(store)).toEqual(expectedDump(migratedNodes(nodes, FW, BACKUP)));
    }
  });

  it("escapes a foldered framework name: team/fw → Services/team__fw", async () => {
    const nodes = schema1Nodes(1, "team/fw");
    const store = await storeWith(nodes);
    const outcome = await ensureSchema(store, { mode: "static", frameworkName: "team/fw", staticNames: ["team/fw"], nowMs: NOW, log });
    expect(outcome.migratedBackup).toBe(BACKUP);
    expect(await dumpAll(store)).toEqual(expectedDump(migratedNodes(nodes, "team__fw", BACKUP)));
    expect(await store.children("Services")).toEqual(["team__fw"]);
  });

  it("puts what the mono view stored at the schema-2 paths the engine read it from", async () => {
    const store = await storeWith({ SchemaVersion: "1" });
    const view = new MonoLayoutPersister(store, FW);
    const paths = [
      layout.configTargetPath(FW),
      layout.configurationPath(FW, "c1"),
      layout.taskInfoPath(FW, "hello-0-server"),
      layout.taskStatusPath(FW, "hello-0-server"),
      layout.taskConfirmedPath(FW, "hello-0-server"),
      layout.planOverridesPath(FW),
      layout.pausedPodsPath(FW),
      layout.contextPath(FW),
      removalPath(FW),
    ];
    await view.multi(paths.map((path) => ({ kind: "set", path, data: new TextEncoder().encode(`value of ${path}`) })));
    await ensureSchema(store, staticStart());
    for (const path of paths) expect(dec((await store.get(path))?.data)).toBe(`value of ${path}`);
    expect(await store.children(layout.SERVICES)).toEqual([FW]);
  });

  it("refuses a store that is not schema 1", async () => {
    const store = await storeWith({ SchemaVersion: "2" });
    await expect(migrateMonoToMulti(store, FW, NOW)).rejects.toMatchObject({ code: "failed_precondition" });
  });
});

describe("a crash at any write of the migration", () => {
  for (const [path, max] of [
    ["the one multi", undefined],
    ["the marker path", SMALL],
  ] as const) {
    it(`is finished by the next start, to exactly the uncrashed result (${path})`, async () => {
      const nodes = schema1Nodes();
      const clean = await storeWith(nodes);
      const counter = new FaultInjectingPersister(clean);
      await ensureSchema(counter, staticStart(max));
      const want = await dumpAll(clean);
      expect(counter.writes).toBeGreaterThan(0);

      for (const mode of ["before", "after"] as const) {
        for (let k = 1; k <= counter.writes; k++) {
          const store = await storeWith(nodes);
          const crashing = new FaultInjectingPersister(store, { failFromWrite: k, mode });
          await expect(ensureSchema(crashing, staticStart(max))).rejects.toThrow(/injected fault/);
          // The restart: the same store, no faults (the same clock: a fresh attempt names the same backup).
          const outcome = await ensureSchema(store, staticStart(max));
          expect(outcome.version, `${mode} ${k}`).toBe(2);
          expect(await dumpAll(store), `${mode} ${k}`).toEqual(want);
        }
      }
    });
  }

  it("is finished even when a crash interrupts the resume too", async () => {
    const nodes = schema1Nodes(2);
    const clean = await storeWith(nodes);
    const counter = new FaultInjectingPersister(clean);
    await ensureSchema(counter, staticStart(SMALL));
    const want = await dumpAll(clean);
    for (const mode of ["before", "after"] as const) {
      for (let k = 1; k <= counter.writes; k++) {
        for (let j = 1; ; j++) {
          const store = await storeWith(nodes);
          await ensureSchema(new FaultInjectingPersister(store, { failFromWrite: k, mode }), staticStart(SMALL)).catch(() => undefined);
          const second = new FaultInjectingPersister(store, { failFromWrite: j, mode });
          const crashed = await ensureSchema(second, staticStart(SMALL)).then(
            () => false,
            () => true,
          );
          await ensureSchema(store, staticStart(SMALL));
          expect(await dumpAll(store), `${mode} ${k} then ${j}`).toEqual(want);
          if (!crashed) break;
        }
      }
    }
  });

  it("leaves SchemaVersion 2 with the marker while deleting the originals; a dynamic start finishes that", async () => {
    const nodes = schema1Nodes();
    const clean = await storeWith(nodes);
    await ensureSchema(clean, staticStart(SMALL));
    const want = await dumpAll(clean);
    let found = 0;
    for (let k = 1; ; k++) {
      const store = await storeWith(nodes);
      const crashing = new FaultInjectingPersister(store, { failFromWrite: k });
      if (await ensureSchema(crashing, staticStart(SMALL)).then(() => true, () => false)) break;
      const marker = dec((await store.get(MIGRATION))?.data);
      if (dec((await store.get("SchemaVersion"))?.data) !== "2" || marker === undefined) continue;
      found++;
      expect(JSON.parse(marker)).toEqual({ service: FW, backup: BACKUP, phase: "delete" });
      // Mono cannot go back over it; dynamic needs no static set for it.
      await expect(ensureSchema(store, { mode: "mono", frameworkName: FW, nowMs: NOW, log })).rejects.toMatchObject({ code: "failed_precondition" });
      const outcome = await ensureSchema(store, { mode: "dynamic", frameworkName: FW, nowMs: NOW + 60_000, log, migration: { maxMultiBytes: SMALL } });
      expect(outcome).toEqual({ version: 2, migratedBackup: BACKUP });
      expect(await dumpAll(store)).toEqual(want);
    }
    expect(found).toBeGreaterThan(1);
  });

  it("still copying: a dynamic start refuses it, a restore refuses it, a mono start drops it through its view", async () => {
    const nodes = schema1Nodes();
    const original = await dumpAll(await storeWith(nodes));
    const clean = await storeWith(nodes);
    await ensureSchema(clean, staticStart(SMALL));
    const want = await dumpAll(clean);
    const store = await storeWith(nodes);
    // The crash: at the write of SchemaVersion 2, after every copy.
    const multis: PersisterOp[][] = [];
    const recorder = await storeWith(nodes);
    await ensureSchema({ ...bind(recorder), multi: (ops) => (multis.push([...ops]), recorder.multi(ops)) }, staticStart(SMALL));
    const crashAt = 1 + multis.findIndex((ops) => ops.some((op) => op.path === layout.SCHEMA_VERSION && op.kind === "set"));
    expect(crashAt).toBeGreaterThan(3);
    await expect(ensureSchema(new FaultInjectingPersister(store, { failFromWrite: crashAt }), staticStart(SMALL))).rejects.toThrow(/injected/);
    expect(JSON.parse(dec((await store.get(MIGRATION))?.data) ?? "")).toMatchObject({ phase: "copy" });
    expect(await store.children("Services/hello-world")).not.toEqual([]);
    await expect(ensureSchema(store, { mode: "dynamic", frameworkName: FW, nowMs: NOW, log })).rejects.toThrow(/static mode/);
    await expect(restoreBackup(store, FW, BACKUP)).rejects.toThrow(/unfinished/);

    // The mono start, through the view the scheduler wraps its store in.
    const view = new MonoLayoutPersister(store, FW);
    const outcome = await ensureSchema(view, { mode: "mono", frameworkName: FW, nowMs: NOW, log, migration: { maxMultiBytes: SMALL } });
    expect(outcome).toEqual({ version: 1 });
    const after = await dumpAll(store);
    const outsideCopies = (dump: Record<string, string>): Record<string, string> =>
      Object.fromEntries(Object.entries(dump).filter(([p]) => !p.startsWith("Services") && !p.startsWith("ServiceList")));
    expect(outsideCopies(after)).toEqual(original);
    // The copies left in Services/ and ServiceList/ are hidden from the view...
    expect(await view.children(layout.SERVICES)).toEqual([FW]);
    await view.multi([{ kind: "delete", path: layout.contextPath(FW) }]);
    expect(await view.children(layout.SERVICE_LIST)).toEqual([]);
    await view.multi([{ kind: "set", path: layout.contextPath(FW), data: new TextEncoder().encode(nodes.ServiceContext as string) }]);
    // ...and the next migration starts afresh from the schema-1 nodes: the exact result.
    expect(await ensureSchema(store, staticStart(SMALL))).toEqual({ version: 2, migratedBackup: BACKUP });
    expect(await dumpAll(store)).toEqual(want);
  });
});

describe("backups", () => {
  it("restoreBackup brings the exact schema-1 tree back and keeps the backup; another service's leftovers stay", async () => {
    const nodes = schema1Nodes();
    for (const max of [undefined, SMALL]) {
      const store = await storeWith(nodes);
      await ensureSchema(store, staticStart());
      // The static scheduler ran: it changed the migrated service and added another.
      await store.multi([
        { kind: "set", path: "Services/hello-world/ConfigTarget", data: new TextEncoder().encode("config-c") },
        { kind: "set", path: "Services/foobar/ConfigTarget", data: new TextEncoder().encode("f") },
        { kind: "set", path: "ServiceList/foobar/Context", data: new TextEncoder().encode("{}") },
      ]);
      // A mono scheduler would leave the other service unmanaged: refused until it is removed.
      const withOther = await dumpAll(store);
      await expect(restoreBackup(store, FW, undefined, max ? { maxMultiBytes: max } : {})).rejects.toThrow(/services besides 'hello-world' \(foobar\)/);
      expect(await dumpAll(store)).toEqual(withOther);
      await store.multi([{ kind: "delete", path: "ServiceList/foobar" }]);
      const migrated = await dumpAll(store);
      expect(await restoreBackup(store, FW, undefined, max ? { maxMultiBytes: max } : {})).toEqual({ restored: BACKUP });
      const want = expectedDump({
        ...nodes,
        ...Object.fromEntries(Object.entries(migratedNodes(nodes, FW, BACKUP)).filter(([p]) => p.startsWith("backup-") || p === "Backups")),
        "Services/foobar/ConfigTarget": "f",
      });
      expect(await dumpAll(store)).toEqual(want);
      expect(migrated).not.toEqual(want);
      expect(await ensureSchema(store, { mode: "mono", frameworkName: FW, nowMs: NOW, log })).toEqual({ version: 1 });
    }
  });

  it("leaves no empty Services or ServiceList behind when the service was all they held", async () => {
    const nodes = schema1Nodes();
    const store = await storeWith(nodes);
    await ensureSchema(store, staticStart());
    await restoreBackup(store, FW);
    expect(await dumpAll(store)).toEqual(expectedDump({ ...nodes, ...Object.fromEntries(Object.entries(migratedNodes(nodes, FW, BACKUP)).filter(([p]) => p.startsWith("backup-") || p === "Backups")) }));
  });

  it("lists the backups oldest first and restores the newest by default, or the one named", async () => {
    const store = await storeWith(schema1Nodes());
    expect(await listBackups(store)).toEqual([]);
    await expect(restoreBackup(store, FW)).rejects.toMatchObject({ code: "not_found" });
    const times = [Date.UTC(2026, 11, 5, 1, 2, 3), Date.UTC(2026, 10, 1, 23, 0, 0), Date.UTC(2027, 0, 2, 3, 4, 5)];
    const names = ["backup-2026-12-05-010203", "backup-2026-11-01-230000", "backup-2027-01-02-030405"];
    for (const [i, t] of times.entries()) {
      await store.multi([{ kind: "set", path: "ConfigTarget", data: new TextEncoder().encode(`round-${i}`) }]);
      expect(await ensureSchema(store, staticStart(undefined, t))).toEqual({ version: 2, migratedBackup: names[i] });
      expect(await restoreBackup(store, FW, names[i])).toEqual({ restored: names[i] });
    }
    expect(await listBackups(store)).toEqual([...names].sort());
    /** Migrates again (a restore needs a multi store), naming the backup after `t`. */
    const migrateAgain = (t: number) => ensureSchema(store, staticStart(undefined, t));
    await migrateAgain(Date.UTC(2027, 1, 1));
    expect(await restoreBackup(store, FW, names[0])).toEqual({ restored: names[0] });
    expect(dec((await store.get("ConfigTarget"))?.data)).toBe("round-0");
    await migrateAgain(Date.UTC(2025, 1, 1));
    expect(await restoreBackup(store, FW)).toEqual({ restored: "backup-2027-02-01-000000" });
    expect(dec((await store.get("ConfigTarget"))?.data)).toBe("round-2");
    await migrateAgain(Date.UTC(2025, 1, 2));
    await expect(restoreBackup(store, FW, "backup-1999-01-01-000000")).rejects.toThrow(/no backup 'backup-1999-01-01-000000'.*backup-2026-11-01-230000/);
    // A backup the index does not know (the reference scheduler's) is restored when named.
    await store.multi([{ kind: "set", path: "backup-2020-01-01-000000/ConfigTarget", data: new TextEncoder().encode("reference") }]);
    expect(await restoreBackup(store, FW, "backup-2020-01-01-000000")).toEqual({ restored: "backup-2020-01-01-000000" });
    expect(dec((await store.get("ConfigTarget"))?.data)).toBe("reference");
    expect(await store.get("Tasks")).toBeUndefined();
    // A backup removed by hand is not listed any more.
    await store.multi([{ kind: "delete", path: names[2]! }]);
    expect(await listBackups(store)).toEqual(["backup-2025-02-01-000000", "backup-2025-02-02-000000", names[1], names[0], "backup-2027-02-01-000000"]);
  });
});

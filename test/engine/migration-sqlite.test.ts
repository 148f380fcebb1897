/**
 * The migration on the SQLite store: one transaction when it fits; with the marker, a crash
 * mid-way and a real restart (the database reopened) finish it. The result is the memory
 * store's, node for node.
 */
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { SqlitePersister } from "../../src/adapters/persister/sqlite-persister.js";
import type { Persister, PersisterOp } from "../../src/engine/ports.js";
import { MIGRATION, RESTORE } from "../../src/engine/store/layout.js";
import { restoreBackup } from "../../src/engine/store/migration.js";
import { ensureSchema } from "../../src/engine/store/schema.js";
import type { SchemaCheck } from "../../src/engine/store/schema.js";
import { tempDir } from "../use-temp-dir.js";
import { dumpAll, schema1Nodes, storeWith } from "./migration-fixture.js";

const root = tempDir("migration-sqlite");
let n = 0;
const log = pino({ level: "silent" });
const FW = "hello-world";
const NOW = Date.UTC(2026, 11, 5, 1, 2, 3);

function staticStart(maxMultiBytes?: number): SchemaCheck {
  return { mode: "static", frameworkName: FW, staticNames: [FW], nowMs: NOW, log, ...(maxMultiBytes ? { migration: { maxMultiBytes } } : {}) };
}

function sqliteWith(nodes: Readonly<Record<string, string | Uint8Array>>): { file: string; store: SqlitePersister; seed: Promise<void> } {
  const file = join(root, `t${++n}`, "corral.db");
  const store = SqlitePersister.open(file);
  const ops = Object.entries(nodes).map(([path, v]): PersisterOp => ({ kind: "set", path, data: typeof v === "string" ? new TextEncoder().encode(v) : v }));
  return { file, store, seed: store.multi(ops) };
}

describe("the migration on SQLite", () => {
  const nodes = schema1Nodes(4);

  it("in one transaction, then the rollback", async () => {
    const memory = await storeWith(nodes);
    await ensureSchema(memory, staticStart());
    const migrated = await dumpAll(memory);
    await restoreBackup(memory, FW);
    const restored = await dumpAll(memory);
    const tops = [...memory.tops];

    const { store, seed } = sqliteWith(nodes);
    await seed;
    const counted = new FaultInjectingPersister(store);
    await ensureSchema(counted, staticStart());
    expect(counted.writes).toBe(1);
    expect(await dumpAll(store, tops)).toEqual(migrated);
    await restoreBackup(store, FW);
    expect(await dumpAll(store, tops)).toEqual(restored);
    await store.close();
  });

  it("a store over 512 KiB in ONE transaction, migration and rollback: SQLite has no request limit", async () => {
    const big: Record<string, string | Uint8Array> = { ...nodes };
    // 40 TaskInfos of ~16 KB: ~640 KB of values, copied twice (backup and Services/).
    for (let i = 0; i < 40; i++) big[`Tasks/big-${i}-server/TaskInfo`] = JSON.stringify({ name: `big-${i}`, pad: "x".repeat(16_000) });
    const memory = await storeWith(big);
    await ensureSchema(memory, staticStart());
    const migrated = await dumpAll(memory);
    await restoreBackup(memory, FW);
    const restored = await dumpAll(memory);
    const tops = [...memory.tops, MIGRATION, RESTORE];

    const { store, seed } = sqliteWith(big);
    await seed;
    expect((store as Persister).maxMultiBytes).toBeUndefined();
    const counted = new FaultInjectingPersister(store);
    expect(await ensureSchema(counted, staticStart())).toMatchObject({ version: 2 });
    expect(counted.writes).toBe(1);
    expect(await dumpAll(store, tops)).toEqual(migrated);
    await restoreBackup(counted, FW);
    expect(counted.writes).toBe(2);
    expect(await dumpAll(store, tops)).toEqual(restored);
    await store.close();
  });

  it("with the marker: a crash mid-way, the database reopened, the migration finished", async () => {
    const memory = await storeWith(nodes);
    const counter = new FaultInjectingPersister(memory);
    await ensureSchema(counter, staticStart(1500));
    const want = await dumpAll(memory);
    const tops = [...memory.tops, MIGRATION];
    for (const k of [2, Math.floor(counter.writes / 2), counter.writes - 1]) {
      const { file, store, seed } = sqliteWith(nodes);
      await seed;
      await expect(ensureSchema(new FaultInjectingPersister(store, { failFromWrite: k, mode: "after" }), staticStart(1500))).rejects.toThrow(/injected/);
      expect(await store.get(MIGRATION)).toBeDefined();
      await store.close();
      const reopened = SqlitePersister.open(file);
      expect((await ensureSchema(reopened, staticStart(1500))).version).toBe(2);
      expect(await dumpAll(reopened, tops)).toEqual(want);
      await reopened.close();
    }
  });
});

/**
 * The mono → multi migration and its rollback on a real ZooKeeper server: the same result as on
 * the memory store, in one multi and with the marker (also when interrupted and resumed), and
 * with the default multi size for a store larger than one ZooKeeper request.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { Persister, PersisterOp } from "../../src/engine/ports.js";
import { MIGRATION } from "../../src/engine/store/layout.js";
import { listBackups, restoreBackup } from "../../src/engine/store/migration.js";
import { ensureSchema } from "../../src/engine/store/schema.js";
import type { SchemaCheck } from "../../src/engine/store/schema.js";
import { packOps } from "../../src/engine/store/tree.js";
import { dumpAll, schema1Nodes, storeWith } from "../engine/migration-fixture.js";
import type { TopRecorder } from "../engine/migration-fixture.js";
import { useZooKeeper } from "./use-zookeeper.js";

const zk = useZooKeeper();
const log = pino({ level: "silent" });
const FW = "hello-world";
const NOW = Date.UTC(2026, 11, 5, 1, 2, 3);
const BACKUP = "backup-2026-12-05-010203";
const SMALL = 2000;

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

function staticStart(maxMultiBytes?: number): SchemaCheck {
  return { mode: "static", frameworkName: FW, staticNames: [FW, "foobar"], nowMs: NOW, log, ...(maxMultiBytes ? { migration: { maxMultiBytes } } : {}) };
}

let roots = 0;
/** A fresh chroot holding `nodes`, written in requests ZooKeeper accepts. */
async function zkStoreWith(nodes: Readonly<Record<string, string | Uint8Array>>): Promise<ZooKeeperPersister> {
  const store = await ZooKeeperPersister.open(`${zk().connect}/corral-migration-${process.pid}-${++roots}`);
  cleanup.push(() => store.close());
  const ops = Object.entries(nodes).map(([path, v]): PersisterOp => ({ kind: "set", path, data: typeof v === "string" ? new TextEncoder().encode(v) : v }));
  for (const multi of packOps(ops, 256 * 1024)) await store.multi(multi);
  return store;
}

/** What the same steps leave in a memory store, and the top-level names to dump a store by. */
async function onMemory(nodes: Readonly<Record<string, string | Uint8Array>>, steps: (store: Persister) => Promise<void>): Promise<{ want: Record<string, string>; tops: string[]; writes: number; memory: TopRecorder }> {
  const memory = await storeWith(nodes);
  const counted = new FaultInjectingPersister(memory);
  await steps(counted);
  return { want: await dumpAll(memory), tops: [...memory.tops, MIGRATION], writes: counted.writes, memory };
}

describe("the migration on ZooKeeper", () => {
  const nodes = { ...schema1Nodes(3), ServiceRemoval: JSON.stringify({ startedMs: 1, released: [] }) };

  it("in one multi: the memory store's exact result, and the rollback", async () => {
    const migrate = (s: Persister): Promise<unknown> => ensureSchema(s, staticStart());
    const { want, tops, writes } = await onMemory(nodes, async (s) => void (await migrate(s)));
    expect(writes).toBe(1);
    const store = await zkStoreWith(nodes);
    expect(await ensureSchema(store, staticStart())).toEqual({ version: 2, migratedBackup: BACKUP });
    expect(await dumpAll(store, tops)).toEqual(want);
    expect(await listBackups(store)).toEqual([BACKUP]);

    const restored = await onMemory(nodes, async (s) => {
      await migrate(s);
      await restoreBackup(s, FW);
    });
    expect(await restoreBackup(store, FW)).toEqual({ restored: BACKUP });
    expect(await dumpAll(store, restored.tops)).toEqual(restored.want);
    expect(await ensureSchema(store, { mode: "mono", frameworkName: FW, nowMs: NOW, log })).toEqual({ version: 1 });
  }, 60_000);

  it("with the marker: interrupted mid-way (copying, and deleting the originals) and finished by the next start; the rollback in several multis", async () => {
    const { want, tops, writes } = await onMemory(nodes, async (s) => void (await ensureSchema(s, staticStart(SMALL))));
    expect(writes).toBeGreaterThan(5);
    for (const [k, mode, phase] of [
      [Math.floor(writes / 3), "after", "copy"],
      [writes - 1, "before", "delete"],
    ] as const) {
      const store = await zkStoreWith(nodes);
      await expect(ensureSchema(new FaultInjectingPersister(store, { failFromWrite: k, mode }), staticStart(SMALL))).rejects.toThrow(/injected fault/);
      const marker = await store.get(MIGRATION);
      expect(JSON.parse(new TextDecoder().decode(marker?.data))).toEqual({ service: FW, backup: BACKUP, phase });
      expect(await ensureSchema(store, staticStart(SMALL))).toEqual({ version: 2, migratedBackup: BACKUP });
      expect(await dumpAll(store, tops)).toEqual(want);

      if (phase !== "delete") continue;
      const restored = await onMemory(nodes, async (s) => {
        await ensureSchema(s, staticStart(SMALL));
        await restoreBackup(s, FW, BACKUP, { maxMultiBytes: SMALL });
      });
      const counted = new FaultInjectingPersister(store);
      await restoreBackup(counted, FW, BACKUP, { maxMultiBytes: SMALL });
      expect(counted.writes).toBeGreaterThan(3);
      expect(await dumpAll(store, restored.tops)).toEqual(restored.want);
    }
  }, 120_000);

  it("with the default multi size, a store larger than one ZooKeeper request (1 MiB) migrates", async () => {
    // 48 tasks of ~16 KB: ~770 KB of values, copied twice (backup and Services/) — three times a request's limit.
    const big: Record<string, string | Uint8Array> = { ...nodes };
    for (let i = 0; i < 48; i++) big[`Tasks/big-${i}-server/TaskInfo`] = JSON.stringify({ name: `big-${i}`, pad: "x".repeat(16_000 + i) });
    const { want, tops, writes } = await onMemory(big, async (s) => void (await ensureSchema(s, staticStart())));
    expect(writes).toBeGreaterThan(3);
    const store = await zkStoreWith(big);
    expect(await ensureSchema(store, staticStart())).toEqual({ version: 2, migratedBackup: BACKUP });
    expect(await dumpAll(store, tops)).toEqual(want);
  }, 120_000);
});

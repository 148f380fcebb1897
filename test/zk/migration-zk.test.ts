/**
 * The mono → multi migration and its rollback on a real ZooKeeper server: the same result as on
 * the memory store, in one multi and with the marker (also when interrupted and resumed), and
 * with the default multi size for a store larger than one ZooKeeper request.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FaultInjectingPersister } from "../../src/adapters/persister/fault-injecting-persister.js";
import { ZooKeeperPersister, zkMaxMultiBytes } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
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

/** A restore refuses a service being removed: the fixture's removal is taken back first. */
const endRemoval: PersisterOp = { kind: "delete", path: "ServiceList/hello-world/Removal" };

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
      await s.multi([endRemoval]);
      await restoreBackup(s, FW);
    });
    await store.multi([endRemoval]);
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
        await s.multi([endRemoval]);
        await restoreBackup(s, FW, BACKUP, { maxMultiBytes: SMALL });
      });
      await store.multi([endRemoval]);
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
    expect(writes).toBe(1); // the memory store has no request limit
    const store = await zkStoreWith(big);
    const counted = new FaultInjectingPersister(store);
    expect(await ensureSchema(counted, staticStart())).toEqual({ version: 2, migratedBackup: BACKUP });
    expect(counted.writes).toBeGreaterThan(3);
    expect(await dumpAll(store, tops)).toEqual(want);
  }, 120_000);

  it("many small nodes under a long chroot: the store's budget shrinks with its root, each request stays under jute.maxbuffer", async () => {
    // ~300-byte root: each op costs ~2.2 times what tree.ts counts for it, so 512 KiB counted would be ~1.1 MiB sent.
    const chroot = `/${"c".repeat(100)}/${"d".repeat(100)}/${"e".repeat(60)}-${process.pid}-${++roots}`;
    const small: Record<string, string | Uint8Array> = { ...nodes };
    for (let i = 0; i < 2000; i++) small[`Tasks/small-${i}-server/TaskInfo`] = "{}";
    const { want, tops } = await onMemory(small, async (s) => void (await ensureSchema(s, staticStart())));
    const store = await ZooKeeperPersister.open(`${zk().connect}${chroot}`);
    cleanup.push(() => store.close());
    expect(store.maxMultiBytes).toBe(zkMaxMultiBytes(chroot));
    expect(store.maxMultiBytes).toBeLessThan(256 * 1024);
    const ops = Object.entries(small).map(([path, v]): PersisterOp => ({ kind: "set", path, data: typeof v === "string" ? new TextEncoder().encode(v) : v }));
    for (const multi of packOps(ops, 64 * 1024)) await store.multi(multi); // the plan adds each new task's parent
    const counted = new FaultInjectingPersister(store);
    expect(await ensureSchema(counted, staticStart())).toEqual({ version: 2, migratedBackup: BACKUP });
    expect(counted.writes).toBeGreaterThan(3);
    expect(await dumpAll(store, tops)).toEqual(want);
  }, 240_000);

  it("the budget: 512 KiB counted under a short root; scaled by the worst op's ratio under a longer one", () => {
    expect(zkMaxMultiBytes("/")).toBe(512 * 1024);
    expect(zkMaxMultiBytes(`/${"r".repeat(74)}`)).toBe(512 * 1024); // 52 + 76 = 128: no slack needed yet
    expect(zkMaxMultiBytes(`/${"r".repeat(202)}`)).toBe(Math.floor((512 * 1024 * 128) / 256));
    // UTF-8: "é" is two bytes on the wire.
    expect(zkMaxMultiBytes(`/${"é".repeat(101)}`)).toBe(Math.floor((512 * 1024 * 128) / 256));
  });
});

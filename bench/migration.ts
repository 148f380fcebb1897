/**
 * Bench (p), the mono → multi migration (issue 16): mono (schema-1) stores of N tasks (realistic
 * nodes, bench/migration-store.ts) on SQLite and on ZooKeeper; per store and size:
 *   - migrate: `ensureSchema` in static mode with a service named like the framework, timed; its
 *     multis (and the time inside them), sets, deletes and value bytes written, and its path (one multi, or the `Migration`
 *     marker and multis under the store's budget);
 *   - restore: `restoreBackup` of the backup it made, timed, counted the same way;
 *   - floors: a plain read of the whole mono tree (what any migration must at least do: tree.ts
 *     `readTree` of every schema-1 root, after one untimed warm-up read) and, on SQLite, one
 *     transaction setting as many nodes with the same values as the migration copies (backup +
 *     schema-2 copy: 2 × the tree).
 * Figures only, no targets (issue 16 names none). One line per case.
 * Usage: npx tsx bench/migration.ts [N…=100 1000 10000] [--store sqlite|zk|all] [--zk-max N]
 */
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import { SqlitePersister } from "../src/adapters/persister/sqlite-persister.js";
import { ZooKeeperPersister } from "../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { Persister, PersisterOp } from "../src/engine/ports.js";
import { decodeText } from "../src/engine/store/codec.js";
import { MIGRATION, RESTORE, SCHEMA_VERSION, schema1Nodes, tasksPath } from "../src/engine/store/layout.js";
import { restoreBackup } from "../src/engine/store/migration.js";
import { ensureSchema } from "../src/engine/store/schema.js";
import { readTree } from "../src/engine/store/tree.js";
import type { TreeNode } from "../src/engine/store/tree.js";
import { startZooKeeper } from "../test/zk/zk-server.js";
import type { ZooKeeperServer } from "../test/zk/zk-server.js";
import { deployedTemplate } from "./fixture.js";
import { CountingPersister } from "./migration-probe.js";
import type { Counts } from "./migration-probe.js";
import { FRAMEWORK, fillMono } from "./migration-store.js";
import { mb, ms } from "./stats.js";

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const storeArg = flag("--store") ?? "all";
const sizes = args.filter((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith("--")).map(Number);
const ns = sizes.length > 0 ? sizes : [100, 1000, 10_000];
/** The largest store tried on ZooKeeper: the test server's 256 MB heap does not hold 10,000 tasks migrated. */
const zkMax = Number(flag("--zk-max") ?? Number.POSITIVE_INFINITY);
const stores = storeArg === "all" ? ["sqlite", "zk"] : [storeArg];
const log = pino({ level: "silent" });
const fmt = (n: number): string => n.toLocaleString("en-US");

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

/** The whole mono tree, as the migration reads it (every schema-1 root of the service). */
async function readMono(store: Persister): Promise<TreeNode[]> {
  return (await Promise.all(schema1Nodes(FRAMEWORK).map(({ root }) => readTree(store, root)))).flat();
}

const writes = (c: Counts, marker: string): string =>
  `${c.multis} multi${c.multis === 1 ? "" : "s"} (${c.written.has(marker) ? "marker path" : "one-multi path"}; ${ms(c.multiMs, 0)} in multis), ` +
  `${fmt(c.sets)} sets + ${fmt(c.deletes)} deletes, ${mb(c.bytes)} written`;

/** One case: fill, floors, migrate, restore; returns its line. */
async function runCase(kind: string, store: Persister, n: number, template: Awaited<ReturnType<typeof deployedTemplate>>, at: { phase: string }): Promise<string> {
  const fill = await timed(() => fillMono(store, template, n));
  at.phase = "read";
  const probe = new CountingPersister(store);
  await readMono(store); // warm-up: the first read of a tree pays for JIT and the store's cold caches
  const read = await timed(() => readMono(store));
  const tree = read.value;

  at.phase = "migrate";
  const migrate = await timed(() =>
    ensureSchema(probe, { mode: "static", frameworkName: FRAMEWORK, staticNames: [FRAMEWORK], nowMs: Date.now(), log }),
  );
  const migrated = probe.reset();
  const movedTasks = (await store.children(tasksPath(FRAMEWORK))).length;
  const check = migrate.value.version === 2 && movedTasks === n ? "" : ` CHECK FAILED: version ${migrate.value.version}, ${movedTasks} tasks moved`;

  at.phase = "restore";
  const restore = await timed(() => restoreBackup(probe, FRAMEWORK, migrate.value.migratedBackup));
  const restored = probe.reset();
  const [version, rootTasks] = await Promise.all([store.get(SCHEMA_VERSION), store.children("Tasks")]);
  const back = version && decodeText(version.data) === "1" && rootTasks.length === n ? "" : ` RESTORE CHECK FAILED: ${rootTasks.length} tasks at the root`;

  let writeFloor = "";
  if (kind === "sqlite") {
    // As many nodes as the migration copies, same values, one transaction (paths under a scratch root).
    at.phase = "write floor";
    const ops = ["a", "b"].flatMap((copy) => tree.map((node): PersisterOp => ({ kind: "set", path: `BenchFloor/${copy}/${node.path}`, data: node.data })));
    const w = await timed(() => store.multi(ops));
    await store.multi([{ kind: "delete", path: "BenchFloor" }]);
    writeFloor = `, one transaction of ${fmt(ops.length)} sets ${ms(w.ms, 0)}`;
  }
  const treeBytes = tree.reduce((sum, node) => sum + node.data.byteLength, 0);
  return (
    `${kind} ${fmt(n)} tasks (${fmt(tree.length)} nodes, ${mb(treeBytes)}; filled in ${ms(fill.ms, 0)}): ` +
    `migrate ${ms(migrate.ms, 0)}, ${writes(migrated, MIGRATION)}; ` +
    `restore ${ms(restore.ms, 0)}, ${writes(restored, RESTORE)}; ` +
    `floor: read of the mono tree ${ms(read.ms, 0)}${writeFloor}${check}${back}`
  );
}

const template = await deployedTemplate();
const sample = await fillMono(new MemoryPersister(), template, 1);
console.log(
  `(p) mono → multi migration: a task is a TaskInfo of ${fmt(sample.taskInfoBytes)} bytes, a TaskStatus of ${fmt(sample.taskStatusBytes)} bytes and Confirmed, ` +
    `plus ServiceContext, ConfigTarget and one configuration; framework '${FRAMEWORK}'`,
);
const dir = mkdtempSync(join(tmpdir(), "corral-migration-"));
let zk: ZooKeeperServer | undefined;
const started = performance.now();
try {
  for (const kind of stores) {
    if (kind === "zk") zk = await startZooKeeper();
    for (const n of ns) {
      if (kind === "zk" && n > zkMax) {
        console.log(
          `zk ${fmt(n)} tasks: left out (--zk-max ${zkMax}): the test ZooKeeper server (test/zk/zk-server.ts, -Xmx256m) runs out of heap ` +
            "(java.lang.OutOfMemoryError, then CONNECTION_LOSS) holding a 10,000-task mono tree and the migration's copies",
        );
        continue;
      }
      const file = join(dir, `m${n}`, "corral.db");
      const store: Persister = kind === "zk" ? await ZooKeeperPersister.open(`${zk!.connect}/bench-migration-${n}`) : SqlitePersister.open(file);
      const at = { phase: "fill" };
      try {
        const line = await runCase(kind, store, n, template, at);
        // WAL mode: what is not checkpointed yet is in the -wal file.
        const size = (f: string): number => (existsSync(f) ? statSync(f).size : 0);
        console.log(kind === "sqlite" ? `${line} [db + wal ${mb(size(file) + size(`${file}-wal`))}]` : line);
      } catch (err) {
        console.log(`${kind} ${fmt(n)} tasks: FAILED in ${at.phase}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        await store.close();
      }
    }
    await zk?.stop();
    zk = undefined;
  }
  console.log(
    `'migrate' is ensureSchema (static mode) on the mono store; 'restore' is restoreBackup of its backup. ` +
      `The read floor reads the whole mono tree once (tree.ts readTree, after a warm-up read). Whole section ${ms(performance.now() - started, 0)}.`,
  );
} finally {
  await zk?.stop();
  rmSync(dir, { recursive: true, force: true });
}

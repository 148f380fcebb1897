/**
 * Bench (d): task-status updates persisted per second on ZooKeeper through the engine's batched
 * path — cluster update → runner queue → event client → ONE multi per batch → acknowledge —
 * beside the raw parallel setData rate on the same server (bench/zk-raw-child.ts). Target:
 * ≥ 5,000 statuses/s. Printed, never asserted.
 *
 * Setup: a real ZooKeeper server (test/zk/zk-server.ts); 1,000 stored hello-world services
 * (3,000 tasks, copies of one deployed for real, bench/fixture.ts); the scheduler recovers them
 * with a recording cluster stub and a fake clock (no offer cycles run: only updates are timed).
 * Then UPDATES TASK_RUNNING updates (a fresh uuid each, round-robin over the tasks) are handed to
 * the runner at once; timed until the last one is acknowledged. Every acknowledged status was
 * stored first (the runner acknowledges only after its batch's multi returned).
 * Usage: npx tsx bench/zk-status.ts [updates=30000] [services=1000]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { FakeClock, SeededRandom } from "../src/adapters/fake-clock.js";
import { ZooKeeperPersister } from "../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { TaskStatus } from "../src/domain/cluster.js";
import type { ClusterDriver, ClusterEvents, Persister, PersisterOp, Versioned } from "../src/engine/ports.js";
import { MAX_STATUS_BATCH } from "../src/engine/runner.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../src/engine/scheduler.js";
import { startZooKeeper } from "../test/zk/zk-server.js";
import { deployedTemplate, fillServices, serviceName } from "./fixture.js";
import { ms, summarize, table, verdict } from "./stats.js";

const UPDATES = Number(process.argv[2] ?? 30_000);
const SERVICES = Number(process.argv[3] ?? 1000);
const TARGET = 5000;

class StubDriver implements ClusterDriver {
  events: ClusterEvents | undefined;
  acked = 0;
  onAck: (() => void) | undefined;
  async subscribe(_f: unknown, events: ClusterEvents): Promise<void> {
    this.events = events;
  }
  async accept(): Promise<void> {}
  async decline(): Promise<void> {}
  async kill(): Promise<void> {}
  async acknowledge(): Promise<void> {
    this.acked++;
    this.onAck?.();
  }
  async reconcile(): Promise<void> {}
  async revive(): Promise<void> {}
  async suppress(): Promise<void> {}
  async teardown(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Times each multi and counts the status writes in it. */
class Timed implements Persister {
  readonly multis: { ms: number; statuses: number }[] = [];
  constructor(readonly inner: Persister) {}
  get(path: string): Promise<Versioned | undefined> {
    return this.inner.get(path);
  }
  children(path: string): Promise<string[]> {
    return this.inner.children(path);
  }
  async multi(ops: readonly PersisterOp[]): Promise<void> {
    const t = performance.now();
    await this.inner.multi(ops);
    this.multis.push({ ms: performance.now() - t, statuses: ops.filter((o) => o.path.endsWith("/TaskStatus")).length });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const zk = await startZooKeeper();
try {
  const raw = (mode: string): { rate: number; n: number; bytes: number } => {
    const child = fileURLToPath(new URL("./zk-raw-child.ts", import.meta.url));
    const r = spawnSync(process.execPath, ["--import", "tsx", child, zk.connect, "10000", "280", mode], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { rate: number; n: number; bytes: number };
  };
  const plain = raw("plain");
  const patched = raw("patched");

  const template = await deployedTemplate();
  const store = await ZooKeeperPersister.open(`${zk.connect}/bench-status`);
  await fillServices(store, template, SERVICES);
  const timed = new Timed(store);
  const driver = new StubDriver();
  const scheduler = new MultiServiceScheduler(
    { persister: timed, driver, clock: new FakeClock(), random: new SeededRandom(1), log: pino({ level: "silent" }) },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "r", principal: "p" } },
  );
  await scheduler.start();
  driver.events!.subscribed("bench-framework");
  await scheduler.runner.queue.idle();
  timed.multis.length = 0;

  const base = template.statuses.map((s) => JSON.parse(s.text) as TaskStatus);
  const updates: TaskStatus[] = Array.from({ length: UPDATES }, (_, i) => {
    const t = base[i % base.length]!;
    const name = serviceName(Math.floor(i / base.length) % SERVICES);
    return { ...t, taskId: t.taskId.replace(/^[^_]+/, name), uuid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, timestampMs: i };
  });
  const allAcked = new Promise<void>((resolve) => (driver.onAck = () => driver.acked === UPDATES && resolve()));
  const t = performance.now();
  for (const u of updates) driver.events!.update(u);
  await allAcked;
  const elapsed = performance.now() - t;
  const rate = UPDATES / (elapsed / 1000);
  const m = summarize(timed.multis.map((x) => x.ms));
  const sizes = timed.multis.map((x) => x.statuses);

  console.log(`(d) ZooKeeper task-status updates: ${UPDATES} updates over ${SERVICES * base.length} tasks of ${SERVICES} services, ${Buffer.byteLength(template.statuses[0]!.text)}-byte statuses`);
  console.log(
    table([
      ["path", "ops", "per second", "notes"],
      ["raw parallel setData, node-zookeeper-client alone", String(plain.n), plain.rate.toFixed(0), `${plain.bytes}-byte values, all issued at once`],
      ["raw parallel setData, with Corral's transport patches", String(patched.n), patched.rate.toFixed(0), "guard.ts: no reply re-copying, one write per turn"],
      [
        "engine: update → batched multi → acknowledge",
        String(UPDATES),
        rate.toFixed(0),
        `${timed.multis.length} multis of ≤ ${MAX_STATUS_BATCH} (mean ${(UPDATES / timed.multis.length).toFixed(0)}), multi p50 ${ms(m.p50, 1)} p99 ${ms(m.p99, 1)}`,
      ],
    ]),
  );
  console.log(`statuses persisted and acknowledged: ${rate.toFixed(0)}/s  (target ≥ ${TARGET}/s: ${verdict(rate >= TARGET)}); ${(rate / plain.rate).toFixed(1)}× the raw setData rate`);
  if (Math.min(...sizes) < 1) console.log("note: some multis carried no status");
  await scheduler.stop();
  await store.close();
} finally {
  await zk.stop();
}

/**
 * Recovery time (issue 3): from scheduler start to every stored service rebuilt and serving,
 * for N stored services (hello-world, 3 tasks each, with TaskInfos and RUNNING statuses), on
 * SQLite and on ZooKeeper. The store is filled through the same store code the scheduler
 * writes with, one multi-operation per service; only the start is timed.
 * Usage: tsx bench/recovery.ts N [sqlite|zk]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { FakeClock, SeededRandom } from "../src/adapters/fake-clock.js";
import { SimulatedCluster } from "../src/adapters/cluster/simulated-cluster.js";
import { SqlitePersister } from "../src/adapters/persister/sqlite-persister.js";
import { ZooKeeperPersister } from "../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { Persister, PersisterOp } from "../src/engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../src/engine/scheduler.js";
import { specServiceFactory } from "../src/engine/service-factory.js";
import { encodeJson } from "../src/engine/store/codec.js";
import * as layout from "../src/engine/store/layout.js";
import { ServiceStore } from "../src/engine/store/service-store.js";
import { startZooKeeper } from "../test/zk/zk-server.js";

const n = Number(process.argv[2] ?? 1000);
const kind = process.argv[3] ?? "sqlite";
const spec = readFileSync(new URL("../examples/hello-world.yml", import.meta.url), "utf8");

async function fill(store: Persister): Promise<void> {
  const services = new ServiceStore(store);
  for (let i = 0; i < n; i++) {
    const name = `svc-${String(i).padStart(5, "0")}`;
    const context = { name, spec, parameters: {}, generation: 1, createdMs: 0, updatedMs: 0 };
    const built = specServiceFactory.build(context);
    const ops: PersisterOp[] = services.addOps(context, `cfg-${i}`, built.spec);
    for (const task of ["hello-0-server", "world-0-server", "world-1-server"]) {
      const taskId = `${name}__${task}__00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
      const info = { name: task, taskId, agentId: "a", resources: [], command: { value: "x", environment: {} }, labels: { target_configuration: `cfg-${i}` } };
      ops.push({ kind: "set", path: layout.taskInfoPath(name, task), data: encodeJson(info) });
      ops.push({ kind: "set", path: layout.taskStatusPath(name, task), data: encodeJson({ taskId, state: "TASK_RUNNING", timestampMs: 0 }) });
    }
    await store.multi(ops);
  }
}

const zk = kind === "zk" ? await startZooKeeper() : undefined;
const open = async (): Promise<Persister> =>
  zk ? ZooKeeperPersister.open(`${zk.connect}/bench-recovery-${n}`) : SqlitePersister.open(join(dir, "corral.db"));
const dir = mkdtempSync(join(tmpdir(), "corral-recovery-"));
try {
  const filling = await open();
  const t0 = performance.now();
  await fill(filling);
  const fillMs = performance.now() - t0;
  await filling.close();

  const store = await open();
  const clock = new FakeClock();
  const random = new SeededRandom(1);
  const cluster = new SimulatedCluster({ agents: 1, clock, random });
  const started = performance.now();
  const scheduler = new MultiServiceScheduler(
    { persister: store, driver: cluster, clock, random, log: pino({ level: "silent" }) },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "r", principal: "p" } },
  );
  await scheduler.start();
  const recoveryMs = performance.now() - started;
  const listed = scheduler.listServices().length;
  const target = n >= 10_000 ? 10_000 : 1000;
  console.log(`store ${kind}: ${n} services filled in ${fillMs.toFixed(0)} ms`);
  console.log(
    `recovery (start → ${listed} services rebuilt, tasks loaded): ${recoveryMs.toFixed(0)} ms  target ≤ ${target} ms: ${recoveryMs <= target ? "met" : "MISSED"}`,
  );
  await scheduler.stop();
  cluster.stop();
  await store.close();
} finally {
  await zk?.stop();
}

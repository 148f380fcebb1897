/**
 * One measured restart for bench (e): a fresh Node process opens the store that bench/recovery.ts
 * filled and starts the scheduler on it. Prints one JSON line: the time from opening the store
 * to `scheduler.start()` resolved with every service rebuilt (the gRPC server would listen right
 * after), the time since this process started (module loading included), and how many services
 * came back with their deploy plan COMPLETE.
 * Usage: node --import tsx bench/recovery-child.ts <sqlite-file | zk://host:port/root>
 */
import pino from "pino";
import { FakeClock, SeededRandom } from "../src/adapters/fake-clock.js";
import { SimulatedCluster } from "../src/adapters/cluster/simulated-cluster.js";
import { SqlitePersister } from "../src/adapters/persister/sqlite-persister.js";
import { ZooKeeperPersister } from "../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { Persister } from "../src/engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../src/engine/scheduler.js";

const target = process.argv[2]!;
const loadedMs = performance.now(); // since process start (performance.timeOrigin)
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const store: Persister = target.startsWith("zk://") ? await ZooKeeperPersister.open(target) : SqlitePersister.open(target);
const openMs = performance.now() - t0;
const clock = new FakeClock();
const random = new SeededRandom(1);
const cluster = new SimulatedCluster({ agents: 1, clock, random });
const scheduler = new MultiServiceScheduler(
  { persister: store, driver: cluster, clock, random, log: pino({ level: "silent" }) },
  { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "r", principal: "p" } },
);
await scheduler.start();
const recoveryMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
// This process's CPU over the same span: steadier than wall time on a shared machine.
const cpuMs = (cpu.user + cpu.system) / 1000;
const sinceProcessStartMs = performance.now();
const views = scheduler.listServices();
const complete = views.filter((v) => v.name && scheduler.getPlan(v.name, "deploy").status === "COMPLETE").length;
const quarantined = views.filter((v) => v.state === "QUARANTINED").length;
const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
process.stdout.write(
  `${JSON.stringify({ openMs, recoveryMs, cpuMs, sinceProcessStartMs, loadedMs, services: views.length, complete, quarantined, heapMb })}\n`,
);
await scheduler.stop();
cluster.stop();
await store.close();
process.exit(0);

/**
 * `npm run bench`: runs each section in its own child process (fresh heap, own event loop) one
 * after the other and prints the machine first. Figures are printed, never asserted; a missed
 * target prints MISSED, and a section's failure is reported while the next one still runs.
 *   a  gRPC PutService vs the empty call and the store's raw write: memory, SQLite, ZooKeeper
 *   b  deploy 1,000 hello-world services        c  the same with 10,000 (no target)
 *   d  ZooKeeper task-status updates persisted per second (batched) vs raw parallel setData
 *   e  recovery of 1,000 and 10,000 stored services on SQLite and ZooKeeper
 *   f  WatchUninstall: event latency to 1,000 concurrent watchers; memory of 1,000 idle ones
 *   g  service removal: UninstallService → COMPLETED for 1, 100 and 1,000 services (simulated cluster)
 *   h  bad input: 16 clients of bad and maximal PutService requests, health-check latency beside;
 *      spec builds in a worker thread, and (h') on the event loop as before issue 10
 *   i  the kill -9 run: 50 iterations, time to healthy and to converged per kill window
 *   j  the corral CLI: corral list wall time beside a bare node -e 0 (target ≤ 300 ms and ≤ 3 ×)
 *   k  reconfiguration: 1,000 running services re-put with one pod changed, beside a fresh deploy (target ≤ 3 s)
 *   o  the local agent: 50 and 500 one-task services beside direct spawns, removal, agent memory per
 *      task, offers/s and ACCEPT latency with 100 agents, resubscription
 *   p  mono → multi migration (issue 16): ensureSchema and restoreBackup on mono stores of 100, 1,000
 *      and 10,000 tasks, SQLite and ZooKeeper (10,000 left out: the test server's heap), beside a plain
 *      read of the tree and one write transaction
 *   q  observability overhead: PutService p50 with metrics + tracing on vs off, interleaved, 3 pairs of processes (target ≤ 5 %)
 *   q2 the same instrumentation on the same work (fake clock, in-process): CPU and put p50 by mode
 *   r  failover (issue 17): three replicas on ZooKeeper, kill -9 the leader, time until another answers
 *      PutService OK, 20 trials at the default --zk-session-timeout 10 (target p99 ≤ timeout + 2 s)
 * Usage: npx tsx bench/run.ts [a|b|c|d|e|f|g|h|i|j|k|p|q|r …]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { machine } from "./stats.js";

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

const sections: { key: string; title: string; args: string[]; env?: Record<string, string> }[] = [
  { key: "a", title: "(a) gRPC PutService, memory store", args: ["--import", "tsx", here("./grpc-put.ts")], env: { BENCH_STORE: "memory" } },
  { key: "a", title: "(a') gRPC PutService, SQLite store (the default; fsync per group commit)", args: ["--import", "tsx", here("./grpc-put.ts")], env: { BENCH_STORE: "sqlite" } },
  { key: "a", title: "(a'') gRPC PutService, ZooKeeper store", args: ["--import", "tsx", here("./grpc-put.ts")], env: { BENCH_STORE: "zk" } },
  { key: "b", title: "(b) deploy 1,000 hello-world services", args: ["--expose-gc", "--import", "tsx", here("./deploy-scale.ts"), "1000", "120"] },
  { key: "c", title: "(c) deploy 10,000 hello-world services (no target)", args: ["--expose-gc", "--import", "tsx", here("./deploy-scale.ts"), "10000", "120"] },
  { key: "d", title: "(d) ZooKeeper task-status updates persisted per second", args: ["--import", "tsx", here("./zk-status.ts")] },
  { key: "e", title: "(e) recovery: 1,000 and 10,000 stored services, SQLite and ZooKeeper", args: ["--import", "tsx", here("./recovery.ts"), "1000", "10000"] },
  { key: "f", title: "(f) WatchUninstall: 1,000 concurrent watchers, SQLite store", args: ["--import", "tsx", here("./uninstall-watch.ts"), "1000"] },
  { key: "f", title: "(f') the same on the memory store (no fsync: the fan-out alone)", args: ["--import", "tsx", here("./uninstall-watch.ts"), "1000"], env: { BENCH_STORE: "memory" } },
  { key: "g", title: "(g) service removal: 1, 100 and 1,000 services, simulated cluster", args: ["--import", "tsx", here("./uninstall-scale.ts"), "1", "100", "1000"] },
  { key: "h", title: "(h) bad input: what one request of each input class costs the thread that handles it", args: ["--import", "tsx", here("./bad-input.ts"), "builds"] },
  { key: "h", title: "(h) bad input: 16 clients, bad and maximal PutService requests, Health/Check beside (spec builds in a worker)", args: ["--import", "tsx", here("./bad-input.ts")] },
  { key: "h", title: "(h') the same with --spec-workers 0 (spec builds on the event loop, as before issue 10)", args: ["--import", "tsx", here("./bad-input.ts")], env: { BENCH_SPEC_WORKERS: "0" } },
  { key: "i", title: "(i) kill -9 run: 50 iterations on the local agent with SQLite (time to healthy, time to converged)", args: ["--import", "tsx", here("./chaos.ts"), "50"] },
  { key: "j", title: "(j) corral CLI start-up: corral list beside node -e 0, 10 runs in turn", args: ["--import", "tsx", here("./cli.ts"), "10"] },
  { key: "k", title: "(k) reconfigure 1,000 running hello-world services (the world pod's env), beside a fresh deploy of the same", args: ["--import", "tsx", here("./reconfigure-scale.ts"), "1000", "120"] },
  { key: "l", title: "(l) placement: offer-evaluation cost per offer with 0, 1 and 3 constraints on 1,000 agents", args: ["--import", "tsx", here("./placement-eval.ts")] },
  { key: "m", title: "(m) 1,000 services × 3 hostname-UNIQUE pods on 1,000 agents with --max-parallel-deploys 50, beside no constraints and no limit", args: ["--import", "tsx", here("./steer-scale.ts"), "1000", "1000", "50", "3", "300"] },
  { key: "n", title: "(n) WatchPlans: latency from a step change to 1,000 watchers", args: ["--import", "tsx", here("./watch-plans.ts")] },
  { key: "o", title: "(o) the local agent: 50 / 500 services beside direct spawns, removal, memory per task, 100 agents × 1,000 services, resubscription", args: ["--import", "tsx", here("./local-agent.ts")] },
  { key: "p", title: "(p) mono → multi migration: stores of 100, 1,000 and 10,000 tasks on SQLite and ZooKeeper", args: ["--import", "tsx", here("./migration.ts"), "100", "1000", "10000", "--zk-max", "1000"] },
  { key: "q", title: "(q) observability overhead: PutService with /metrics and OTLP tracing on vs off, interleaved, memory store", args: ["--import", "tsx", here("./observability-overhead.ts"), "250", "20", "3"] },
  { key: "q2", title: "(q2) metrics and tracing on the same work: fake clock, sim cluster, in-process", args: ["--import", "tsx", here("./observability-cpu.ts"), "3000", "3"] },
  { key: "r", title: "(r) failover: kill -9 of the leader of 3 replicas → another answers PutService OK, 20 trials, --zk-session-timeout 10", args: ["--import", "tsx", here("./failover.ts"), "20"], env: { BENCH_ZK_SESSION_TIMEOUT: "10" } },
];

console.log(`Corral benchmarks — ${machine()}`);
const only = process.argv.slice(2);
const total = performance.now();
for (const s of sections) {
  if (only.length > 0 && !only.includes(s.key)) continue;
  console.log(`\n=== ${s.title} ===`);
  const started = performance.now();
  const r = spawnSync(process.execPath, s.args, { stdio: "inherit", env: { ...process.env, ...s.env } });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(r.status === 0 ? `(section took ${secs} s)` : `section ended with status ${r.status ?? r.signal} after ${secs} s`);
}
console.log(`\nall sections: ${((performance.now() - total) / 1000).toFixed(0)} s`);

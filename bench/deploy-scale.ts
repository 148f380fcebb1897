/**
 * Bench (b)/(c): deploy N hello-world services in-process (MultiServiceScheduler + SimulatedCluster
 * + MemoryPersister + SystemClock) and report wall time to every deploy plan COMPLETE, the offer
 * cycle durations (SchedulerDeps.onCycle) and retained heap per service. Printed, never asserted.
 * Usage: npx tsx bench/deploy-scale.ts [N=1000] [timeoutS=120]   (re-execs itself with --expose-gc)
 * Profiling: BENCH_HEAPSNAPSHOT=/tmp/x.heapsnapshot, or node --cpu-prof --expose-gc --import tsx ….
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { writeHeapSnapshot } from "node:v8";
import { pino } from "pino";
import { CryptoRandom, SystemClock } from "../src/adapters/clock.js";
import { SimulatedCluster } from "../src/adapters/cluster/simulated-cluster.js";
import type { SimAgentSpec } from "../src/adapters/cluster/simulated-cluster.js";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../src/engine/scheduler.js";
import { specServiceFactory } from "../src/engine/service-factory.js";
import { kb, machine, mb, ms, summarize, table, verdict } from "./stats.js";

const self = fileURLToPath(import.meta.url);
if (typeof globalThis.gc !== "function") {
  // Heap figures need gc(); run again under `node --expose-gc --import tsx`.
  const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", self, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}
const gc = globalThis.gc as () => void;

const N = Number(process.argv[2] ?? "1000");
const TIMEOUT_S = Number(process.argv[3] ?? "120");
const AGENTS = 50;
const HEADROOM = 1.3;
const SPEC = readFileSync(fileURLToPath(new URL("../examples/hello-world.yml", import.meta.url)), "utf8");
const name = (i: number): string => `svc-${String(i).padStart(4, "0")}`;

// Agent size from the spec itself: N services' resource sets × pod counts, spread over AGENTS, +30%.
const { spec } = specServiceFactory.build({ name: "probe", spec: SPEC, parameters: {}, generation: 1, createdMs: 0, updatedMs: 0 });
const per = { cpus: 0, memMb: 0, diskMb: 0, tasks: 0 };
for (const pod of spec.pods) {
  for (const rs of pod.resourceSets) {
    per.cpus += rs.cpus * pod.count;
    per.memMb += rs.memoryMb * pod.count;
    per.diskMb += rs.volumes.reduce((s, v) => s + v.sizeMb, 0) * pod.count;
  }
  per.tasks += pod.tasks.length * pod.count;
}
const perAgent = (x: number): number => Math.ceil(((x * N) / AGENTS) * HEADROOM);
const agentSpec: SimAgentSpec = {
  cpus: perAgent(per.cpus),
  memMb: perAgent(per.memMb),
  diskMb: perAgent(per.diskMb),
  ports: { begin: 31000, end: 32000 },
};

// --- wiring -----------------------------------------------------------------------------------
const clock = new SystemClock({ unref: false });
const random = new CryptoRandom();
const persister = new MemoryPersister();
const cluster = new SimulatedCluster({ agents: Array.from({ length: AGENTS }, () => agentSpec), clock, random });
const cycles: number[] = [];
// The simulated master answers an ACCEPT first and applies it from a timer, as a real master
// does: cycle durations are the scheduler's own work.
const driver = cluster;
let puttingDone = false;
let doneAt: number | undefined;
let finish: () => void = () => undefined;
const finished = new Promise<void>((resolve) => (finish = resolve));
const scheduler = new MultiServiceScheduler(
  {
    persister,
    driver,
    clock,
    random,
    log: pino({ level: "silent" }),
    onCycle: (outcome, durationMs) => {
      cycles.push(durationMs);
      // A cycle that found every service IDLE means every deploy (and recovery) plan is COMPLETE.
      if (puttingDone && !outcome.working && doneAt === undefined) {
        doneAt = performance.now();
        finish();
      }
    },
  },
  { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } },
);
await scheduler.start();
while (!scheduler.runner.registered) await new Promise((r) => setTimeout(r, 1));

function completeCount(): number {
  let done = 0;
  for (let i = 0; i < N; i++) {
    if (scheduler.getService(name(i)).plans.find((p) => p.name === "deploy")?.status === "COMPLETE") done++;
  }
  return done;
}

// --- run --------------------------------------------------------------------------------------
console.log(`(b/c) deploy scale, N=${N} — ${machine()}`);
console.log(
  `cluster: ${AGENTS} agents × ${agentSpec.cpus} cpus / ${agentSpec.memMb} MB / ${agentSpec.diskMb} MB disk, ports 31000–32000 ` +
    `(per service ${per.cpus} cpus, ${per.memMb} MB, ${per.diskMb} MB disk, ${per.tasks} tasks; ${HEADROOM}× headroom)`,
);
gc();
gc();
const heapBefore = process.memoryUsage().heapUsed;
const t0 = performance.now();
for (let i = 0; i < N; i++) await scheduler.putService({ name: name(i), spec: SPEC, parameters: {} });
const putMs = performance.now() - t0;
puttingDone = true;
const progress = setInterval(() => {
  const s = ((performance.now() - t0) / 1000).toFixed(0);
  console.log(`  … ${s} s: ${cluster.counts.launches}/${N * per.tasks} tasks launched, ${cycles.length} cycles`);
}, 10_000);
const timedOut = await Promise.race([
  finished.then(() => false),
  // The deadline counts from the first PutService; a long cycle can make it fire late.
  new Promise<boolean>((r) => setTimeout(() => r(true), Math.max(0, t0 + TIMEOUT_S * 1000 - performance.now()))),
]);
clearInterval(progress);
const wallMs = (doneAt ?? performance.now()) - t0;
const complete = completeCount();
gc();
gc();
const heapAfter = process.memoryUsage().heapUsed;
const c = summarize(cycles);
const perService = (heapAfter - heapBefore) / N;
// Profiling aid: BENCH_HEAPSNAPSHOT=file.heapsnapshot writes the heap as it stands after COMPLETE.
const snapshot = process.env["BENCH_HEAPSNAPSHOT"];
if (snapshot) console.log(`heap snapshot: ${writeHeapSnapshot(snapshot)}`);

if (timedOut) {
  console.log(
    `TIMEOUT (limit ${TIMEOUT_S} s, noticed at ${(wallMs / 1000).toFixed(1)} s): ${complete}/${N} deploy plans COMPLETE, ` +
      `${cluster.counts.launches}/${N * per.tasks} tasks launched`,
  );
}
const targets = N === 1000;
console.log(
  table([
    ["figure", "value", ...(targets ? ["target (N=1000)", ""] : [])],
    ["wall: first PutService → all deploy COMPLETE", timedOut ? `> ${ms(wallMs, 0)} (timeout)` : ms(wallMs, 0), ...(targets ? ["≤ 5000 ms", verdict(!timedOut && wallMs <= 5000)] : [])],
    ["  of which the N putService calls", ms(putMs, 0)],
    ["offer cycles", String(c.n)],
    ["cycle p50", ms(c.p50, 0)],
    ["cycle p99", ms(c.p99, 0), ...(targets ? ["≤ 50 ms", verdict(c.p99 <= 50)] : [])],
    ["cycle max", ms(c.max, 0)],
    ["cycle total (sum)", ms(cycles.reduce((s, v) => s + v, 0), 0)],
    ["heap before → after (after gc)", `${mb(heapBefore)} → ${mb(heapAfter)}`],
    [timedOut ? `heap per service (only ${complete} deployed)` : "heap per deployed service", kb(perService), ...(targets ? ["≤ 50 KB", verdict(perService <= 50 * 1024)] : [])],
  ]),
);
console.log(
  `deploy plans COMPLETE: ${complete}/${N}; sim: ${cluster.counts.launches} tasks launched, ${cluster.counts.accepts} accepts, ` +
    `${cluster.counts.declines} declines, ${cluster.counts.revives} revives, ${cluster.counts.acknowledges} acks`,
);
console.log("note: cycle durations come from the runner's Clock.now() (Date.now, 1 ms resolution); heap includes the simulated cluster and the memory store in the same process.");

// After a timeout the work queue may still hold thousands of items; do not wait for them.
if (!timedOut) await scheduler.stop();
await cluster.close();
cluster.stop();
await persister.close();
process.exit(0);

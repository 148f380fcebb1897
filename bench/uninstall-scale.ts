/**
 * Bench (g): time from UninstallService to COMPLETED for 1, 100 and 1,000 services on the
 * simulated cluster, in-process (MultiServiceScheduler + SimulatedCluster + MemoryPersister +
 * SystemClock). Each round deploys N hello-world services (3 tasks, 3 volumes each), then asks
 * to remove all of them at once and waits for every COMPLETED event on a WatchUninstall stream.
 * Printed, never asserted; the issue names no target.
 * Usage: npx tsx bench/uninstall-scale.ts [N …]   (default 1 100 1000)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { CryptoRandom, SystemClock } from "../src/adapters/clock.js";
import { SimulatedCluster } from "../src/adapters/cluster/simulated-cluster.js";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../src/engine/scheduler.js";
import { machine, ms, summarize, table } from "./stats.js";

const SPEC = readFileSync(fileURLToPath(new URL("../examples/hello-world.yml", import.meta.url)), "utf8");
const sizes = process.argv.slice(2).map(Number);
const rounds = sizes.length > 0 ? sizes : [1, 100, 1000];

async function round(n: number): Promise<string[]> {
  const clock = new SystemClock({ unref: false });
  const random = new CryptoRandom();
  const persister = new MemoryPersister();
  // hello-world needs 0.5 cpus, 1,276 MB, 125 MB disk per service; 50 agents with headroom.
  const agents = Math.max(1, Math.min(50, n));
  const per = (x: number): number => Math.ceil(((x * n) / agents) * 1.3) + 1;
  const cluster = new SimulatedCluster({
    agents: Array.from({ length: agents }, () => ({ cpus: per(0.5), memMb: per(1276), diskMb: per(125) })),
    clock,
    random,
  });
  const scheduler = new MultiServiceScheduler(
    { persister, driver: cluster, clock, random, log: pino({ level: "silent" }) },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } },
  );
  await scheduler.start();
  const names = Array.from({ length: n }, (_, i) => `svc-${String(i).padStart(4, "0")}`);
  for (const name of names) await scheduler.putService({ name, spec: SPEC, parameters: {} });
  while (!names.every((name) => scheduler.getPlan(name, "deploy").status === "COMPLETE")) await new Promise((r) => setTimeout(r, 20));

  const asked = new Map<string, number>();
  const completed = new Map<string, number>();
  const ac = new AbortController();
  const watching = (async () => {
    for await (const e of scheduler.watchUninstall(names, 0n, ac.signal)) {
      if (e.kind === "COMPLETED" || e.kind === "FORCED") completed.set(e.name, performance.now());
    }
  })();
  const t0 = performance.now();
  await Promise.all(
    names.map(async (name) => {
      asked.set(name, performance.now());
      await scheduler.uninstallService(name);
    }),
  );
  const acceptedMs = performance.now() - t0;
  await watching; // ends once every named service completed
  const wall = Math.max(...completed.values()) - t0;
  const each = summarize(names.map((name) => completed.get(name)! - asked.get(name)!));
  const left = [...cluster.reservations().values()].flat().length;
  ac.abort();
  await scheduler.stop();
  await cluster.close();
  cluster.stop();
  await persister.close();
  return [String(n), ms(acceptedMs, 1), ms(wall, 0), ms(each.p50, 0), ms(each.p99, 0), String(cluster.counts.kills), String(cluster.counts.destroys), String(cluster.counts.unreserves), String(left)];
}

console.log(`(g) service removal on the simulated cluster — ${machine()}`);
const rows: string[][] = [["services", "all UninstallService calls answered", "wall: first call → last COMPLETED", "per service p50", "p99", "kills", "DESTROYs", "UNRESERVEs", "reservations left"]];
for (const n of rounds) rows.push(await round(n));
console.log(table(rows));
console.log("note: timings include the offer cycles (at least 10 ms apart) that release the reservations once the kills are done; no target is named.");
process.exit(0);

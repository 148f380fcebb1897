/**
 * The Corral server of the gRPC bench, run as its own Node process so client and server do not
 * share an event loop (as in toolchain §7). Uses the real composition root, `startCorral`, with a
 * silent logger. Protocol on stdio: prints `{"address":…}` once serving; on a `stats` line from
 * stdin prints how far the sim deployment got and the event-loop delay since the last `stats`; on
 * `raw <sequential> <callers> <ms>` measures the store's raw write of a PutService-sized multi
 * (see rawWrites); exits on `stop` or when stdin closes (parent gone), removing its data directory.
 * Usage: BENCH_STORE=memory|sqlite|zk://host:port/chroot node --import tsx bench/server-child.ts [simAgents]
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { pino } from "pino";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCorral } from "../src/app.js";
import { resolveOptions } from "../src/config.js";
import type { PersisterOp } from "../src/engine/ports.js";
import { specServiceFactory } from "../src/engine/service-factory.js";
import { ServiceStore } from "../src/engine/store/service-store.js";
import { readFileSync } from "node:fs";
import { summarize } from "./stats.js";

const agents = process.argv[2] ?? "150";
// The store under test: the default (SQLite, in a fresh data directory) or memory (BENCH_STORE).
const store = process.env["BENCH_STORE"] ?? "sqlite";
const dataDir = mkdtempSync(join(tmpdir(), "corral-bench-"));
const options = resolveOptions(
  ["--listen", "127.0.0.1:0", "--cluster", "sim", "--sim-agents", agents, "--store", store, "--data-dir", dataDir],
  {},
);
const corral = await startCorral(options, pino({ level: "silent" }));

// Event-loop delay is what the gRPC calls feel when offer cycles run in the same process.
const lag = monitorEventLoopDelay({ resolution: 5 });
lag.enable();

function stats(): object {
  const views = corral.scheduler.listServices();
  const running = views.filter((v) => v.state === "RUNNING").length;
  const lagMs = (ns: number): number => Math.round(ns / 1e5) / 10;
  return {
    services: views.length,
    running,
    deploying: views.length - running,
    loopDelayP99Ms: lagMs(lag.percentile(99)),
    loopDelayMaxMs: lagMs(lag.max),
  };
}

/**
 * The floor of PutService on this store: the multi PutService writes (context create + config +
 * config target, the same bytes as a simple.yml put), called straight on the server's own
 * persister, under BenchRaw/ (outside the scheduler's layout). `sequential` calls one after
 * another (p50/p99), then `callers` loops for `ms` (calls/s; SQLite group-commits them).
 */
const SIMPLE = readFileSync(new URL("../examples/simple.yml", import.meta.url), "utf8");
let rawSeq = 0;
function rawOps(): PersisterOp[] {
  const name = `raw-${String(rawSeq++).padStart(6, "0")}`;
  const context = { name, spec: SIMPLE, parameters: {}, generation: 1, createdMs: Date.now(), updatedMs: Date.now() };
  const built = specServiceFactory.build(context);
  return new ServiceStore(corral.persister)
    .addOps(context, "00000000-0000-4000-8000-000000000000", built.spec)
    .map((op) => ({ ...op, path: op.path.replace(/^(ServiceList|Services)\//, "BenchRaw/$1/") }));
}
async function rawWrites(sequential: number, callers: number, ms: number): Promise<object> {
  const seq: number[] = [];
  // Ops are built before the clock starts: only the write is timed.
  for (let i = 0; i < sequential; i++) {
    const ops = rawOps();
    const t = performance.now();
    await corral.persister.multi(ops);
    seq.push(performance.now() - t);
  }
  const conc: number[] = [];
  const end = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (performance.now() < end) {
        const ops = rawOps();
        const t = performance.now();
        await corral.persister.multi(ops);
        conc.push(performance.now() - t);
        if (performance.now() <= end) done++;
      }
    }),
  );
  const s = summarize(seq);
  const c = summarize(conc);
  const bytes = rawOps().reduce((n, op) => n + (op.kind === "set" || op.kind === "create" ? op.data.byteLength : 0), 0);
  return { bytes, seqP50: s.p50, seqP99: s.p99, rate: done / (ms / 1000), concP50: c.p50, concP99: c.p99 };
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  lag.disable();
  await corral.stop();
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "stats") {
    process.stdout.write(`${JSON.stringify(stats())}\n`);
    lag.reset(); // the next stats cover only what happened since this one
  }
  if (line.trim() === "stop") void stop();
  const raw = /^raw (\d+) (\d+) (\d+)$/.exec(line.trim());
  if (raw) {
    void rawWrites(Number(raw[1]), Number(raw[2]), Number(raw[3])).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
  }
});
lines.on("close", () => void stop());
process.on("SIGTERM", () => void stop());
process.stdout.write(`${JSON.stringify({ address: corral.address, agents: Number(agents) })}\n`);

/**
 * Bench (q2): what metrics and tracing cost when the work is the same. Bench (q) times real
 * servers, where how much deploy work a put starts depends on timing; here the scheduler runs
 * in-process on the fake clock and the simulated cluster (test/harness), so every mode does the
 * same puts, offer cycles and status updates (the launch count printed proves it), and what
 * differs is the instrumentation alone: its CPU time and the put's in-process p50 (the gRPC
 * observers are called around each put as the server calls them; no network).
 * Modes: off; metrics (the registry and wrappers, no scrape); tracing at budget 0 (the path that
 * records nothing); both at budget 0; both recording every trace (to a closed port: the export
 * work is done, the send fails). Each mode runs in a process of its own, pinned to one CPU when
 * taskset is there, modes interleaved over the rounds; medians printed. Then one /metrics scrape
 * at the end of a metrics run, timed (the scrape-time gauges read every service).
 * Usage: npx tsx bench/observability-cpu.ts [puts=3000] [rounds=3]
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { SimulatedCluster } from "../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../src/adapters/fake-clock.js";
import { composeObservers } from "../src/adapters/grpc/call-observer.js";
import type { CallObserver } from "../src/adapters/grpc/call-observer.js";
import { createMetrics } from "../src/adapters/metrics/index.js";
import type { MetricsPart, ScrapedScheduler } from "../src/adapters/metrics/index.js";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import type { ClusterDriver, Persister } from "../src/engine/ports.js";
import type { Tracer } from "../src/engine/telemetry.js";
import { NO_TRACER } from "../src/engine/telemetry.js";
import { createHarness, example } from "../test/harness/harness.js";
import { machine, summarize, table } from "./stats.js";

const MODES = ["off", "metrics", "tracing-0", "both-0", "both-all"] as const;
type Mode = (typeof MODES)[number];
const BATCH = 20;
const WARM_UP = 300;

interface Result {
  readonly mode: Mode;
  readonly cpuMs: number;
  readonly p50Us: number;
  readonly launches: number;
  readonly scrapeMs?: number;
  readonly series?: number;
}

const here = fileURLToPath(import.meta.url);
if (process.argv[2] === "child") await child(process.argv[3] as Mode, Number(process.argv[4]));
else parent(Number(process.argv[2] ?? 3000), Number(process.argv[3] ?? 3));

function parent(puts: number, rounds: number): void {
  console.log(`(q2) metrics and tracing on the same work: fake clock, sim cluster, in-process — ${machine()}`);
  const cpu = String(availableParallelism() - 1);
  const pin = spawnSync("taskset", ["-V"]).status === 0;
  const results = new Map<Mode, Result[]>(MODES.map((m) => [m, []]));
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 === 0 ? MODES : [...MODES].reverse()) {
      const node = [process.execPath, "--import", "tsx", here, "child", mode, String(puts)];
      const [command, ...args] = pin ? ["taskset", "-c", cpu, ...node] : node;
      const out = spawnSync(command!, args, { encoding: "utf8" });
      if (out.status !== 0) throw new Error(`${mode}: ${out.stderr}`);
      results.get(mode)!.push(JSON.parse(out.stdout.trim().split("\n").at(-1)!) as Result);
    }
  }
  const launches = new Set([...results.values()].flat().map((r) => r.launches));
  const med = (mode: Mode, f: (r: Result) => number): number => summarize(results.get(mode)!.map(f)).p50;
  const base = { cpu: med("off", (r) => r.cpuMs), p50: med("off", (r) => r.p50Us) };
  console.log(`${puts} puts of simple.yml in batches of ${BATCH} (after ${WARM_UP}), each batch deployed (3 s of fake time); ${rounds} runs per mode${pin ? `, pinned to CPU ${cpu}` : ""}; launches in every run: ${[...launches].join(", ")}${launches.size === 1 ? " (same work)" : " (DIFFERENT work: the comparison does not hold)"}`);
  console.log(
    table([
      ["mode", "CPU (median)", "CPU / off", "put p50 in-process", "p50 / off"],
      ...MODES.map((m) => {
        const c = med(m, (r) => r.cpuMs);
        const p = med(m, (r) => r.p50Us);
        return [m, `${c.toFixed(0)} ms`, (c / base.cpu).toFixed(3), `${p.toFixed(0)} µs`, (p / base.p50).toFixed(3)];
      }),
    ]),
  );
  const scrapes = results.get("metrics")!.filter((r) => r.scrapeMs !== undefined);
  if (scrapes.length > 0) console.log(`/metrics scrape after the metrics runs: p50 ${summarize(scrapes.map((r) => r.scrapeMs!)).p50.toFixed(1)} ms (${scrapes[0]!.series} series)`);
}

async function child(mode: Mode, puts: number): Promise<void> {
  let wrapPersister = (p: Persister): Persister => p;
  let wrapDriver = (d: ClusterDriver): ClusterDriver => d;
  let tracer: Tracer = NO_TRACER;
  const observers: CallObserver[] = [];
  let closeTracing = async (): Promise<void> => undefined;
  // As observability.ts composes them: tracing inside, metrics outermost.
  if (mode !== "off" && mode !== "metrics") {
    const { startTracing } = await import("../src/adapters/tracing/index.js");
    const budget = mode === "both-all" ? Number.POSITIVE_INFINITY : 0;
    const t = startTracing({ endpoint: "http://127.0.0.1:9/v1/traces", frameworkName: "corral", tracesPerSecond: budget, logger: { info: () => undefined, warn: () => undefined } });
    wrapPersister = (p) => t.wrapPersister(p);
    wrapDriver = (d) => t.wrapDriver(d);
    tracer = t.tracer;
    observers.push(t.observer);
    closeTracing = () => t.close();
  }
  let metrics: MetricsPart | undefined;
  if (mode !== "off" && mode !== "tracing-0") {
    const m = (metrics = createMetrics());
    const [p0, d0] = [wrapPersister, wrapDriver];
    wrapPersister = (p) => m.wrapPersister(p0(p));
    wrapDriver = (d) => m.wrapDriver(d0(d));
    observers.push(m.observer);
  }
  const observer = composeObservers(observers);
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({ agents: 150, clock, random: new SeededRandom(99) });
  const h = await createHarness({ clock, cluster, persister: wrapPersister(new MemoryPersister()), deps: { driver: wrapDriver(cluster), tracer } });
  const spec = example("simple.yml");
  let seq = 0;
  const latencies: number[] = [];
  const put = async (timed: boolean): Promise<void> => {
    const request = { name: `svc-${seq++}`, spec, parameters: {} };
    const t = performance.now();
    const scope = observer.begin("PutService", request);
    await scope.run(() => h.scheduler.putService(request));
    scope.end(0);
    if (timed) latencies.push(performance.now() - t);
  };
  const batches = async (n: number, timed: boolean): Promise<void> => {
    for (let b = 0; b < n / BATCH; b++) {
      for (let i = 0; i < BATCH; i++) await put(timed);
      for (let s = 0; s < 3; s++) await h.advance(1000);
    }
  };
  await batches(WARM_UP, false);
  const before = process.cpuUsage();
  await batches(puts, true);
  const used = process.cpuUsage(before);
  const result: Result = {
    mode,
    cpuMs: (used.user + used.system) / 1000,
    p50Us: summarize(latencies).p50 * 1000,
    launches: cluster.counts.launches,
    ...(metrics ? await scrape(metrics, h.scheduler) : {}),
  };
  await closeTracing();
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
}

async function scrape(metrics: MetricsPart, scheduler: ScrapedScheduler): Promise<{ scrapeMs: number; series: number }> {
  metrics.setScheduler(() => scheduler);
  await metrics.metrics.exposition(); // the first one compiles the path
  const t = performance.now();
  const { body } = await metrics.metrics.exposition();
  return { scrapeMs: performance.now() - t, series: body.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length };
}

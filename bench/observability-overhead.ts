/**
 * Bench (q): what metrics and tracing cost a PutService. Two server processes of the real app
 * (startCorral, sim cluster, memory store by default: the cheapest put, so the largest relative
 * cost), one with `--metrics-listen 127.0.0.1:0 --otlp-endpoint <sink>` (ON) and one with
 * `--metrics-listen off` and no endpoint (OFF), take sequential PutService calls from this
 * process in interleaved batches, alternating which goes first, so drift of a shared machine
 * hits both alike; besides the pooled p50s, the median of the rounds' p50 ratios is printed (less
 * sensitive to a busy moment of the shared machine). After each batch its server is left to settle
 * (the deploys the puts started), and both servers run pinned to one core, this process and the
 * sink to the others: otherwise one server's deploy work lands on the other's puts, at random,
 * and the A/A spread (BENCH_ON=none) was ±4 %; so it is ±2 % (0.978–1.014 over six runs). The OTLP sink is an HTTP server in
 * a process of its own, as a collector is; /metrics of ON is scraped every 15 s meanwhile, as
 * Prometheus would (scrapes are part of the cost; their time is printed, not counted).
 * Target (issue 17): PutService p50 ON ≤ 1.05 × OFF. Figures are printed, never asserted.
 * Two server processes of one pair differ by ±2–4 % on identical work (JIT and heap layout: the
 * A/A runs, and q2's processes), a spread that one pair cannot tell from the instrumentation's
 * cost: [pairs] pairs of fresh processes run one after the other and their puts are pooled.
 * Usage: npx tsx bench/observability-overhead.ts [rounds=100] [batch=20] [pairs=1]   (BENCH_STORE=sqlite|memory;
 *   BENCH_CPU_PROF=DIR writes a CPU profile of each server child there; BENCH_PIN=0 and BENCH_QUIET=0
 *   leave the servers unpinned and start each batch at once, as before; BENCH_DRY=1 times dry-run puts)
 */
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessByStdio } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { startCorral } from "../src/app.js";
import { PutOutcome, createAdminClient } from "../src/client/index.js";
import type { AdminClient } from "../src/client/index.js";
import { resolveOptions } from "../src/config.js";
import { startOtlpSink } from "../test/metrics/otlp-sink.js";
import { machine, ms, summarize, table, verdict } from "./stats.js";

const here = fileURLToPath(import.meta.url);
const STORE = process.env["BENCH_STORE"] ?? "memory";
// 1,200 cpus: room for ~12,000 simple.yml services (0.1 cpu), deployed while the puts are timed.
// BENCH_SIM_AGENTS=1: 80 services fill it, later puts wait for room: nearly the put path alone.
const AGENTS = process.env["BENCH_SIM_AGENTS"] ?? "150";
// BENCH_TRACES=N|all: the ON server records this many traces a second (--traces-per-second) instead of the default.
const TRACES = process.env["BENCH_TRACES"];
// With 2+ CPUs (and taskset), both servers run on the last CPU and this process and the sink on
// the others: the servers take turns on one core, so neither is slowed by where the OS put it
// (BENCH_PIN=0: unpinned).
const PIN = pinning();

function pinning(): { servers: string; rest: string } | undefined {
  const n = availableParallelism();
  if (process.env["BENCH_PIN"] === "0" || n < 2 || spawnSync("taskset", ["-V"]).status !== 0) return undefined;
  return { servers: String(n - 1), rest: n === 2 ? "0" : `0-${n - 2}` };
}
// BENCH_QUIET=0: the next batch starts at once, while the last one's deploys still run (the old way).
const QUIET_WINDOWS = Number(process.env["BENCH_QUIET"] ?? 3);
// BENCH_DRY=1: the timed puts are dry runs (the request path alone: nothing is stored or deployed).
const DRY = process.env["BENCH_DRY"] === "1";

if (process.argv[2] === "child") await child(process.argv.slice(3));
else if (process.argv[2] === "sink") await sinkChild();
else await parent(Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 20), Number(process.argv[4] ?? 1));

/** The OTLP sink as a process of its own, as a collector is: prints its endpoint; at stdin's end, what it received. */
async function sinkChild(): Promise<void> {
  const sink = await startOtlpSink();
  process.stdout.write(`${JSON.stringify({ endpoint: sink.endpoint })}\n`);
  createInterface({ input: process.stdin }).on("close", () => {
    process.stdout.write(`${JSON.stringify({ ...sink.stats, names: sink.spanNames() })}\n`, () => process.exit(0));
  });
}

interface RemoteSink {
  readonly endpoint: string;
  /** Stops the sink and returns what it received. */
  close(): Promise<{ requests: number; bytes: number; names: string[] }>;
}

async function remoteSink(): Promise<RemoteSink> {
  const proc = spawn(process.execPath, ["--import", "tsx", here, "sink"], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const first = await lines.next();
  const { endpoint } = JSON.parse(String(first.value)) as { endpoint: string };
  return {
    endpoint,
    close: async () => {
      proc.stdin.end();
      const last = await lines.next();
      return JSON.parse(String(last.value)) as { requests: number; bytes: number; names: string[] };
    },
  };
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Resolves once the process used under 10 % of a core for QUIET_WINDOWS windows of 20 ms in a row
 * (at most 3 s), with how long it waited: a server's deploy work is then not counted in the other
 * server's puts, which run next (on 2 cores it would take the CPU they need, at random).
 */
async function quiet(): Promise<number> {
  const started = performance.now();
  let calm = 0;
  while (calm < QUIET_WINDOWS && performance.now() - started < 3000) {
    const before = cpuMs();
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 20));
    calm = cpuMs() - before < 0.1 * (performance.now() - t) ? calm + 1 : 0;
  }
  return performance.now() - started;
}

/** A server: prints `{"address":…,"metrics":…}` once serving; stops when stdin closes. */
async function child(extra: string[]): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "corral-bench-obs-"));
  const args = ["--listen", "127.0.0.1:0", "--cluster", "sim", "--sim-agents", AGENTS, "--store", STORE, "--data-dir", dataDir, ...extra];
  const corral = await startCorral(resolveOptions(args, {}), pino({ level: "silent" }));
  const stop = async (): Promise<void> => {
    await corral.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  };
  const input = createInterface({ input: process.stdin });
  input.on("close", () => void stop());
  // "cpu": the CPU time this server used so far (a steadier figure than latency to tell costs apart).
  // "quiet": answers once the server is idle (the deploys its puts started have settled).
  input.on("line", (line) => {
    if (line === "quiet") return void quiet().then((waitedMs) => process.stdout.write(`${JSON.stringify({ waitedMs })}\n`));
    process.stdout.write(`${JSON.stringify({ cpuMs: cpuMs() })}\n`);
  });
  process.stdout.write(`${JSON.stringify({ address: corral.address, metrics: corral.metricsAddress ?? null })}\n`);
}

interface Server {
  readonly proc: ChildProcessByStdio<Writable, Readable, null>;
  readonly admin: AdminClient;
  readonly metrics: string | null;
  /** The CPU time the server used so far, in ms. */
  cpuMs(): Promise<number>;
  /** Resolves once the server is idle, with how long that took. */
  quiet(): Promise<number>;
}

async function server(extra: string[]): Promise<Server> {
  const node = [process.execPath, ...(process.env["BENCH_CPU_PROF"] ? ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_CPU_PROF"]}`] : []), "--import", "tsx", here, "child", ...extra];
  const [command, ...args] = PIN ? ["taskset", "-c", PIN.servers, ...node] : node;
  const proc = spawn(command!, args, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const t = setTimeout(() => proc.kill(), 60_000);
  const first = await lines.next();
  clearTimeout(t);
  if (first.done === true) throw new Error("server child did not start within 60 s");
  const line = String(first.value);
  const cpuMs = async (): Promise<number> => {
    proc.stdin.write("cpu\n");
    return (JSON.parse(String((await lines.next()).value)) as { cpuMs: number }).cpuMs;
  };
  const quiet = async (): Promise<number> => {
    proc.stdin.write("quiet\n");
    return (JSON.parse(String((await lines.next()).value)) as { waitedMs: number }).waitedMs;
  };
  const { address, metrics } = JSON.parse(line) as { address: string; metrics: string | null };
  return { proc, admin: createAdminClient({ address, defaultDeadlineMs: 30_000 }), metrics, cpuMs, quiet };
}

/** What one pair of servers (ON and OFF, fresh processes) measured. */
interface PairResult {
  readonly onTimes: number[];
  readonly offTimes: number[];
  readonly roundRatios: number[];
  readonly waits: number[];
  /** Server CPU per put in µs: ON, OFF. */
  readonly cpuPerPut: [number, number];
  readonly scrapes: number[];
  readonly series: number;
  readonly services: number;
  readonly failures: number;
}

interface PairSetup {
  readonly onArgs: string[];
  readonly half: string;
  readonly rounds: number;
  readonly batch: number;
  /** Which server is started first (alternating over the pairs, as the batch order alternates over the rounds). */
  readonly onFirst: boolean;
}

async function pair(setup: PairSetup): Promise<PairResult> {
  const { onArgs, half, rounds, batch } = setup;
  const offArgs = ["--metrics-listen", "off"];
  const first = await server(setup.onFirst ? onArgs : offArgs);
  const second = await server(setup.onFirst ? offArgs : onArgs);
  const [on, off] = setup.onFirst ? [first, second] : [second, first];
  if (half !== "none" && ((on.metrics === null) !== (half === "tracing") || off.metrics !== null)) throw new Error("the ON server must serve /metrics (unless BENCH_ON=tracing) and the OFF one must not");
  const spec = readFileSync(new URL("../examples/simple.yml", import.meta.url), "utf8");
  let seq = 0;
  let failures = 0;
  let dry = false;
  const put = async (s: Server, out: number[]): Promise<void> => {
    const name = `obs-${String(seq++).padStart(6, "0")}`;
    const t = performance.now();
    try {
      const r = await s.admin.putService({ name, spec, ...(dry ? { dryRun: true } : {}) });
      if (r.outcome !== PutOutcome.CREATED) throw new Error(`${name}: ${PutOutcome[r.outcome]}`);
      out.push(performance.now() - t);
    } catch (err) {
      if (failures++ < 3) console.error("call failed:", (err as Error).message);
    }
  };
  const warm: number[] = [];
  for (let i = 0; i < 300; i++) {
    await put(on, warm);
    await put(off, warm);
  }
  dry = DRY; // the warm-up puts are real: the dry runs then meet deployed services
  const scrapes: number[] = [];
  let series = 0;
  const scrape = async (): Promise<void> => {
    const t = performance.now();
    const text = await (await fetch(`http://${on.metrics!}/metrics`)).text();
    scrapes.push(performance.now() - t);
    series = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  };
  // BENCH_SCRAPE_S: seconds between scrapes (Prometheus default 15; 0: none until the end).
  const every = Number(process.env["BENCH_SCRAPE_S"] ?? 15);
  // Part of the warm-up, as the put path's is: the first scrape of a process compiles its path
  // (~250 ms of CPU at 3,000 services against ~35 ms for the next ones), once per process lifetime.
  if (on.metrics !== null) {
    await fetch(`http://${on.metrics}/metrics`).then((r) => r.text());
    await on.quiet();
  }
  const scraper = every > 0 ? setInterval(() => void (on.metrics !== null ? scrape() : undefined), every * 1000) : undefined;
  const cpuBefore = [await on.cpuMs(), await off.cpuMs()];
  const onTimes: number[] = [];
  const offTimes: number[] = [];
  const roundRatios: number[] = [];
  const waits: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const onRound: number[] = [];
    const offRound: number[] = [];
    const order: [Server, number[]][] = r % 2 === 0 ? [[on, onRound], [off, offRound]] : [[off, offRound], [on, onRound]];
    for (const [s, out] of order) {
      for (let i = 0; i < batch; i++) await put(s, out);
      if (QUIET_WINDOWS > 0) waits.push(await s.quiet());
    }
    roundRatios.push(summarize(onRound).p50 / summarize(offRound).p50);
    onTimes.push(...onRound);
    offTimes.push(...offRound);
  }
  if (scraper) clearInterval(scraper);
  // The deploys the last puts started finish meanwhile: their work counts too.
  await new Promise((r) => setTimeout(r, 3000));
  const cpu = [(await on.cpuMs()) - cpuBefore[0]!, (await off.cpuMs()) - cpuBefore[1]!].map((ms) => (ms * 1000) / (rounds * batch));
  if (on.metrics !== null) await scrape();
  // Nothing pending before the exporter's last batch is counted (both servers alike: the profiles stay comparable).
  await Promise.all([on.admin.listServices({}), off.admin.listServices({})]);
  for (const s of [on, off]) {
    s.admin.close();
    s.proc.stdin.end();
  }
  await Promise.all([on, off].map((s) => new Promise((r) => s.proc.once("exit", r))));
  return { onTimes, offTimes, roundRatios, waits, cpuPerPut: [cpu[0]!, cpu[1]!], scrapes, series, services: seq, failures };
}

async function parent(rounds: number, batch: number, pairs: number): Promise<void> {
  console.log(`(q) PutService with metrics + tracing ON vs OFF, interleaved — ${machine()}`);
  if (PIN) spawnSync("taskset", ["-a", "-p", "-c", PIN.rest, String(process.pid)], { stdio: "ignore" });
  const sink = await remoteSink();
  // BENCH_ON=metrics|tracing turns on only that half, to tell which one costs what; none: both servers OFF (the noise floor).
  const half = process.env["BENCH_ON"] ?? "both";
  const onArgs = half === "none" ? ["--metrics-listen", "off"] : [...(half === "tracing" ? ["--metrics-listen", "off"] : ["--metrics-listen", "127.0.0.1:0"]), ...(half === "metrics" ? [] : ["--otlp-endpoint", sink.endpoint, ...(TRACES ? ["--traces-per-second", TRACES] : [])])];
  const results: PairResult[] = [];
  for (let p = 0; p < pairs; p++) results.push(await pair({ onArgs, half, rounds, batch, onFirst: p % 2 === 0 }));

  const all = (f: (r: PairResult) => number[]): number[] => results.flatMap(f);
  const a = summarize(all((r) => r.onTimes));
  const b = summarize(all((r) => r.offTimes));
  const waits = summarize(all((r) => r.waits));
  console.log(`servers: startCorral --cluster sim --sim-agents ${AGENTS} --store ${STORE}, each its own process; ${pairs} pair(s) of fresh server processes, one after the other, the first-started alternating; per pair a warm-up of 300 puts each, then ${rounds} rounds × ${batch} sequential puts per server, order alternating, ${PIN ? `servers pinned to CPU ${PIN.servers}, client and sink to ${PIN.rest}` : "unpinned"}, ${QUIET_WINDOWS > 0 ? `each batch followed by waiting for its server to be idle (p50 ${ms(waits.p50)}, max ${ms(waits.max)})` : "no wait between batches"}`);
  if (pairs > 1) {
    console.log(
      table([
        ["pair", "started first", "OFF p50", "ON p50", "ON/OFF p50", "median of round ratios", "CPU per put ON/OFF"],
        ...results.map((r, i) => {
          const [x, y] = [summarize(r.onTimes).p50, summarize(r.offTimes).p50];
          return [String(i + 1), i % 2 === 0 ? "ON" : "OFF", ms(y), ms(x), (x / y).toFixed(3), summarize(r.roundRatios).p50.toFixed(3), (r.cpuPerPut[0] / r.cpuPerPut[1]).toFixed(3)];
        }),
      ]),
    );
  }
  console.log(
    table([
      ["server", "puts", "p50", "p99", "mean"],
      ["OFF: --metrics-listen off, no --otlp-endpoint", String(b.n), ms(b.p50), ms(b.p99), ms(b.mean)],
      [`ON (${half}): ${onArgs.join(" ").replace(sink.endpoint, "<sink>")}`, String(a.n), ms(a.p50), ms(a.p99), ms(a.mean)],
    ]),
  );
  const ratio = a.p50 / b.p50;
  const pooled = pairs > 1 ? ` over the ${pairs} pairs' puts pooled` : "";
  console.log(`PutService p50 ON/OFF${pooled} = ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)}%)  (target ≤ 1.05: ${verdict(ratio <= 1.05)})`);
  console.log(`median over the ${rounds * pairs} rounds of (round p50 ON / round p50 OFF) = ${summarize(all((r) => r.roundRatios)).p50.toFixed(3)}`);
  console.log(`PutService p99 ON/OFF = ${(a.p99 / b.p99).toFixed(3)} (no target)`);
  const cpuOn = results.reduce((s, r) => s + r.cpuPerPut[0], 0) / pairs;
  const cpuOff = results.reduce((s, r) => s + r.cpuPerPut[1], 0) / pairs;
  console.log(`server CPU per put (the put and the deploy it starts): ON ${cpuOn.toFixed(0)} µs, OFF ${cpuOff.toFixed(0)} µs, ON/OFF = ${(cpuOn / cpuOff).toFixed(3)} (no target)`);
  const sc = summarize(all((r) => r.scrapes));
  const last = results.at(-1)!;
  console.log(`/metrics scrapes of ON: ${sc.n}, p50 ${ms(sc.p50)}, max ${ms(sc.max)}; ${last.series} series at the end of the last pair (${last.services} services between its two servers)`);
  const received = await sink.close();
  const names = received.names;
  const byName = new Map<string, number>();
  for (const n of names) byName.set(n, (byName.get(n) ?? 0) + 1);
  const top = [...byName].sort((x, y) => y[1] - x[1]).slice(0, 6).map(([n, c]) => `${n} ${c}`).join(", ");
  const onPuts = results.reduce((s, r) => s + r.services / 2, 0);
  const failures = results.reduce((s, r) => s + r.failures, 0);
  console.log(`OTLP sink: ${received.requests} export requests, ${(received.bytes / 1024).toFixed(0)} KiB, ${names.length} spans (${(names.length / onPuts).toFixed(1)} per put to ON)${top ? `; most: ${top}` : ""}; failed calls: ${failures}`);
}

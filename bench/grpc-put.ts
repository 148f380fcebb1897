/**
 * Bench (a): PutService over real gRPC on one store (BENCH_STORE = memory | sqlite | zk), beside
 * two floors measured in the same run: the empty gRPC call (Health/Check) and the store's raw
 * write of the same size (the multi PutService writes, called on the server's own persister).
 * Target (issue 3): PutService p50 ≤ raw write p50 + 2 × empty call p50.
 * The server (startCorral, sim cluster) runs in a child process so client and server are separate
 * Node processes, as in toolchain §7. For zk a real ZooKeeper server is started here
 * (test/zk/zk-server.ts). Figures are printed, never asserted.
 * Usage: BENCH_STORE=sqlite npx tsx bench/grpc-put.ts [simAgents=150]
 * BENCH_PROF=<dir> writes a CPU profile of the server child there (node --cpu-prof).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Health, PutOutcome, createAdminClient, createPromiseClient } from "../src/client/index.js";
import { startZooKeeper } from "../test/zk/zk-server.js";
import { machine, ms, summarize, table, verdict } from "./stats.js";

// 150 default agents (8 cpus each) hold ~12,000 simple.yml services (0.1 cpu): room for the
// warm-up, the 2,000 sequential puts and 3 s of puts at the target rate (≥ 2,000/s).
const AGENTS = process.argv[2] ?? "150";
const WARMUP = 500;
const SEQUENTIAL = 2000;
const RAW_SEQUENTIAL = 1000;
const CALLERS = 16;
const CONCURRENT_MS = 3000;
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const SPEC = readFileSync(here("../examples/simple.yml"), "utf8");

// --- the server child -------------------------------------------------------------------------
const STORE = process.env["BENCH_STORE"] ?? "sqlite";
const zk = STORE === "zk" ? await startZooKeeper() : undefined;
const storeOption = zk ? `zk://${zk.connect}/bench-a` : STORE;
const child = spawn(process.execPath, [...(process.env["BENCH_PROF"] ? ["--cpu-prof", `--cpu-prof-dir=${process.env["BENCH_PROF"]}`] : []), "--import", "tsx", here("./server-child.ts"), AGENTS], {
  stdio: ["pipe", "pipe", "inherit"],
  env: { ...process.env, BENCH_STORE: storeOption },
});
const waiting: ((line: string) => void)[] = [];
createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(line));
const nextLine = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("server child did not answer within 30 s")), 30_000);
    waiting.push((line) => {
      clearTimeout(t);
      resolve(line);
    });
  });
child.on("exit", (code) => {
  if (code !== 0 && code !== null) console.error(`server child exited with ${code}`);
});
interface ServerStats {
  services: number;
  running: number;
  deploying: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}
interface RawWrites {
  bytes: number;
  seqP50: number;
  seqP99: number;
  rate: number;
  concP50: number;
  concP99: number;
}
async function rawWrites(): Promise<RawWrites> {
  const line = nextLine();
  child.stdin.write(`raw ${RAW_SEQUENTIAL} ${CALLERS} ${CONCURRENT_MS}\n`);
  return JSON.parse(await line) as RawWrites;
}
async function serverStats(): Promise<ServerStats> {
  const line = nextLine();
  child.stdin.write("stats\n");
  return JSON.parse(await line) as ServerStats;
}

const { address } = JSON.parse(await nextLine()) as { address: string };
const admin = createAdminClient({ address, defaultDeadlineMs: 30_000 });
const health = createPromiseClient(Health, address, undefined, { defaultDeadlineMs: 30_000 });

// --- calls ------------------------------------------------------------------------------------
let seq = 0;
let failures = 0;
const check = (): Promise<unknown> => health.check({ service: "" });
const put = (prefix: string) => async (): Promise<unknown> => {
  const name = `${prefix}-${String(seq++).padStart(6, "0")}`;
  const r = await admin.putService({ name, spec: SPEC });
  if (r.outcome !== PutOutcome.CREATED) throw new Error(`${name}: outcome ${PutOutcome[r.outcome]}`);
  return r;
};

async function timed(call: () => Promise<unknown>, out: number[]): Promise<void> {
  const t = performance.now();
  try {
    await call();
    out.push(performance.now() - t);
  } catch (err) {
    if (failures++ < 3) console.error("call failed:", (err as Error).message);
  }
}

async function sequential(call: () => Promise<unknown>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) await timed(call, out);
  return out;
}

/** CALLERS loops on one channel for CONCURRENT_MS; calls still running at the end are not counted. */
async function concurrent(call: () => Promise<unknown>): Promise<{ rate: number; latencies: number[] }> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + CONCURRENT_MS;
  let done = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < end) {
        await timed(call, latencies);
        if (performance.now() <= end) done++;
      }
    }),
  );
  return { rate: done / (CONCURRENT_MS / 1000), latencies };
}

// --- run --------------------------------------------------------------------------------------
console.log(`(a) gRPC PutService on the ${STORE} store vs floors — ${machine()}`);
console.log(`server: startCorral --store ${storeOption} in a child process, sim cluster of ${AGENTS} default agents, logger silent; address ${address}`);
for (let i = 0; i < WARMUP / 2; i++) {
  await check();
  await put("warm")();
}
const floorSeq = summarize(await sequential(check, SEQUENTIAL));
const floorConc = await concurrent(check);
const raw = await rawWrites();
const before = await serverStats();
const putSeq = summarize(await sequential(put("seq"), SEQUENTIAL));
const putConc = await concurrent(put("conc"));
const after = await serverStats();

const fc = summarize(floorConc.latencies);
const pc = summarize(putConc.latencies);
console.log(`warm-up: ${WARMUP} calls (${WARMUP / 2} Health/Check + ${WARMUP / 2} PutService), then ${SEQUENTIAL} sequential calls and ${CALLERS} callers × ${CONCURRENT_MS / 1000} s of each`);
console.log(
  table([
    ["call", "seq p50", "seq p99", "conc calls/s", "conc p50", "conc p99"],
    ["floor: Health/Check (empty gRPC call)", ms(floorSeq.p50), ms(floorSeq.p99), floorConc.rate.toFixed(0), ms(fc.p50), ms(fc.p99)],
    [`floor: raw ${STORE} multi, ${raw.bytes} B (in the server)`, ms(raw.seqP50), ms(raw.seqP99), raw.rate.toFixed(0), ms(raw.concP50), ms(raw.concP99)],
    ["PutService (simple.yml)", ms(putSeq.p50), ms(putSeq.p99), putConc.rate.toFixed(0), ms(pc.p50), ms(pc.p99)],
  ]),
);
const budget = raw.seqP50 + 2 * floorSeq.p50;
console.log(
  `PutService p50 ${ms(putSeq.p50)} vs raw write p50 + 2 × empty call p50 = ${ms(budget)}  (target PutService p50 ≤ that: ${verdict(putSeq.p50 <= budget)})`,
);
console.log(
  `PutService concurrent ${putConc.rate.toFixed(0)} calls/s = ${((putConc.rate / raw.rate) * 100).toFixed(0)}% of the raw concurrent write rate, ${((putConc.rate / floorConc.rate) * 100).toFixed(0)}% of the empty call's (no target)`,
);
console.log(`failed calls: ${failures}`);
console.log(
  `load note: the services deploy on the sim in the server process while PutService is measured (realistic load). ` +
    `Before the PutService phases: ${before.services} services (${before.running} RUNNING); after: ${after.services} ` +
    `(${after.running} RUNNING, ${after.deploying} still DEPLOYING). Server event-loop delay p99 ${after.loopDelayP99Ms} ms, max ${after.loopDelayMaxMs} ms.`,
);

admin.close();
health.close();
child.stdin.end("stop\n");
await new Promise((resolve) => child.once("exit", resolve));
await zk?.stop();

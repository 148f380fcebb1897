/**
 * Bench (a): PutService over real gRPC against an empty-call floor measured in the same run.
 * The server (startCorral, sim cluster) runs in a child process so client and server are separate
 * Node processes, as in toolchain §7. Figures are printed, never asserted.
 * Usage: npx tsx bench/grpc-put.ts [simAgents=150]
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Health, PutOutcome, createAdminClient, createPromiseClient } from "../src/client/index.js";
import { machine, ms, summarize, table, verdict } from "./stats.js";

// 150 default agents (8 cpus each) hold ~12,000 simple.yml services (0.1 cpu): room for the
// warm-up, the 2,000 sequential puts and 3 s of puts at the target rate (≥ 2,000/s).
const AGENTS = process.argv[2] ?? "150";
const WARMUP = 500;
const SEQUENTIAL = 2000;
const CALLERS = 16;
const CONCURRENT_MS = 3000;
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const SPEC = readFileSync(here("../examples/simple.yml"), "utf8");

// --- the server child -------------------------------------------------------------------------
const child = spawn(process.execPath, ["--import", "tsx", here("./server-child.ts"), AGENTS], {
  stdio: ["pipe", "pipe", "inherit"],
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
console.log(`(a) gRPC PutService vs floor — ${machine()}`);
console.log(`server: startCorral in a child process, sim cluster of ${AGENTS} default agents, logger silent; address ${address}`);
for (let i = 0; i < WARMUP / 2; i++) {
  await check();
  await put("warm")();
}
const floorSeq = summarize(await sequential(check, SEQUENTIAL));
const floorConc = await concurrent(check);
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
    ["floor: Health/Check", ms(floorSeq.p50), ms(floorSeq.p99), floorConc.rate.toFixed(0), ms(fc.p50), ms(fc.p99)],
    ["PutService (simple.yml)", ms(putSeq.p50), ms(putSeq.p99), putConc.rate.toFixed(0), ms(pc.p50), ms(pc.p99)],
  ]),
);
const p50Ratio = putSeq.p50 / floorSeq.p50;
const rateRatio = putConc.rate / floorConc.rate;
console.log(`PutService p50 / floor p50      = ${p50Ratio.toFixed(2)}×  (target ≤ 2×: ${verdict(p50Ratio <= 2)})`);
console.log(`PutService rate / floor rate    = ${(rateRatio * 100).toFixed(0)}%  (target ≥ 50%: ${verdict(rateRatio >= 0.5)})`);
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

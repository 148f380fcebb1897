/**
 * Bench: deploy N services of 3 hostname-UNIQUE pods on AGENTS simulated agents with the
 * deployment limit (`--max-parallel-deploys LIMIT`), in-process (MultiServiceScheduler +
 * SimulatedCluster + MemoryPersister + SystemClock, as bench/reconfigure-scale.ts), beside the
 * same deploy without constraints and without the limit, in the same run; each deploy on a fresh
 * scheduler, store and cluster. Time from the first put to the first offer cycle that finds
 * every service idle (every deploy plan COMPLETE). The four deploys run in turn REPS times (the
 * median is shown), so a noisy neighbour does not land on one of them alone. Issue 13, item 11.
 * Printed, never asserted.
 * Usage: npx tsx bench/steer-scale.ts [N=1000] [AGENTS=1000] [LIMIT=50] [REPS=3] [timeoutS=300]
 */
import { pino } from "pino";
import { CryptoRandom, SystemClock } from "../src/adapters/clock.js";
import { SimulatedCluster } from "../src/adapters/cluster/simulated-cluster.js";
import type { SimAgentSpec } from "../src/adapters/cluster/simulated-cluster.js";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../src/engine/scheduler.js";
import { machine, ms, summarize, table } from "./stats.js";

const N = Number(process.argv[2] ?? "1000");
const AGENTS = Number(process.argv[3] ?? "1000");
const LIMIT = Number(process.argv[4] ?? "50");
const REPS = Number(process.argv[5] ?? "3");
const TIMEOUT_S = Number(process.argv[6] ?? "300");
const name = (i: number): string => `svc-${String(i).padStart(4, "0")}`;

function spec(placement: boolean): string {
  return [
    "name: {{SERVICE_NAME}}",
    "pods:",
    "  node:",
    "    count: 3",
    ...(placement ? [`    placement: '[["hostname", "UNIQUE"]]'`] : []),
    "    tasks:",
    "      server:",
    "        goal: RUNNING",
    "        cmd: sleep 1000",
    "        cpus: 0.1",
    "        memory: 256",
    "",
  ].join("\n");
}

// Small agents, so an unconstrained deploy spreads too: room for 8 such pods each.
const agentSpec: SimAgentSpec = { cpus: 1, memMb: 2048, diskMb: 1024, ports: { begin: 31000, end: 32000 } };

interface Variant {
  readonly label: string;
  readonly placement: boolean;
  readonly limit: number;
}

interface Outcome {
  readonly wallMs: number;
  readonly putMs: number;
  readonly timedOut: boolean;
  readonly cycles: number[];
  readonly complete: number;
  readonly launches: number;
  /** Services with two of their pods on one agent. */
  readonly packed: number;
  readonly refused: number;
}

async function deploy(v: Variant, n: number): Promise<Outcome> {
  const clock = new SystemClock({ unref: false });
  const persister = new MemoryPersister();
  const cluster = new SimulatedCluster({ agents: Array.from({ length: AGENTS }, () => agentSpec), clock, random: new CryptoRandom() });
  const cycles: number[] = [];
  let putting = true;
  let doneAt: number | undefined;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const scheduler = new MultiServiceScheduler(
    {
      persister,
      driver: cluster,
      clock,
      random: new CryptoRandom(),
      log: pino({ level: "silent" }),
      onCycle: (outcome, durationMs) => {
        cycles.push(durationMs);
        if (!putting && !outcome.working && doneAt === undefined) {
          doneAt = performance.now();
          finish();
        }
      },
    },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" }, maxParallelDeploys: v.limit },
  );
  await scheduler.start();
  while (!scheduler.runner.registered) await new Promise((r) => setTimeout(r, 1));
  const text = spec(v.placement);
  const t0 = performance.now();
  let refused = 0;
  for (let i = 0; i < n; i++) {
    await scheduler.putService({ name: name(i), spec: text, parameters: {} }).catch((err: unknown) => {
      if (refused++ === 0) console.log(`${v.label}: a put was refused: ${String(err)}`);
    });
  }
  const putMs = performance.now() - t0;
  putting = false;
  const timedOut =
    refused === n ||
    (await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), Math.max(0, t0 + TIMEOUT_S * 1000 - performance.now()))),
    ]));
  const wallMs = (doneAt ?? performance.now()) - t0;
  let complete = 0;
  for (let i = 0; i < n; i++) if (scheduler.getPlan(name(i), "deploy").status === "COMPLETE") complete++;
  const agentsOf = new Map<string, string[]>();
  for (const t of cluster.tasks()) {
    const svc = t.taskId.split("__")[0]!;
    agentsOf.set(svc, [...(agentsOf.get(svc) ?? []), t.agentId]);
  }
  const packed = [...agentsOf.values()].filter((agents) => new Set(agents).size < agents.length).length;
  const launches = cluster.counts.launches;
  if (!timedOut) await scheduler.stop();
  await cluster.close();
  cluster.stop();
  await persister.close();
  return { wallMs, putMs, timedOut, cycles, complete, launches, packed, refused };
}

const variants: Variant[] = [
  { label: "no constraints, no limit", placement: false, limit: 0 },
  { label: `no constraints, --max-parallel-deploys ${LIMIT}`, placement: false, limit: LIMIT },
  { label: `hostname:UNIQUE, no limit`, placement: true, limit: 0 },
  { label: `hostname:UNIQUE, --max-parallel-deploys ${LIMIT}`, placement: true, limit: LIMIT },
];

console.log(`deployment limit at scale, N=${N} services × 3 pods, ${AGENTS} agents, limit ${LIMIT} — ${machine()}`);
console.log(`cluster: ${AGENTS} agents × ${agentSpec.cpus} cpus / ${agentSpec.memMb} MB; each pod 0.1 cpus / 256 MB`);
// Warm-up (not reported): the first deploy of a process pays for the JIT.
await deploy(variants[3]!, Math.min(100, N));
const runs: Outcome[][] = variants.map(() => []);
for (let rep = 0; rep < REPS; rep++) for (const [i, v] of variants.entries()) runs[i]!.push(await deploy(v, N));
/** The run of median wall time (a timed-out run counts as the longest). */
const median = (rs: Outcome[]): Outcome => [...rs].sort((a, b) => (a.timedOut ? Infinity : a.wallMs) - (b.timedOut ? Infinity : b.wallMs))[Math.floor(rs.length / 2)]!;
const results = runs.map(median);

const base = results[0]!;
const rows = variants.map((v, i) => {
  const r = results[i]!;
  const c = summarize(r.cycles);
  const wall = r.timedOut ? `> ${ms(r.wallMs, 0)} (timeout)` : ms(r.wallMs, 0);
  return [
    v.label,
    `${wall} (${runs[i]!.map((x) => ms(x.wallMs, 0)).join(", ")})`,
    ms(r.putMs, 0),
    base.timedOut || r.timedOut ? "" : `${(r.wallMs / base.wallMs).toFixed(2)}×`,
    String(c.n),
    ms(c.p99, 1),
    `${r.complete}/${N}`,
    String(r.launches),
    String(r.packed),
  ];
});
console.log(
  table([
    ["deploy", `wall: first put → all COMPLETE (median of ${REPS})`, "of which puts", "÷ no constraints, no limit", "cycles", "cycle p99", "COMPLETE", "launches", "services with 2 pods on one agent"],
    ...rows,
  ]),
);
const target = results[3]!;
if (!target.timedOut && !base.timedOut) {
  console.log(`hostname:UNIQUE with --max-parallel-deploys ${LIMIT} / no constraints, no limit: ${(target.wallMs / base.wallMs).toFixed(2)}×`);
}
process.exit(0);

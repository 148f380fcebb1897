/**
 * Bench: reconfigure N running hello-world services in-process (MultiServiceScheduler +
 * SimulatedCluster + MemoryPersister + SystemClock). First a fresh deploy of the N services
 * (timed: the cost to compare with), then each is put again with one pod changed (an env value
 * of the world pod's task: its 2 instances are killed and relaunched in place, hello-0 is left
 * alone), and the time until every service's plan is COMPLETE again is taken. Target (issue 12,
 * item 7): ≤ 3 s for N = 1,000. Printed, never asserted.
 * Usage: npx tsx bench/reconfigure-scale.ts [N=1000] [timeoutS=120]
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { CryptoRandom, SystemClock } from "../src/adapters/clock.js";
import { SimulatedCluster } from "../src/adapters/cluster/simulated-cluster.js";
import type { SimAgentSpec } from "../src/adapters/cluster/simulated-cluster.js";
import { MemoryPersister } from "../src/adapters/persister/memory-persister.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../src/engine/scheduler.js";
import { machine, ms, summarize, table, verdict } from "./stats.js";

const N = Number(process.argv[2] ?? "1000");
const TIMEOUT_S = Number(process.argv[3] ?? "120");
const AGENTS = 50;
const TARGET_MS = 3000;
const HELLO = readFileSync(fileURLToPath(new URL("../examples/hello-world.yml", import.meta.url)), "utf8");
const name = (i: number): string => `svc-${String(i).padStart(4, "0")}`;

/** hello-world with an env value on the world pod's task: the one pod a re-put changes. */
function spec(greeting: string): string {
  const anchor = "        kill-grace-period: 10\n";
  if (!HELLO.includes(anchor)) throw new Error("examples/hello-world.yml changed: no world kill-grace-period line to anchor the env on");
  return HELLO.replace(anchor, `${anchor}        env:\n          GREETING: ${greeting}\n`);
}
const BEFORE = spec("hello");
const AFTER = spec("bonjour");

// Sized like bench/deploy-scale.ts: hello-world's needs × N over 50 agents, +30%.
const perAgent = (x: number): number => Math.ceil(((x * N) / AGENTS) * 1.3);
const agentSpec: SimAgentSpec = { cpus: perAgent(0.5), memMb: perAgent(1276), diskMb: perAgent(125), ports: { begin: 31000, end: 32000 } };

const clock = new SystemClock({ unref: false });
const persister = new MemoryPersister();
const cluster = new SimulatedCluster({ agents: Array.from({ length: AGENTS }, () => agentSpec), clock, random: new CryptoRandom() });

interface Phase {
  readonly cycles: number[];
  putting: boolean;
  doneAt: number | undefined;
  finish: () => void;
  readonly finished: Promise<void>;
}
function phase(): Phase {
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  return { cycles: [], putting: true, doneAt: undefined, finish: () => finish(), finished };
}
let current = phase();

const scheduler = new MultiServiceScheduler(
  {
    persister,
    driver: cluster,
    clock,
    random: new CryptoRandom(),
    log: pino({ level: "silent" }),
    onCycle: (outcome, durationMs) => {
      const p = current;
      p.cycles.push(durationMs);
      // A cycle that found every service IDLE: every plan is COMPLETE.
      if (!p.putting && !outcome.working && p.doneAt === undefined) {
        p.doneAt = performance.now();
        p.finish();
      }
    },
  },
  { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } },
);
await scheduler.start();
while (!scheduler.runner.registered) await new Promise((r) => setTimeout(r, 1));

function completeCount(): number {
  let done = 0;
  for (let i = 0; i < N; i++) if (scheduler.getPlan(name(i), scheduler.getService(name(i)).plans[0]?.name ?? "deploy").status === "COMPLETE") done++;
  return done;
}

/** Puts every service with `text`, then waits until all are idle; the wall time from the first put. */
async function run(text: string): Promise<{ wallMs: number; putMs: number; timedOut: boolean; cycles: number[]; outcomes: Map<string, number> }> {
  current = phase();
  const p = current;
  const outcomes = new Map<string, number>();
  const t0 = performance.now();
  let refused: unknown;
  for (let i = 0; i < N; i++) {
    const outcome = await scheduler.putService({ name: name(i), spec: text, parameters: {} }).then(
      (r) => r.outcome,
      (err: unknown) => {
        refused ??= err;
        return "REFUSED";
      },
    );
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  }
  const putMs = performance.now() - t0;
  if (refused !== undefined) console.log(`puts refused (${outcomes.get("REFUSED")}), the first with: ${String(refused)}`);
  if (outcomes.get("REFUSED") === N) return { wallMs: Number.NaN, putMs, timedOut: true, cycles: p.cycles, outcomes };
  p.putting = false;
  const timedOut = await Promise.race([
    p.finished.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(true), Math.max(0, t0 + TIMEOUT_S * 1000 - performance.now()))),
  ]);
  return { wallMs: (p.doneAt ?? performance.now()) - t0, putMs, timedOut, cycles: p.cycles, outcomes };
}

console.log(`reconfigure scale, N=${N} — ${machine()}`);
console.log(`cluster: ${AGENTS} agents × ${agentSpec.cpus} cpus / ${agentSpec.memMb} MB / ${agentSpec.diskMb} MB disk`);
const launches0 = cluster.counts.launches;
const deploy = await run(BEFORE);
const deployed = completeCount();
const launches1 = cluster.counts.launches;
const killsBefore = cluster.counts.kills;
const reconfigure = deploy.timedOut ? undefined : await run(AFTER);
const reconfigured = reconfigure === undefined ? 0 : completeCount();

const row = (label: string, r: typeof deploy | undefined, target: boolean): string[] => {
  if (r === undefined) return [label, "not run (the deploy timed out)", "", "", "", "", ""];
  const c = summarize(r.cycles);
  const wall = !r.timedOut ? ms(r.wallMs, 0) : Number.isNaN(r.wallMs) ? "not measured: every put refused" : `> ${ms(r.wallMs, 0)} (timeout)`;
  return [label, wall, ms(r.putMs, 0), ms(r.wallMs / N, 2), String(c.n), ms(c.p99, 0), target ? verdict(!r.timedOut && r.wallMs <= TARGET_MS) : ""];
};
console.log(
  table([
    ["phase", "wall: first put → all COMPLETE", "of which puts", "per service", "cycles", "cycle p99", `≤ ${TARGET_MS} ms (N=1000)`],
    row(`fresh deploy (${[...deploy.outcomes].map(([k, v]) => `${v} ${k}`).join(", ")})`, deploy, false),
    row(`reconfigure: world env (${[...(reconfigure?.outcomes ?? [])].map(([k, v]) => `${v} ${k}`).join(", ")})`, reconfigure, N === 1000),
  ]),
);
if (reconfigure !== undefined && !reconfigure.timedOut) {
  console.log(`reconfigure per service / deploy per service: ${(reconfigure.wallMs / deploy.wallMs).toFixed(2)}×`);
}
console.log(
  `plans COMPLETE: ${deployed}/${N} after the deploy, ${reconfigured}/${N} after the reconfiguration; sim: ` +
    `${launches1 - launches0} launches for the deploy, ${cluster.counts.launches - launches1} for the reconfiguration ` +
    `(expected ${2 * N}: the world instances), ${cluster.counts.kills - killsBefore} kills`,
);

if (reconfigure !== undefined && !reconfigure.timedOut) await scheduler.stop();
await cluster.close();
cluster.stop();
await persister.close();
process.exit(0);

/**
 * The Corral server of the gRPC bench, run as its own Node process so client and server do not
 * share an event loop (as in toolchain §7). Uses the real composition root, `startCorral`, with a
 * silent logger. Protocol on stdio: prints `{"address":…}` once serving; on a `stats` line from
 * stdin prints how far the sim deployment got and the event-loop delay since the last `stats`; exits on `stop` or when stdin closes (parent gone).
 * Usage: node --import tsx bench/server-child.ts [simAgents]
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { pino } from "pino";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCorral } from "../src/app.js";
import { resolveOptions } from "../src/config.js";

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

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  lag.disable();
  await corral.stop();
  process.exit(0);
}

const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (line.trim() === "stats") {
    process.stdout.write(`${JSON.stringify(stats())}\n`);
    lag.reset(); // the next stats cover only what happened since this one
  }
  if (line.trim() === "stop") void stop();
});
lines.on("close", () => void stop());
process.on("SIGTERM", () => void stop());
process.stdout.write(`${JSON.stringify({ address: corral.address, agents: Number(agents) })}\n`);

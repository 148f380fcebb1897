/**
 * `npm run chaos -- --iterations N [--seed S] [--keep] [--quiet]`: the kill -9 run (chaos.ts).
 * `npm run chaos -- --replicas 3 --iterations N [--seed S] [--session-timeout 4] [--every-kind]`:
 * the replicated run on ZooKeeper (replicated.ts).
 * Prints each iteration, then the counts, violations (with seed and iteration) and times.
 * Exits 1 on any invariant violation.
 */
import { runChaos, summaryLines } from "./chaos.js";
import { replicatedSummaryLines, runReplicated } from "./replicated.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const USAGE = "usage: npm run chaos -- --iterations N [--seed S] [--keep] [--quiet] [--replicas R [--session-timeout SECONDS] [--every-kind]]";
const iterations = Number(arg("iterations") ?? "20");
const seed = Number(arg("seed") ?? String(Math.floor(Math.random() * 2 ** 31)));
const replicas = arg("replicas") === undefined ? undefined : Number(arg("replicas"));
const sessionTimeoutS = Number(arg("session-timeout") ?? "4");
if (
  !Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(seed) ||
  (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 2)) || !(sessionTimeoutS >= 1)
) {
  console.error(USAGE);
  process.exit(2);
}
const quiet = process.argv.includes("--quiet");
console.log(
  replicas === undefined
    ? `kill -9 run: ${iterations} iterations, seed ${seed} (replay with --seed ${seed})`
    : `replicated chaos run: ${replicas} replicas on ZooKeeper, session timeout ${sessionTimeoutS} s, ${iterations} iterations, seed ${seed} (replay with --seed ${seed})`,
);
// Ctrl-C ends the run after the current iteration, with the usual clean-up; a second one at once.
const abort = new AbortController();
process.on("SIGINT", () => {
  if (abort.signal.aborted) process.exit(130);
  console.log("stopping after this iteration (Ctrl-C again to stop now, leaving processes behind)");
  abort.abort();
});
const common = {
  signal: abort.signal,
  iterations,
  seed,
  keep: process.argv.includes("--keep"),
  log: (line: string): void => {
    if (!quiet || line.startsWith("VIOLATION")) console.log(line);
  },
};
let violations: number;
if (replicas === undefined) {
  const report = await runChaos(common);
  for (const line of summaryLines(report)) console.log(line);
  violations = report.violations.length;
} else {
  const report = await runReplicated({ ...common, replicas, sessionTimeoutS, everyKind: process.argv.includes("--every-kind") });
  for (const line of replicatedSummaryLines(report)) console.log(line);
  violations = report.violations.length;
}
process.exit(violations > 0 ? 1 : 0);

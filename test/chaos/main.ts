/**
 * `npm run chaos -- --iterations N [--seed S] [--keep] [--quiet]`: the kill -9 run (chaos.ts).
 * Prints each iteration, then the counts, violations (with seed and iteration) and times.
 * Exits 1 on any invariant violation.
 */
import { runChaos, summaryLines } from "./chaos.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const iterations = Number(arg("iterations") ?? "20");
const seed = Number(arg("seed") ?? String(Math.floor(Math.random() * 2 ** 31)));
if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(seed)) {
  console.error("usage: npm run chaos -- --iterations N [--seed S] [--keep] [--quiet]");
  process.exit(2);
}
const quiet = process.argv.includes("--quiet");
console.log(`kill -9 run: ${iterations} iterations, seed ${seed} (replay with --seed ${seed})`);
// Ctrl-C ends the run after the current iteration, with the usual clean-up; a second one at once.
const abort = new AbortController();
process.on("SIGINT", () => {
  if (abort.signal.aborted) process.exit(130);
  console.log("stopping after this iteration (Ctrl-C again to stop now, leaving processes behind)");
  abort.abort();
});
const report = await runChaos({
  signal: abort.signal,
  iterations,
  seed,
  keep: process.argv.includes("--keep"),
  log: (line) => {
    if (!quiet || line.startsWith("VIOLATION")) console.log(line);
  },
});
for (const line of summaryLines(report)) console.log(line);
process.exit(report.violations.length > 0 ? 1 : 0);

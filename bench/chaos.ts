/**
 * The kill -9 run as a benchmark (issue 10, deliverable 7): 50 iterations of test/chaos's run
 * on the local agent (the agent daemon among what is killed), printing time-to-healthy and time-to-converged p50/max overall and per
 * kill window (target: converged ≤ 2.5 s after healthy in every window). Printed, never asserted.
 *   npx tsx bench/chaos.ts [iterations] [seed]
 * or, from another bench file: `await runChaosBench(50)`.
 */
import { fileURLToPath } from "node:url";
import { runChaos, summaryLines } from "../test/chaos/chaos.js";
import type { ChaosReport } from "../test/chaos/chaos.js";

export async function runChaosBench(iterations = 50, seed = Math.floor(Math.random() * 2 ** 31)): Promise<ChaosReport> {
  const report = await runChaos({ iterations, seed });
  for (const line of summaryLines(report)) console.log(line);
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const iterations = Number(process.argv[2] ?? "50");
  const seed = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
  const report = await runChaosBench(iterations, seed);
  process.exitCode = report.violations.length > 0 ? 1 : 0;
}

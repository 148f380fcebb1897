/**
 * `npm run fuzz -- --runs N [--seed S] [--shrink-ms MS]`: the property-based fuzz of every
 * MultiServiceAdmin RPC (see run.ts for the properties). Prints the status counts, the seed, the
 * RSS after the run and every failure class with a shrunk counterexample; exits 1 on any
 * violation.
 */
import { parseArgs } from "node:util";
import { formatReport, runFuzz } from "./run.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    seed: { type: "string" },
    "shrink-ms": { type: "string", default: "60000" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});

if (values.help) {
  console.log("usage: npm run fuzz -- [--runs N] [--seed S] [--shrink-ms MS]");
  process.exit(0);
}

const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs <= 0) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);

let lastPrint = 0;
const report = await runFuzz({
  runs,
  ...(seed === undefined ? {} : { seed }),
  shrinkBudgetMs: Number(values["shrink-ms"]),
  maxShrunk: 50,
  progress: (done, total) => {
    if (process.stderr.isTTY && (Date.now() - lastPrint > 1000 || done === total)) {
      lastPrint = Date.now();
      process.stderr.write(`\r${done}/${total} cases`);
      if (done === total) process.stderr.write("\n");
    }
  },
});
console.log(formatReport(report));
process.exitCode = report.classes.length > 0 ? 1 : 0;

/**
 * CI entry of the fuzz (issue 10, deliverable 6): 1,000 cases over every MultiServiceAdmin RPC
 * against a real server, failing on any property violation with the seed and the shrunk
 * counterexample of each failure class. More cases: `npm run fuzz -- --runs 100000`.
 * FUZZ_SEED=<n> replays a seed.
 */
import { describe, expect, it } from "vitest";
import { MultiServiceAdmin } from "../../gen/corral/v1/admin_pb.js";
import { GENERATORS, missingGenerators } from "./generators.js";
import { formatReport, runFuzz } from "./run.js";

describe("fuzz of corral.v1.MultiServiceAdmin", () => {
  it("has a generator for every RPC of the service descriptor", () => {
    expect(missingGenerators()).toEqual([]);
    expect(Object.keys(GENERATORS).sort()).toEqual(MultiServiceAdmin.methods.map((m) => m.name).sort());
  });

  it("1,000 cases: defined statuses, no INTERNAL/UNKNOWN of ours, trailers < 4 KiB, nothing stored when rejected, always healthy", async () => {
    const seed = process.env["FUZZ_SEED"] === undefined ? undefined : Number(process.env["FUZZ_SEED"]);
    const report = await runFuzz({ runs: 1000, ...(seed === undefined ? {} : { seed }), shrinkBudgetMs: 15_000, maxShrunk: 8 });
    const text = formatReport(report);
    console.log(text);
    expect(report.classes.length, text).toBe(0);
  }, 180_000);
});

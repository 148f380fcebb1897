/**
 * The temp-dir check of `npm test` (vitest globalSetup): before the run, tags it (CORRAL_TEST_RUN,
 * which every worker inherits and temp-dir.ts puts in each temp entry's name) and records the
 * entries of os.tmpdir(); after the run (teardown), lists the `corral-*` entries the run created
 * that are still there and fails the run (exit code 1) when there are any.
 *
 * Other processes on the machine create temp entries too, so only names starting with
 * `corral-` count, and of those the entries that carry this run's tag fail the run. Any other
 * `corral-*` entry created during the run (a test that does not name its temp dirs with
 * temp-dir.ts, another test run on the same machine, a scheduler started by hand) fails it
 * under CI (CI set: the machine runs this suite alone) and is listed as a warning otherwise.
 *
 * test/last/temp-dirs.test.ts makes the same check a test result (it runs after every other
 * file); this teardown is the backstop that also covers a filtered run.
 */
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUN_TAG_ENV, TEMP_PREFIX } from "./temp-dir.js";

function entries(): string[] {
  try {
    return readdirSync(tmpdir());
  } catch {
    return [];
  }
}

let baseline = new Set<string>();
let tag = "";

export function setup(): void {
  tag = `r${BigInt(`0x${randomBytes(8).toString("hex")}`).toString(36).slice(-6).padStart(6, "0")}`;
  process.env[RUN_TAG_ENV] = tag;
  baseline = new Set(entries());
}

export function teardown(): void {
  const created = entries().filter((e) => e.startsWith(TEMP_PREFIX) && !baseline.has(e)).sort();
  const ours = created.filter((e) => e.includes(`-${tag}-`));
  const others = created.filter((e) => !e.includes(`-${tag}-`));
  const strict = Boolean(process.env["CI"]);
  const where = tmpdir();
  const list = (names: string[]): string => names.map((n) => `  ${join(where, n)}`).join("\n");
  const lines: string[] = [];
  const fail = ours.length > 0 || (strict && others.length > 0);
  if (ours.length === 0 && others.length === 0) {
    lines.push(`temp-dir check: the tests left nothing in ${where} (run ${tag})`);
  }
  if (ours.length > 0) {
    lines.push(`temp-dir check FAILED: the tests left ${ours.length} ${ours.length === 1 ? "entry" : "entries"} in ${where} (run ${tag}); remove them in afterAll/afterEach (test/use-temp-dir.ts):`, list(ours));
  }
  if (others.length > 0) {
    lines.push(
      `temp-dir check${strict ? " FAILED" : " warning"}: ${others.length} ${TEMP_PREFIX}* ${others.length === 1 ? "entry" : "entries"} not of this run appeared in ${where} during it` +
        ` (a test that does not name its temp dirs with test/temp-dir.ts, or another run or program on this machine)${strict ? "" : "; not counted outside CI"}:`,
      list(others),
    );
  }
  const text = lines.join("\n");
  if (fail) {
    console.error(`\n${text}\n`);
    process.exitCode = 1;
  } else {
    console.log(`\n${text}\n`);
  }
}

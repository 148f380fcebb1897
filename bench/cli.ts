/**
 * (j) The `corral` CLI's start-up: wall time of `node src/cli/corral list` (the bin, running the
 * bundle dist/cli/corral.mjs) against a scheduler in its own process, beside a bare `node -e 0`
 * in the same run, the two in turn (A B A B …) so drift of a shared machine hits both.
 * Target (issue 11): p50 ≤ 300 ms and ≤ 3 × `node -e 0`. Printed, never asserted.
 * Usage: npx tsx bench/cli.ts [runs]   (default 10; one warm-up of each first)
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { ms, summarize, table, verdict } from "./stats.js";

const RUNS = Number(process.argv[2] ?? "10");
const TARGET_MS = 300;
const TARGET_RATIO = 3;
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));
const ROOT = here("..");
const BIN = here("../src/cli/corral");

/** Wall milliseconds of one child process, from spawn to exit; throws on a non-zero exit. */
async function wall(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const [code] = (await once(child, "exit")) as [number | null];
  const elapsed = performance.now() - started;
  if (code !== 0) throw new Error(`node ${args.join(" ")} exited ${code}: ${stderr}`);
  return elapsed;
}

/**
 * The scheduler under the CLI: bench/server-child.ts, memory store, simulated cluster. Its data
 * directory goes to a temporary directory of ours (TMPDIR), removed when it stops.
 */
async function startScheduler(): Promise<{ address: string; stop(): Promise<void> }> {
  const temporary = mkdtempSync(join(tmpdir(), "corral-bench-cli-"));
  const child = spawn(process.execPath, ["--import", "tsx", here("./server-child.ts"), "1"], {
    cwd: ROOT,
    env: { ...process.env, BENCH_STORE: "memory", TMPDIR: temporary },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await once(lines, "line")) as [string];
  const { address } = JSON.parse(first) as { address: string };
  return {
    address,
    stop: async () => {
      child.stdin.end("stop\n");
      await once(child, "exit");
      rmSync(temporary, { recursive: true, force: true });
    },
  };
}

console.log("building the bundle (node src/cli/bundle.mjs) …");
await wall([here("../src/cli/bundle.mjs")]);
const scheduler = await startScheduler();
try {
  const env = { ...process.env, CORRAL_SERVER: scheduler.address };
  const cli = [BIN, "list"];
  const bare = ["-e", "0"];
  await wall(cli, env);
  await wall(bare);
  const a: number[] = [];
  const b: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(await wall(cli, env));
    b.push(await wall(bare));
    ratios.push(a.at(-1)! / b.at(-1)!);
  }
  const sa = summarize(a);
  const sb = summarize(b);
  const sr = summarize(ratios);
  console.log(`${RUNS} runs each, in turn, against ${scheduler.address} (one warm-up of each not counted)`);
  console.log(
    table([
      ["command", "wall p50", "wall max"],
      ["node src/cli/corral list", ms(sa.p50, 1), ms(sa.max, 1)],
      ["node -e 0", ms(sb.p50, 1), ms(sb.max, 1)],
    ]),
  );
  console.log(`ratio (pair by pair): p50 ${sr.p50.toFixed(2)} ×, max ${sr.max.toFixed(2)} ×`);
  console.log(`target p50 ≤ ${TARGET_MS} ms: ${verdict(sa.p50 <= TARGET_MS)}; ≤ ${TARGET_RATIO} × node -e 0: ${verdict(sr.p50 <= TARGET_RATIO)}`);
} finally {
  await scheduler.stop();
}

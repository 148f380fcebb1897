/**
 * `npm run bench`: runs each section in its own child process (fresh heap, own event loop) one
 * after the other — (a) gRPC PutService vs floor, (b) deploy 1,000 services, (c) deploy 10,000 —
 * and prints the machine first. Figures are printed, never asserted; a section's failure is
 * reported and the next one still runs.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { machine } from "./stats.js";

const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

const sections: { title: string; args: string[]; env?: Record<string, string> }[] = [
  { title: "(a) gRPC PutService vs empty-call floor, memory store", args: ["--import", "tsx", here("./grpc-put.ts")], env: { BENCH_STORE: "memory" } },
  { title: "(a') the same on the default SQLite store (fsync per write)", args: ["--import", "tsx", here("./grpc-put.ts")], env: { BENCH_STORE: "sqlite" } },
  { title: "(b) deploy 1,000 hello-world services", args: ["--expose-gc", "--import", "tsx", here("./deploy-scale.ts"), "1000", "120"] },
  { title: "(c) deploy 10,000 hello-world services (no target)", args: ["--expose-gc", "--import", "tsx", here("./deploy-scale.ts"), "10000", "120"] },
];

console.log(`Corral benchmarks — ${machine()}`);
const only = process.argv[2];
for (const [i, s] of sections.entries()) {
  if (only !== undefined && only !== ["a", "a", "b", "c"][i]) continue;
  console.log(`\n=== ${s.title} ===`);
  const started = performance.now();
  const r = spawnSync(process.execPath, s.args, { stdio: "inherit", env: { ...process.env, ...s.env } });
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  console.log(r.status === 0 ? `(section took ${secs} s)` : `section ended with status ${r.status ?? r.signal} after ${secs} s`);
}

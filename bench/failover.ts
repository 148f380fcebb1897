/**
 * Failover time (issue 17, deliverable 6): three scheduler replicas on a real ZooKeeper and one
 * data directory, a service deployed; per trial kill -9 the leader and time until another replica
 * answers PutService OK (each live replica's address polled with a 1 s deadline per call), then
 * start the killed one again (it stands by) for the next trial. Also printed: kill → the new
 * leader's "leading" log line. Target: p99 ≤ session timeout + 2 s. Printed, never asserted.
 *   npx tsx bench/failover.ts [trials=20] [--session-timeout S]   (or BENCH_ZK_SESSION_TIMEOUT; default 10, the scheduler's)
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Status } from "../src/client/index.js";
import { stopAgent } from "../src/adapters/cluster/agent/daemon.js";
import { ReplicaSet } from "../test/chaos/replica-set.js";
import { specText } from "../test/chaos/specs.js";
import { killLocalProcesses } from "../test/chaos/world.js";
import { makeTempDir } from "../test/temp-dir.js";
import { startZooKeeper } from "../test/zk/zk-server.js";
import { summarize, table, verdict } from "./stats.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const flag = process.argv.indexOf("--session-timeout");
const sessionTimeoutS = Number(flag >= 0 ? process.argv[flag + 1] : (process.env["BENCH_ZK_SESSION_TIMEOUT"] ?? "10"));
const trials = Number(process.argv.slice(2).find((a, i, all) => /^\d+$/.test(a) && all[i - 1] !== "--session-timeout") ?? "20");
const SERVICE = "bench-failover";

const dir = makeTempDir("bench-failover");
const dataDir = join(dir, "data");
const logDir = join(dir, "logs");
mkdirSync(logDir, { recursive: true });
const zk = await startZooKeeper();
const set = new ReplicaSet({ store: `zk://${zk.connect}/bench-failover`, dataDir, logDir, sessionTimeoutS });
const servedMs: number[] = [];
const leadingMs: number[] = [];
let failed = 0;
try {
  console.log(`3 replicas, --zk-session-timeout ${sessionTimeoutS} s, ${trials} trials; logs in ${logDir}`);
  await set.start(3);
  if ((await set.untilLeader(120_000)) < 0) throw new Error("no replica leads");
  await set.clients.onLeader((c) => c.putService({ name: SERVICE, spec: specText("simple"), parameters: {} }), 60_000);
  for (;;) {
    const { plan } = await set.clients.onLeader((c) => c.getPlan({ name: SERVICE }), 60_000);
    if (plan?.status === Status.COMPLETE) break;
    await sleep(100);
  }
  for (let t = 0; t < trials; t++) {
    const slot = set.leaderSlot();
    const leader = set.slots[slot]!;
    const killedAt = performance.now();
    const killedAtEpoch = Date.now();
    await set.kill(leader);
    const served = await set.putServedBy(SERVICE, leader, sessionTimeoutS * 1000 + 60_000);
    const next = set.leaderSlot();
    const leading = next >= 0 ? set.slots[next]!.roles.findLast((l) => l.msg === "leading")?.time : undefined;
    if (served === undefined) {
      failed++;
      console.log(`trial ${t + 1}: no replica answered PutService within ${sessionTimeoutS + 60} s`);
    } else {
      servedMs.push(served - killedAt);
      if (leading !== undefined) leadingMs.push(leading - killedAtEpoch);
      console.log(`trial ${t + 1}: killed ${leader.name}; ${set.slots[next]?.name ?? "?"} led after ${leading === undefined ? "?" : leading - killedAtEpoch} ms, served PutService after ${(served - killedAt).toFixed(0)} ms`);
    }
    await set.restart(slot);
    // The restarted replica stands by before the next kill (it logs "standing by").
    while (!set.slots[slot]!.roles.some((l) => l.msg === "standing by") && set.slots[slot]!.alive()) await sleep(50);
  }
} finally {
  await set.close();
  await stopAgent(join(dataDir, "agent"), { killTasks: true }).catch(() => false);
  await killLocalProcesses(dataDir);
  await zk.stop();
  rmSync(dir, { recursive: true, force: true });
}

const target = sessionTimeoutS * 1000 + 2000;
const s = summarize(servedMs);
const l = summarize(leadingMs);
const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : "n/a");
console.log(
  table([
    ["measure (ms)", "n", "p50", "p99", "max"],
    ["kill → another replica answers PutService OK", String(s.n), f(s.p50), f(s.p99), f(s.max)],
    ["kill → the new leader logs \"leading\"", String(l.n), f(l.p50), f(l.p99), f(l.max)],
  ]),
);
console.log(`target p99 ≤ session timeout ${sessionTimeoutS} s + 2 s = ${target} ms: ${verdict(s.n > 0 && s.p99 <= target)}${failed > 0 ? ` (${failed} trials never served)` : ""}`);

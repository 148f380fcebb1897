/**
 * Bench (e), recovery time (issue 3): N stored hello-world services (copies of one deployed for
 * real: context, config, 3 TaskInfos with reservations, RUNNING statuses, confirmations) on
 * SQLite and on ZooKeeper; then a fresh process opens the store and starts the scheduler, timed
 * from opening the store to `scheduler.start()` resolved with every service rebuilt and its
 * tasks loaded (bench/recovery-child.ts). Targets: ≤ 1 s for 1,000, ≤ 10 s for 10,000.
 * Each store is restarted twice in a row, both timed and checked: the first restart after the
 * fill meets a ZooKeeper server (a fresh JVM) that has served no reads yet, so its read path
 * is still being compiled; the second meets it warm, as a scheduler failing over meets a
 * long-running ensemble. The child's CPU time is printed beside: steadier than wall time on a
 * shared machine.
 * The memory store has nothing to recover after a restart and is not measured.
 * Usage: npx tsx bench/recovery.ts [N…=1000 10000] [--store sqlite|zk|all]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SqlitePersister } from "../src/adapters/persister/sqlite-persister.js";
import { ZooKeeperPersister } from "../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { Persister } from "../src/engine/ports.js";
import { startZooKeeper } from "../test/zk/zk-server.js";
import type { ZooKeeperServer } from "../test/zk/zk-server.js";
import { deployedTemplate, fillServices } from "./fixture.js";
import { ms, table, verdict } from "./stats.js";

const args = process.argv.slice(2);
const storeArg = args.includes("--store") ? args[args.indexOf("--store") + 1]! : "all";
const counts = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== "--store").map(Number);
const ns = counts.length > 0 ? counts : [1000, 10_000];
const stores = storeArg === "all" ? ["sqlite", "zk"] : [storeArg];
const child = fileURLToPath(new URL("./recovery-child.ts", import.meta.url));

interface ChildResult {
  openMs: number;
  recoveryMs: number;
  cpuMs: number;
  sinceProcessStartMs: number;
  loadedMs: number;
  services: number;
  complete: number;
  quarantined: number;
  heapMb: number;
}

const template = await deployedTemplate();
console.log(`(e) recovery: stored services are copies of one deployed hello-world (${template.leaves.length} nodes, ${template.bytes} bytes each)`);
const rows: string[][] = [["store", "services", "fill", "restart", "open store", "open → all serving", "its CPU", "process start → all serving", "deploy COMPLETE", "target", ""]];
const dir = mkdtempSync(join(tmpdir(), "corral-recovery-"));
let zk: ZooKeeperServer | undefined;
try {
  for (const kind of stores) {
    if (kind === "zk") zk = await startZooKeeper();
    for (const n of ns) {
      const where = kind === "zk" ? `zk://${zk!.connect}/bench-recovery-${n}` : join(dir, `r${n}`, "corral.db");
      const filling: Persister =
        kind === "zk" ? await ZooKeeperPersister.open(where) : SqlitePersister.open(where);
      const t = performance.now();
      await fillServices(filling, template, n);
      const fillMs = performance.now() - t;
      await filling.close();
      const size = kind === "sqlite" ? ` (${(statSync(where).size / 1024 / 1024).toFixed(0)} MB file)` : "";
      for (const restart of ["1st", "2nd"]) {
        const r = spawnSync(process.execPath, ["--import", "tsx", child, where], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
        const line = r.stdout.trim().split("\n").at(-1) ?? "";
        let got: ChildResult;
        try {
          got = JSON.parse(line) as ChildResult;
        } catch {
          console.log(`${kind} ${n}: the recovery child failed (status ${r.status}): ${r.stdout}`);
          continue;
        }
        const targetMs = n <= 1000 ? 1000 : 10_000;
        rows.push([
          kind,
          String(n),
          restart === "1st" ? `${(fillMs / 1000).toFixed(1)} s${size}` : "",
          restart,
          ms(got.openMs, 0),
          ms(got.recoveryMs, 0),
          ms(got.cpuMs, 0),
          ms(got.sinceProcessStartMs, 0),
          `${got.complete}/${got.services}${got.quarantined ? ` (${got.quarantined} quarantined)` : ""}`,
          `≤ ${targetMs} ms`,
          verdict(got.recoveryMs <= targetMs && got.complete === n),
        ]);
        console.log(
          `${kind} ${n}, ${restart} restart: recovered in ${ms(got.recoveryMs, 0)}, CPU ${ms(got.cpuMs, 0)} (child heap ${got.heapMb.toFixed(0)} MB, modules loaded at ${ms(got.loadedMs, 0)})`,
        );
      }
    }
    if (zk) {
      await zk.stop();
      zk = undefined;
    }
  }
  console.log(table(rows));
  console.log(
    "'open → all serving' is what the target is checked on; 'its CPU' is the restarted process's CPU time (all its threads) over that span; 'process start' adds Node start-up and loading the code under tsx. " +
      "The 1st restart meets a ZooKeeper JVM that has served no reads yet; the 2nd meets it warm.",
  );
} finally {
  await zk?.stop();
  rmSync(dir, { recursive: true, force: true });
}

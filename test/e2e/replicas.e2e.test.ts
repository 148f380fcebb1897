/**
 * Three scheduler processes (`src/main.ts`) on one ZooKeeper root, sharing a data directory and
 * its local agent, as the README runs them: one leads, the others stand by (UNAVAILABLE naming
 * the leader, health "" SERVING / MultiServiceAdmin NOT_SERVING); kill -9 the leader and another
 * leads, with what was put before the kill. A scheduler with a store of its own is refused on
 * their directory.
 */
import * as grpc from "@grpc/grpc-js";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { leaderOf } from "../../src/adapters/grpc/status.js";
import { SQLITE_FILE } from "../../src/store-open.js";
import {
  Health,
  HealthCheckResponse_ServingStatus,
  MultiServiceAdmin,
  createAdminClient,
  createPromiseClient,
} from "../../src/client/index.js";
import { killEverything, tempDataDir } from "../local/local-harness.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";
import { completedTaskIds, killSchedulers, runToEnd, startScheduler } from "./scheduler-process.js";
import type { SchedulerProcess } from "./scheduler-process.js";

const zk = useZooKeeper();
const spec = readFileSync(new URL("../../examples/simple.yml", import.meta.url), "utf8");

const dirs: string[] = [];
afterEach(async () => {
  killSchedulers();
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await check();
    if (got !== undefined && got !== false) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const logged = (s: SchedulerProcess, msg: string): Record<string, unknown>[] => s.log.filter((l) => l["msg"] === msg);
/** Leading now, by its own log: its last election line is "leading". */
const leads = (s: SchedulerProcess): boolean =>
  s.log.filter((l) => ["leading", "stepped down", "standing by"].includes(String(l["msg"]))).at(-1)?.["msg"] === "leading";

/** A standby's refusal: the status code and the corral-leader trailer (no client-side following). */
async function refusal(address: string): Promise<{ code: number | undefined; leader: string | undefined }> {
  const raw = createPromiseClient(MultiServiceAdmin, address, undefined, { defaultDeadlineMs: 5000 });
  try {
    await raw.listServices({});
    return { code: grpc.status.OK, leader: undefined };
  } catch (err) {
    const e = err as { code?: number; metadata?: grpc.Metadata };
    return { code: e.code, leader: leaderOf(e.metadata) };
  } finally {
    raw.close();
  }
}

async function health(address: string, service: string): Promise<HealthCheckResponse_ServingStatus> {
  const client = createPromiseClient(Health, address, undefined, { defaultDeadlineMs: 5000 });
  try {
    return (await client.check({ service })).status;
  } finally {
    client.close();
  }
}

describe("three replicas on one ZooKeeper store", () => {
  it("one leads, the others stand by naming it; after kill -9 of the leader another leads with the services put before", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const store = `zk://${zk().connect}/corral-replicas-${process.pid}`;
    const args = ["--store", store, "--cluster", "local", "--zk-session-timeout", "4", "--metrics-listen", "off"];
    const first = await startScheduler(dataDir, args);
    const rest = [await startScheduler(dataDir, args), await startScheduler(dataDir, args)];
    const all = [first, ...rest];
    // The first to start leads (alone in line when it joined); the others stand by, and their start-up line says so.
    expect(leads(first)).toBe(true);
    expect(all.map((s) => logged(s, "corral is serving")[0]?.["role"])).toEqual(["leader", "standby", "standby"]);
    expect(logged(first, "leading")[0]?.["address"]).toBe(first.address);
    for (const s of rest) {
      expect(leads(s)).toBe(false);
      expect(logged(s, "standing by")).not.toHaveLength(0);
      expect(await refusal(s.address)).toEqual({ code: grpc.status.UNAVAILABLE, leader: first.address });
      expect(await health(s.address, "")).toBe(HealthCheckResponse_ServingStatus.SERVING);
      expect(await health(s.address, MultiServiceAdmin.typeName)).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    }
    expect(await health(first.address, "")).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(await health(first.address, MultiServiceAdmin.typeName)).toBe(HealthCheckResponse_ServingStatus.SERVING);
    // A scheduler with a store of its own is refused on the replicas' directory (it would drive
    // their local agent as another framework), and writes nothing there.
    const own = await runToEnd(["--listen", "127.0.0.1:0", "--data-dir", dataDir, "--store", "sqlite", "--metrics-listen", "off"]);
    expect(own).toEqual({
      code: 1,
      stderr: `corral: Corral replicas on a ZooKeeper store share ${dataDir}; a scheduler with a store of its own needs a data directory of its own (--data-dir)\n`,
    });
    expect(existsSync(join(dataDir, SQLITE_FILE))).toBe(false);
    // A store command on the replicas' store holds the directory as they do: ZooKeeper's lock, held by the leader, refuses it.
    const listing = await runToEnd(["--data-dir", dataDir, "--store", store, "--cluster", "local", "--list-backups"]);
    expect(listing.code).toBe(1);
    expect(listing.stderr).toContain(`another Corral scheduler holds /corral-replicas-${process.pid}/dcos-service-corral/lock`);
    expect(listing.stderr).toContain(`"address":"${first.address}"`);

    const client = createAdminClient({ address: first.address, defaultDeadlineMs: 5000 });
    await client.putService({ name: "before", spec, parameters: {} });
    client.close();
    const before = await completedTaskIds(first.address, "before");
    expect(before).toHaveLength(1);

    first.child.kill("SIGKILL");
    await first.exited;
    const next = await until("a standby to lead", () => rest.find(leads));
    // "leading" comes as the lock is taken; the engine serves once it has recovered.
    await until("the new leader to serve", () => logged(next, "serving as the leader").length > 0);
    const other = rest.find((s) => s !== next)!;
    expect(leads(other)).toBe(false);
    expect(all.filter(leads).map((s) => s.address)).toEqual([first.address, next.address]); // first's log ends "leading": it was killed

    // The new leader has the service put before the kill, with the same task (adopted, not relaunched).
    expect(await completedTaskIds(next.address, "before")).toEqual(before);
    const again = createAdminClient({ address: next.address, defaultDeadlineMs: 5000 });
    try {
      await again.putService({ name: "after", spec, parameters: {} });
      expect((await again.listServices({})).services.map((s) => s.name).sort()).toEqual(["after", "before"]);
    } finally {
      again.close();
    }
    expect(await completedTaskIds(next.address, "after")).toHaveLength(1);
    // The remaining standby sends clients to the new leader.
    expect(await until("the standby to name the new leader", async () => {
      const r = await refusal(other.address);
      return r.leader === next.address ? r : undefined;
    })).toEqual({ code: grpc.status.UNAVAILABLE, leader: next.address });
    expect(await health(next.address, MultiServiceAdmin.typeName)).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(await health(other.address, MultiServiceAdmin.typeName)).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
  });
});

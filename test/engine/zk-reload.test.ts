/**
 * After its ZooKeeper lock was lost and held again while another scheduler held it, the
 * scheduler reloads its state from the store: what the other one stored meanwhile is seen and
 * deployed. Real ZooKeeper behind a TCP proxy that partitions the first scheduler (its session
 * expires); simulated cluster on a fake clock.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { ZkLockKeeper } from "../../src/adapters/persister/zookeeper/zk-lock-keeper.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../../src/engine/scheduler.js";
import { SchedulerKeeper } from "../../src/engine/scheduler-keeper.js";
import { example } from "../harness/harness.js";
import { startTcpProxy } from "../zk/tcp-proxy.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";

const zk = useZooKeeper();
const log = pino({ level: "silent" });
const OPTIONS = { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } };

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

async function until(what: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("regaining the ZooKeeper lock", () => {
  it("reloads the scheduler's state from the store, with what another scheduler stored meanwhile", async () => {
    const root = `/corral-reload-${process.pid}`;
    const clock = new FakeClock();
    const cluster = new SimulatedCluster({ agents: 3, clock, random: new SeededRandom(99) });
    const proxy = await startTcpProxy(zk().connect);
    cleanup.push(() => proxy.close());
    const relay: { keeper?: ZkLockKeeper } = {};
    const a = await ZooKeeperPersister.open(`${proxy.connect}${root}`, {
      sessionTimeoutMs: 2000,
      probeIntervalMs: 120_000,
      onEvent: (e) => relay.keeper?.onSessionEvent(e),
    });
    cleanup.push(() => a.close());
    const lockA = await ZkLockKeeper.acquire(a, log);
    relay.keeper = lockA;
    cleanup.push(() => lockA.release());
    const keeper = new SchedulerKeeper({ persister: a, driver: cluster, clock, random: new SeededRandom(1), log, fence: lockA }, OPTIONS);
    cleanup.push(() => keeper.stop());
    const pump = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 1000) {
        await keeper.settled();
        await keeper.scheduler.runner.queue.idle();
        await clock.advanceAsync(1000);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await keeper.start();
    await keeper.api.putService({ name: "hello", spec: example("simple.yml"), parameters: {} });
    await pump(20_000);
    expect(keeper.api.getPlan("hello", "deploy").status).toBe("COMPLETE");
    const first = keeper.scheduler;

    // A is partitioned; its session expires and B takes the lock and adds a service.
    const b = await ZooKeeperPersister.open(`${zk().connect}${root}`, { sessionTimeoutMs: 4000 });
    cleanup.push(() => b.close());
    const waiting = ZkLockKeeper.acquire(b, log, { waitMs: 30_000, pollMs: 50 });
    proxy.freeze();
    const lockB = await waiting;
    const other = new MultiServiceScheduler({ persister: b, driver: cluster, clock, random: new SeededRandom(2), log, fence: lockB }, OPTIONS);
    await other.start();
    await other.putService({ name: "other", spec: example("simple.yml"), parameters: {} });
    await other.stop();
    await lockB.release();

    // A learns its session expired, queues for the lock again and gets it: a fresh engine.
    proxy.thaw();
    await until(() => keeper.reloads === 1 && lockA.holds());
    await keeper.settled();
    expect(keeper.scheduler).not.toBe(first);
    expect(keeper.api.listServices().map((s) => s.name)).toEqual(["hello", "other"]);
    await pump(30_000);
    expect(keeper.api.getPlan("other", "deploy").status).toBe("COMPLETE");
    expect(cluster.tasks().map((t) => t.taskId.split("__")[0]).sort()).toEqual(["hello", "other"]);
  }, 60_000);
});

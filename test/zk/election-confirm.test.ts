/**
 * A replica confirms its lead on the real ZooKeeper server right before a term subscribes to the
 * cluster: a leader whose election node is already gone (and whose own-node watch never fired,
 * as a watch set on a replaced client never does) must not subscribe — a second subscription
 * fails the real leader's framework over. It queues again with a new node and leads with that.
 */
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import { ZkLockKeeper } from "../../src/adapters/persister/zookeeper/zk-lock-keeper.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { ClusterEvents, FrameworkInfo } from "../../src/engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS } from "../../src/engine/scheduler.js";
import { SchedulerKeeper } from "../../src/engine/scheduler-keeper.js";
import { useZooKeeper } from "./use-zookeeper.js";

const zk = useZooKeeper();
const log = pino({ level: "silent" });
const OPTIONS = { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" } };

let cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

async function until(what: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Counts subscriptions (each one would fail another subscriber's framework over). */
class CountingCluster extends SimulatedCluster {
  subscriptions = 0;
  override subscribe(info: FrameworkInfo, events: ClusterEvents): Promise<void> {
    this.subscriptions++;
    return super.subscribe(info, events);
  }
}

async function open(root: string): Promise<ZooKeeperPersister> {
  const relay: { election?: ZkLockKeeper } = {};
  const store = await ZooKeeperPersister.open(`${zk().connect}${root}`, { sessionTimeoutMs: 4000, onEvent: (e) => relay.election?.onSessionEvent(e) });
  cleanup.push(() => store.close());
  return store;
}

describe("a replica's lead, confirmed before it subscribes", () => {
  it("does not open a term on a node deleted before the term starts (its watch lost); it queues again and leads with a new node", async () => {
    const root = `/corral-election-confirm-${process.pid}`;
    const store = await open(root);
    const other = await open(root);
    // Every watch this client sets is lost, as on a client the session replaced: only a fresh read tells.
    const calls = store.zkSession.calls;
    const watchExists = calls.watchExists.bind(calls);
    calls.watchExists = (path, _watcher) => watchExists(path, () => undefined);
    const election = ZkLockKeeper.campaign(store, log, { address: "a:1", pollMs: 200 });
    cleanup.push(() => election.release());
    await election.firstTurn;
    expect(election.holds()).toBe(true);
    const deleted = election.lockNode()!;

    await other.zkSession.calls.remove(deleted);
    const clock = new FakeClock();
    const cluster = new CountingCluster({ agents: 1, clock, random: new SeededRandom(9) });
    const led: string[] = [];
    const keeper = SchedulerKeeper.replica({ persister: new MemoryPersister(), clock, random: new SeededRandom(1), log, fence: election }, OPTIONS, {
      openDriver: async () => cluster,
      closeDriver: (driver) => driver.close(),
      confirmLead: async () => {
        const leads = await election.confirmLead();
        if (leads) led.push(election.lockNode()!);
        return leads;
      },
    });
    cleanup.push(() => keeper.stop());
    await keeper.start();
    await keeper.settled();
    expect(cluster.subscriptions).toBe(0);
    expect(keeper.running).toBeUndefined();

    // The election learnt it does not lead, queued a new node, leads with it: now the term begins.
    await until(() => keeper.running !== undefined);
    await keeper.settled();
    expect(cluster.subscriptions).toBe(1);
    expect(led).toHaveLength(1);
    expect(led[0]).not.toBe(deleted);
    expect(await other.zkSession.calls.exists(deleted)).toBeNull();
  });
});

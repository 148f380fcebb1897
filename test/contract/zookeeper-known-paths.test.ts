/**
 * The persister's cache of paths known to exist (known-paths.ts): how many read rounds a multi
 * costs before its transaction, and that the cache never outlives what it may assume — a lost
 * session, our own delete, or a node deleted behind our back by another client.
 */
import zookeeper from "node-zookeeper-client";
import { afterEach, describe, expect, it } from "vitest";
import { KnownPaths } from "../../src/adapters/persister/zookeeper/known-paths.js";
import { withDeadline } from "../../src/adapters/persister/zookeeper/calls.js";
import type { ZkCalls } from "../../src/adapters/persister/zookeeper/calls.js";
import type { ZkSessionEvent } from "../../src/adapters/persister/zookeeper/session.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import type { PersisterOp } from "../../src/engine/ports.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";

const zk = useZooKeeper();
let counter = 0;
const chroot = (label: string): string => `/corral-test/known-${label}-${process.pid}-${++counter}`;
const enc = new TextEncoder();
const dec = new TextDecoder();
const set = (path: string, value = path): PersisterOp => ({ kind: "set", path, data: enc.encode(value) });

/**
 * Counts what the persister asks the server: a read round starts when a read is issued while
 * none is in flight (reads of one round leave together); commits are transactions sent.
 */
function instrument(store: ZooKeeperPersister): { rounds: number; reads: number; commits: number; reset(): void } {
  const calls = store.zkSession.calls;
  const counts = {
    rounds: 0,
    reads: 0,
    commits: 0,
    reset() {
      counts.rounds = counts.reads = counts.commits = 0;
    },
  };
  let inFlight = 0;
  for (const name of ["exists", "getChildren", "getData", "multiRead"] as const) {
    const slots = calls as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    const original = slots[name]!.bind(calls);
    slots[name] = (...args: unknown[]): Promise<unknown> => {
      if (inFlight++ === 0) counts.rounds++;
      counts.reads++;
      return original(...args).finally(() => inFlight--);
    };
  }
  const commit = calls.commit.bind(calls);
  calls.commit = (...args: Parameters<ZkCalls["commit"]>) => {
    counts.commits++;
    return commit(...args);
  };
  return counts;
}

/** A plain second client on the same server: "another writer". */
async function otherClient(): Promise<{ remove(path: string): Promise<void>; close(): void }> {
  const client = zookeeper.createClient(zk().connect, { sessionTimeout: 4000 });
  client.connect();
  await new Promise<void>((resolve) => client.once("connected", () => resolve()));
  return {
    remove: (path) => withDeadline(`remove ${path}`, 5000, (done) => client.remove(path, -1, (e) => done(e))),
    close: () => client.close(),
  };
}

/** PutService's multi (grpc-put bench): a context create and two sets, all parents new. */
const putService = (name: string): PersisterOp[] => [
  { kind: "create", path: `ServiceList/${name}/Context`, data: enc.encode("ctx") },
  set(`Services/${name}/Configurations/c1`),
  set(`Services/${name}/ConfigTarget`),
];

describe("KnownPaths", () => {
  it("knows ancestors with a path, drops subtrees, ignores additions from before a clear", () => {
    const k = new KnownPaths("/r");
    k.add("/r/a/b/c", k.epoch);
    expect(["/r", "/r/a", "/r/a/b", "/r/a/b/c"].map((p) => k.has(p))).toEqual([true, true, true, true]);
    k.add("/r/a/x", k.epoch);
    k.drop("/r/a/b");
    expect([k.has("/r/a"), k.has("/r/a/b"), k.has("/r/a/b/c"), k.has("/r/a/x")]).toEqual([true, false, false, true]);
    const before = k.epoch;
    k.clear();
    k.add("/r/late", before);
    expect([k.has("/r/late"), k.has("/r/a"), k.size]).toEqual([false, false, 0]);
    const small = new KnownPaths("/", 3);
    for (const p of ["/a", "/b", "/c", "/d"]) small.add(p, small.epoch);
    expect([small.has("/d"), small.size]).toEqual([true, 1]);
  });
});

describe("ZooKeeperPersister: paths known to exist", () => {
  let store: ZooKeeperPersister | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("plans PutService of a new service in one read round and a status write in none", async () => {
    store = await ZooKeeperPersister.open(`${zk().connect}${chroot("rounds")}`);
    const n = instrument(store);
    // Cold cache, new subtrees: every node and its ancestors in one round.
    await store.multi(putService("s0"));
    expect({ rounds: n.rounds, commits: n.commits }).toEqual({ rounds: 1, commits: 1 });
    // Warm (ServiceList, Services known): one round for the new service's nodes.
    n.reset();
    await store.multi(putService("s1"));
    expect({ rounds: n.rounds, reads: n.reads, commits: n.commits }).toEqual({ rounds: 1, reads: 5, commits: 1 });
    // A task's status written at launch, then updated: no reads at all.
    await store.multi([set("Tasks/t1/TaskInfo"), set("Tasks/t1/TaskStatus", "STAGING")]);
    n.reset();
    await store.multi([set("Tasks/t1/TaskStatus", "RUNNING")]);
    expect({ rounds: n.rounds, commits: n.commits }).toEqual({ rounds: 0, commits: 1 });
    expect(dec.decode((await store.get("Tasks/t1/TaskStatus"))?.data)).toBe("RUNNING");
    // Nodes seen by reads count too (recovery reads every task before statuses flow).
    const fresh = await ZooKeeperPersister.open(`${zk().connect}${store.root}`);
    try {
      const m = instrument(fresh);
      expect(await fresh.children("Tasks/t1")).toEqual(["TaskInfo", "TaskStatus"]);
      m.reset();
      await fresh.multi([set("Tasks/t1/TaskStatus", "FINISHED")]);
      expect(m.rounds).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it("forgets what our own delete removed: a set below it recreates the parents without a retry", async () => {
    store = await ZooKeeperPersister.open(`${zk().connect}${chroot("delete")}`);
    await store.multi([set("Services/s/Configurations/c1"), set("Services/s/ConfigTarget")]);
    const n = instrument(store);
    await store.multi([{ kind: "delete", path: "Services/s" }]);
    expect(store.known.has(`${store.root}/Services`)).toBe(true);
    expect(store.known.has(`${store.root}/Services/s`)).toBe(false);
    expect(store.known.has(`${store.root}/Services/s/Configurations/c1`)).toBe(false);
    n.reset();
    await store.multi([set("Services/s/Configurations/c1", "again")]);
    expect({ rounds: n.rounds, commits: n.commits }).toEqual({ rounds: 1, commits: 1 });
    expect(dec.decode((await store.get("Services/s/Configurations/c1"))?.data)).toBe("again");
    expect(await store.get("Services/s/ConfigTarget")).toBeUndefined();
  });

  it("recovers when another client deleted known nodes behind our back: clears the cache and plans again", async () => {
    store = await ZooKeeperPersister.open(`${zk().connect}${chroot("behind")}`);
    await store.multi([set("Tasks/t1/TaskStatus", "RUNNING"), set("Tasks/t2/TaskInfo")]);
    const other = await otherClient();
    try {
      await other.remove(`${store.root}/Tasks/t1/TaskStatus`);
      await other.remove(`${store.root}/Tasks/t1`);
      const n = instrument(store);
      // setData planned from the cache fails (NO_NODE): replanned as parent + create.
      await store.multi([set("Tasks/t1/TaskStatus", "LOST")]);
      expect(n.commits).toBe(2);
      expect(dec.decode((await store.get("Tasks/t1/TaskStatus"))?.data)).toBe("LOST");
      // A create under a known parent that is gone (NO_NODE on the create itself) is replanned too.
      expect(await store.get("Tasks/t2/TaskInfo")).toBeDefined(); // known again (the failure cleared the cache)
      await other.remove(`${store.root}/Tasks/t2/TaskInfo`);
      await other.remove(`${store.root}/Tasks/t2`);
      n.reset();
      await store.multi([{ kind: "create", path: "Tasks/t2/TaskInfo", data: enc.encode("again") }]);
      expect(n.commits).toBe(2);
      expect(dec.decode((await store.get("Tasks/t2/TaskInfo"))?.data)).toBe("again");
    } finally {
      other.close();
    }
  });

  it("clears the cache on a session loss (server frozen past the session timeout)", async () => {
    const events: ZkSessionEvent[] = [];
    store = await ZooKeeperPersister.open(`${zk().connect}${chroot("frozen")}`, {
      sessionTimeoutMs: 2000,
      callTimeoutMs: 1000,
      onEvent: (e) => events.push(e),
    });
    await store.multi([set("Tasks/t1/TaskStatus", "RUNNING")]);
    expect(store.known.has(`${store.root}/Tasks/t1/TaskStatus`)).toBe(true);
    process.kill(zk().pid, "SIGSTOP");
    try {
      while (!events.some((e) => e.kind === "unavailable")) await new Promise((r) => setTimeout(r, 100));
      // The event handlers (the lock keeper's among them) run after the cache is gone.
      expect(store.known.size).toBe(0);
    } finally {
      process.kill(zk().pid, "SIGCONT");
    }
    // Wait for the new session with a read that proves nothing exists (a missing node lists as []).
    for (;;) {
      if (await store.children("none").catch(() => undefined)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    // Back on a new session: nothing known before the loss is trusted; the status is read again once.
    const n = instrument(store);
    await store.multi([set("Tasks/t1/TaskStatus", "FINISHED")]);
    expect({ rounds: n.rounds, commits: n.commits }).toEqual({ rounds: 1, commits: 1 });
    n.reset();
    await store.multi([set("Tasks/t1/TaskStatus", "KILLED")]);
    expect(n.rounds).toBe(0);
  }, 30_000);
});

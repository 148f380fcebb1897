/** A contender waiting for the ZooKeeper lock stops when its signal aborts, leaving no node behind. */
import { describe, expect, it } from "vitest";
import { acquireZkLock } from "../../src/adapters/persister/zookeeper/zk-lock.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";

const zk = useZooKeeper();

describe("acquireZkLock with a signal", () => {
  it("rejects with the signal's reason once aborted, removing its node; the holder keeps the lock", async () => {
    const connect = `${zk().connect}/corral-lock-abort-test/dcos-service-a-${process.pid}`;
    const first = await ZooKeeperPersister.open(connect, { sessionTimeoutMs: 4000 });
    const second = await ZooKeeperPersister.open(connect, { sessionTimeoutMs: 4000 });
    try {
      const held = await acquireZkLock(first);
      const abort = new AbortController();
      const reason = new Error("stop");
      const waiting = acquireZkLock(second, { waitMs: 600_000, pollMs: 60_000, signal: abort.signal });
      const lockDir = `${first.root}/lock`;
      for (let i = 0; i < 100 && (await first.zkSession.calls.getChildren(lockDir)).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await first.zkSession.calls.getChildren(lockDir)).toHaveLength(2);
      abort.abort(reason);
      await expect(waiting).rejects.toBe(reason);
      expect(await first.zkSession.calls.getChildren(lockDir)).toEqual([held.node.slice(lockDir.length + 1)]);
      await expect(acquireZkLock(second, { signal: abort.signal })).rejects.toBe(reason);
      await held.release();
    } finally {
      await first.close();
      await second.close();
    }
  });
});

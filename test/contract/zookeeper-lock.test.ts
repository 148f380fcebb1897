/** The single-writer lock on a real ZooKeeper server. */
import { describe, expect, it } from "vitest";
import { acquireZkLock } from "../../src/adapters/persister/zookeeper/zk-lock.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";

const zk = useZooKeeper();

describe("acquireZkLock", () => {
  it("lets one scheduler hold a root; a second is refused, and gets it once the first goes", async () => {
    const connect = `${zk().connect}/corral-lock-test/dcos-service-a-${process.pid}`;
    const first = await ZooKeeperPersister.open(connect, { sessionTimeoutMs: 4000 });
    const second = await ZooKeeperPersister.open(connect, { sessionTimeoutMs: 4000 });
    try {
      const held = await acquireZkLock(first);
      await expect(acquireZkLock(second)).rejects.toMatchObject({
        code: "failed_precondition",
        message: expect.stringMatching(/another Corral scheduler holds .*\/lock \(\{"pid":\d+/),
      });
      // The refused contender left no node behind.
      expect(await first.zkSession.calls.getChildren(`${first.root}/lock`)).toHaveLength(1);

      // A waiting contender takes over when the holder's session ends (a crash looks the same).
      const waiting = acquireZkLock(second, { waitMs: 10_000, pollMs: 50 });
      await first.close();
      const taken = await waiting;
      expect(taken.node).not.toBe(held.node);
      await taken.release();
      expect(await second.zkSession.calls.getChildren(`${second.root}/lock`)).toEqual([]);
    } finally {
      await first.close().catch(() => undefined);
      await second.close();
    }
  });
});

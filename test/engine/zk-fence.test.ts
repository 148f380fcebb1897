/**
 * A scheduler whose ZooKeeper session is lost stops acting — no offer accepted, no update
 * acknowledged, nothing written — and picks up where it was once it holds its lock again.
 * Real ZooKeeper (frozen with SIGSTOP), simulated cluster on a fake clock.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ZkLockKeeper } from "../../src/adapters/persister/zookeeper/zk-lock-keeper.js";
import { ZooKeeperPersister } from "../../src/adapters/persister/zookeeper/zookeeper-persister.js";
import { useZooKeeper } from "../zk/use-zookeeper.js";
import { createHarness } from "../harness/harness.js";

const zk = useZooKeeper();

async function until(what: () => boolean): Promise<void> {
  while (!what()) await new Promise((r) => setTimeout(r, 100));
}

describe("losing the ZooKeeper session", () => {
  it("fences the scheduler until the lock is held again", async () => {
    // Session events reach the keeper once it exists.
    const relay: { keeper?: ZkLockKeeper } = {};
    const store = await ZooKeeperPersister.open(`${zk().connect}/corral-fence-${process.pid}`, {
      sessionTimeoutMs: 2000,
      callTimeoutMs: 1000,
      onEvent: (e) => relay.keeper?.onSessionEvent(e),
    });
    const keeper = await ZkLockKeeper.acquire(store, pino({ level: "silent" }));
    relay.keeper = keeper;
    const h = await createHarness({ persister: store, fence: keeper });
    try {
      await h.put("hello", "simple.yml");
      await h.deployAll(["hello"]);
      const [task] = h.cluster.tasks();

      process.kill(zk().pid, "SIGSTOP");
      try {
        await until(() => !keeper.holds());
        const { launches, acknowledges } = h.cluster.counts;
        h.cluster.failTask(task!.taskId);
        await h.advance(30_000);
        // Fenced: the failure is neither acknowledged nor acted on, and puts are refused.
        expect(h.cluster.counts.acknowledges).toBe(acknowledges);
        expect(h.cluster.counts.launches).toBe(launches);
        expect(h.scheduler.getPlan("hello", "recovery").phases).toHaveLength(0);
        await expect(h.put("other", "simple.yml")).rejects.toMatchObject({ code: "unavailable" });
      } finally {
        process.kill(zk().pid, "SIGCONT");
      }

      await until(() => keeper.holds());
      // The cluster re-sends the unacknowledged failure; now it is stored and recovered.
      const recovered = (): boolean => {
        const plan = h.scheduler.getPlan("hello", "recovery");
        return plan.phases.length > 0 && plan.status === "COMPLETE";
      };
      for (let i = 0; i < 60 && !recovered(); i++) await h.advance(5000);
      expect(h.scheduler.getPlan("hello", "recovery").phases.map((p) => p.status)).toEqual(["COMPLETE"]);
      expect(h.cluster.tasks().map((t) => t.name)).toEqual(["hello-0-server"]);
      expect(h.cluster.tasks()[0]!.taskId).not.toBe(task!.taskId);
    } finally {
      await h.scheduler.stop();
      await keeper.release();
      await store.close();
    }
  }, 60_000);
});

/**
 * ListPods answers as of one moment (scheduler-steer.ts): the service's records and its stored
 * tasks are read in one work item, so a status update that arrives while the tasks are being
 * read is in neither half until the next call. The store's reads are held open to make the
 * window that a slow store (ZooKeeper) has.
 */
import { describe, expect, it } from "vitest";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { Persister } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";

/** A store whose reads wait while `hold()` is on; writes go through. */
function heldReads(inner: Persister): Persister & { hold(): void; release(): void } {
  let gate: Promise<void> | undefined;
  let open = (): void => undefined;
  const wait = async (): Promise<void> => {
    if (gate) await gate;
  };
  return {
    get: async (path) => (await wait(), inner.get(path)),
    getMany: async (paths) => (await wait(), inner.getMany!(paths)),
    children: async (path) => (await wait(), inner.children(path)),
    multi: (ops) => inner.multi(ops),
    close: () => inner.close(),
    hold() {
      gate = new Promise((r) => (open = r));
    },
    release() {
      gate = undefined;
      open();
    },
  };
}

describe("ListPods", () => {
  it("answers as of one moment: a status update arriving while it reads is not half in the answer", async () => {
    const persister = heldReads(new MemoryPersister());
    const h = await createHarness({ persister });
    await h.put("svc", "simple.yml");
    await h.deployAll(["svc"]);
    const running = h.cluster.tasks().find((t) => t.state === "TASK_RUNNING")!;

    persister.hold();
    const listing = h.scheduler.listPods("svc");
    h.cluster.failTask(running.taskId);
    // The update is delivered and its work item may run (it stores with a write, which is not held).
    for (let i = 0; i < 5; i++) {
      await h.clock.advanceAsync(0);
      await new Promise((r) => setImmediate(r));
    }
    persister.release();
    const [pod] = await listing;
    expect(pod!.tasks.map((t) => [t.id, t.state])).toEqual([[running.taskId, "TASK_RUNNING"]]);
    expect(pod!.reservations.length).toBeGreaterThan(0);

    await h.settle();
    const [after] = await h.scheduler.listPods("svc");
    expect(after!.tasks.find((t) => t.id === running.taskId)?.state ?? "relaunched").not.toBe("TASK_RUNNING");
  });
});

import { describe, expect, it } from "vitest";
import { FakeClock } from "../../src/adapters/fake-clock.js";
import type { TaskInfo } from "../../src/domain/cluster.js";
import type { MultiServiceManager } from "../../src/engine/multi-service-manager.js";
import type { ClusterDriver, Logger } from "../../src/engine/ports.js";
import { Reconciler } from "../../src/engine/reconciler.js";

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => quiet };

describe("Reconciler", () => {
  it("asks once per pass for each task, however many services register one by one, and a retry asks for every unanswered one", async () => {
    const clock = new FakeClock();
    const pending = new Map<string, string[]>();
    const service = (name: string) => ({ pendingReconciliation: () => (pending.get(name) ?? []).map((taskId) => ({ taskId, agentId: "a" }) as TaskInfo) });
    const manager = { services: () => [...pending.keys()].map(service) } as unknown as MultiServiceManager;
    const requests: string[][] = [];
    const driver = { reconcile: async (tasks: { taskId: string }[]) => void requests.push(tasks.map((t) => t.taskId)) } as unknown as ClusterDriver;
    const r = new Reconciler(driver, clock, manager, quiet);
    for (const svc of ["a", "b", "c"]) {
      pending.set(svc, [`${svc}1`, `${svc}2`]);
      r.start(service(svc));
      await clock.advanceAsync(0);
    }
    // A pass over every service (a subscription) asks only for what was not asked yet.
    pending.set("d", ["d1"]);
    r.start();
    await clock.advanceAsync(0);
    expect(requests).toEqual([["a1", "a2"], ["b1", "b2"], ["c1", "c2"], ["d1"]]);
    pending.delete("d");
    pending.set("b", []); // b's tasks answered
    await clock.advanceAsync(8000);
    expect(requests.at(-1)).toEqual(["a1", "a2", "c1", "c2"]);
    pending.clear();
    await clock.advanceAsync(16_000);
    expect(requests).toHaveLength(5);
  });
});

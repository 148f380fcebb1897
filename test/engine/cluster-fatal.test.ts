/**
 * A cluster that no longer serves the framework (removed, or its ID taken over) stops the
 * scheduler with the reason: registering anew would orphan its reservations and tasks.
 */
import { describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import type { ClusterEvents, FrameworkInfo } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";

/** The simulated cluster, keeping the scheduler's event handlers so the test can raise `fatal`. */
class LosingCluster extends SimulatedCluster {
  events: ClusterEvents | undefined;
  override subscribe(info: FrameworkInfo, events: ClusterEvents): Promise<void> {
    this.events = events;
    return super.subscribe(info, events);
  }
}

describe("ClusterEvents.fatal", () => {
  it("halts the offer cycle and tells the process why, once", async () => {
    const clock = new FakeClock();
    const cluster = new LosingCluster({ agents: 3, clock, random: new SeededRandom(99) });
    const lost: string[] = [];
    const h = await createHarness({ clock, cluster, deps: { onClusterFatal: (m) => lost.push(m) } });
    await h.put("hello", "hello-world.yml");
    cluster.events!.fatal!("Framework has been removed");
    await h.advance(10_000);
    expect(lost).toEqual(["Framework has been removed"]);
    // Halted: no cycle accepts offers any more, so nothing of the service launched.
    expect(cluster.counts.accepts).toBe(0);
    expect(h.deployStatus("hello")).not.toBe("COMPLETE");
  });
});

/**
 * A REVIVE the cluster refused is not done: the runner must not believe the framework
 * un-suppressed, or a service put while every other one was idle waits for offers forever
 * (chaos seed 4245 found the driver-side case of this: a revive lost around a resubscription).
 */
import { describe, expect, it } from "vitest";
import { SchedulerError } from "../../src/domain/errors.js";
import type { ClusterDriver } from "../../src/engine/ports.js";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { createHarness } from "../harness/harness.js";

/** The cluster as a driver whose next `failures.revive` REVIVEs fail as a dropped connection would. */
function failingRevives(cluster: SimulatedCluster): { driver: ClusterDriver; failures: { revive: number } } {
  const failures = { revive: 0 };
  const driver = new Proxy(cluster, {
    get(target, prop) {
      if (prop === "revive" && failures.revive > 0) {
        return async (): Promise<void> => {
          failures.revive--;
          throw new SchedulerError("unavailable", "REVIVE: the connection to the master was reset");
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { driver, failures };
}

describe("a failed REVIVE", () => {
  it("is tried again, so a service put while the framework was suppressed still deploys", async () => {
    const clock = new FakeClock();
    const cluster = new SimulatedCluster({ agents: 3, clock, random: new SeededRandom(99) });
    const { driver, failures } = failingRevives(cluster);
    const h = await createHarness({ cluster, clock, deps: { driver } });
    await h.put("one", "simple.yml");
    await h.deployAll(["one"]);
    await h.advance(5000);
    const suppresses = cluster.counts.suppresses;
    expect(suppresses).toBeGreaterThanOrEqual(1);
    const revives = cluster.counts.revives;

    failures.revive = 1;
    await h.put("two", "simple.yml");
    await h.deployAll(["two"]);
    expect(failures.revive).toBe(0);
    expect(cluster.counts.revives).toBeGreaterThan(revives);
  });
});

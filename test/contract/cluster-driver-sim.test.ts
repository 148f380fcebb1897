/**
 * The ClusterDriver contract on the simulated cluster (FakeClock: no real time passes), with
 * and without a subscription broken mid-way.
 */
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { clusterDriverContract } from "./cluster-driver-contract.js";
import { startHarness } from "./cluster-driver-harness.js";
import type { HarnessTarget } from "./cluster-driver-harness.js";

function simTarget(options: { readonly disrupt: boolean }): HarnessTarget {
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({
    agents: 2,
    clock,
    random: new SeededRandom(14),
    frameworkId: "fw-contract",
    strictExecutorResources: true, // as Mesos (§11)
  });
  const reconnectMs = 1_000;
  return {
    // The simulated cluster is master and driver in one: a restarted scheduler resubscribes to it.
    newDriver: () => cluster,
    time: { kind: "fake", clock },
    realProcesses: false,
    loseAgent: async (agentId) => cluster.removeAgent(agentId),
    ...(options.disrupt
      ? {
          disrupt: async () => {
            cluster.disconnect("contract: subscription broken", reconnectMs);
            await clock.advanceAsync(reconnectMs);
          },
        }
      : {}),
    close: async () => cluster.stop(),
  };
}

clusterDriverContract("SimulatedCluster", () => startHarness(simTarget({ disrupt: false })));
clusterDriverContract("SimulatedCluster, subscription broken mid-way", () => startHarness(simTarget({ disrupt: true })));

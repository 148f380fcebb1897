/**
 * The ClusterDriver contract on the production path: the Mesos driver over the local agent's
 * Unix socket, the agent started in-process with two agents and real task processes. Once as
 * is, once with chaos: events written in random pieces, every UPDATE sent twice, and every
 * subscription stream dropped mid-way (the driver resubscribes with its framework ID).
 */
import pino from "pino";
import { expect } from "vitest";
import { CryptoRandom, SystemClock } from "../../src/adapters/clock.js";
import { LocalAgent } from "../../src/adapters/cluster/agent/agent.js";
import type { LocalAgentOptions } from "../../src/adapters/cluster/agent/agent.js";
import type { ClusterDriver } from "../../src/engine/ports.js";
import { tempDir } from "../use-temp-dir.js";
import { setChaos } from "../../src/adapters/cluster/agent/chaos-client.js";
import type { ChaosSettings } from "../../src/adapters/cluster/agent/chaos-client.js";
import { clusterDriverContract } from "./cluster-driver-contract.js";
import { agentDriver, startHarness } from "./cluster-driver-harness.js";
import type { HarnessTarget } from "./cluster-driver-harness.js";
import { killProcessesIn, processesIn } from "./cluster-driver-procs.js";
import { eventually } from "./eventually.js";

/** A fixed machine, so offers do not depend on the host; split into two agents. */
const MACHINE: NonNullable<LocalAgentOptions["machine"]> = {
  hostname: "contract",
  cpus: 2,
  memMb: 2048,
  diskMb: 2048,
  ports: { begin: 31000, end: 31099 },
};

async function agentTarget(chaos: { readonly knobs: ChaosSettings; readonly dropStreams: boolean } | undefined): Promise<HarnessTarget> {
  const stateDir = tempDir("contract-agent", { beforeRemove: (dir) => void killProcessesIn(dir) });
  const clock = new SystemClock();
  const random = new CryptoRandom();
  const log = pino({ level: "silent" });
  const agent = await LocalAgent.start({
    stateDir,
    agents: 2,
    machine: MACHINE,
    taskPath: process.env["PATH"] ?? "/usr/bin:/bin",
    canSwitchUser: false,
    heartbeatIntervalS: 1,
    statusRetryMs: 300, // the at-least-once case waits for a retry
    chaos: true,
    clock,
    random,
    log,
  });
  if (chaos) expect(await setChaos({ socketPath: agent.socketPath }, chaos.knobs), "the knobs in force").toMatchObject(chaos.knobs);
  const socketPath = agent.socketPath;
  return {
    newDriver: () => agentDriver(socketPath),
    time: { kind: "real", timeoutMs: 5_000 },
    realProcesses: true,
    loseAgent: async (agentId) => void (await setChaos({ socketPath }, { lose_agent: agentId })),
    ...(chaos?.dropStreams ? { disrupt: async () => void (await setChaos({ socketPath }, { drop_streams: true })) } : {}),
    close: async (driver: ClusterDriver) => {
      await driver.teardown().catch(() => undefined); // kills the framework's tasks
      await driver.close().catch(() => undefined);
      await agent.close();
      // Tasks of a lost agent are no longer the agent's: end whatever still works in its directory.
      await eventually(() => killProcessesIn(stateDir) === 0 && processesIn(stateDir).length === 0, 5_000, "no task left running");
    },
  };
}

clusterDriverContract("MesosDriver on the local agent", async () => startHarness(await agentTarget(undefined)));

clusterDriverContract("MesosDriver on the local agent, split records, duplicate updates, streams dropped", async () =>
  startHarness(await agentTarget({ knobs: { split_records: true, duplicate_updates: true }, dropStreams: true })),
);

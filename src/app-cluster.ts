/**
 * The cluster a scheduler runs on, opened from its options: this machine through the local
 * agent, a Mesos master, or the simulated cluster; and what that cluster can do.
 */
import type pino from "pino";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { CryptoRandom, SystemClock } from "./adapters/clock.js";
import { ensureAgent } from "./adapters/cluster/agent/daemon.js";
import { DEFAULT_PORTS, parsePortRanges } from "./adapters/cluster/agent/free-ports.js";
import { cgroupSupport } from "./adapters/cluster/agent/runtime/cgroups.js";
import { MesosDriver, parseMasterAddress } from "./adapters/cluster/mesos/driver.js";
import { SimulatedCluster } from "./adapters/cluster/simulated-cluster.js";
import { installSocketDataGuard } from "./adapters/persister/zookeeper/guard.js";
import { SchedulerError } from "./domain/errors.js";
import type { ResolvedOptions } from "./config.js";
import type { ClusterCapabilities } from "./domain/spec/driver-notes.js";
import type { ClusterDriver } from "./engine/ports.js";

/**
 * The cluster: this machine through the local agent (`local`, started when none runs on its
 * state directory), a Mesos master (`mesos`) — both through the Mesos driver — or the
 * in-process simulated cluster (`sim`).
 */
export async function openCluster(options: ResolvedOptions, clock: SystemClock, random: CryptoRandom, logger: pino.Logger): Promise<ClusterDriver> {
  const roles = extraRoles(options);
  if (options.cluster === "sim") return new SimulatedCluster({ agents: options.simAgents, clock, random, roles });
  const log = logger.child({ component: "mesos-driver" });
  const common = { user: options.frameworkUser, clock, random, log, ...(roles.length > 0 ? { roles } : {}) };
  if (options.cluster === "mesos") {
    const secret = options.mesosSecretFile ? readFileSync(options.mesosSecretFile, "utf8").split("\n")[0]!.trim() : undefined;
    const master = parseMasterAddress(options.master ?? "");
    // The library's reply parser can throw from a socket handler: the guard turns that into a lost connection.
    if (master.kind === "zk") installSocketDataGuard();
    return new MesosDriver({
      ...common,
      master,
      ...(secret !== undefined ? { credential: { principal: options.principal, secret } } : {}),
      ...(options.mesosCaFile ? { caFile: options.mesosCaFile } : {}),
    });
  }
  refuseOldLocalCluster(options.dataDir);
  const config = {
    stateDir: resolve(options.agentDir),
    agents: options.localAgents,
    ...(options.agentResources ? { resources: options.agentResources } : {}),
    ...(options.agentPorts ? { ports: options.agentPorts } : {}),
    ...(options.agentPreReserved ? { preReserved: options.agentPreReserved } : {}),
  };
  const agent = await ensureAgent(config);
  if (agent.started) logger.info({ pid: agent.pid, stateDir: resolve(options.agentDir) }, "started the local agent (`corral agent status` tells about it, `corral agent stop` stops it)");
  else logger.info({ pid: agent.pid, stateDir: resolve(options.agentDir) }, "using the running local agent");
  // An agent that died (killed, crashed) is started again before the driver resubscribes.
  const restartAgent = async (): Promise<void> => {
    const again = await ensureAgent(config);
    if (again.started) logger.warn({ pid: again.pid, stateDir: config.stateDir }, "the local agent was gone; started it again");
  };
  return new MesosDriver({ ...common, master: { kind: "unix", socketPath: agent.socketPath }, files: true, beforeSubscribe: restartAgent });
}

/**
 * Roles the framework subscribes with besides its own: `R/<role>` below each pre-reserved role
 * R, so offers of R's statically reserved resources come to it and it may refine them (§9.1).
 */
export function extraRoles(options: Pick<ResolvedOptions, "preReservedRoles" | "role">): string[] {
  return options.preReservedRoles.map((r) => `${r}/${options.role}`);
}

/** What the cluster driver can do, for the per-driver warnings of PutService (driver-notes.ts). */
export function capabilities(options: Pick<ResolvedOptions, "cluster" | "preReservedRoles" | "agentPorts">): ClusterCapabilities {
  const roles = { preReservedRoles: options.preReservedRoles };
  if (options.cluster !== "local") return { kind: options.cluster, cgroups: false, ...(options.cluster === "mesos" ? roles : {}) };
  // The local agent runs as this user: cgroup limits need root and a cgroup hierarchy. It has
  // no GPUs, and offers only its configured ports.
  const ports = options.agentPorts ? parsePortRanges(options.agentPorts) : DEFAULT_PORTS;
  return { kind: "local", cgroups: cgroupSupport().ok, ...roles, gpus: false, ports };
}

/** Before issue 14 the local cluster ran inside the scheduler; its state cannot be carried over. */
function refuseOldLocalCluster(dataDir: string): void {
  const old = join(resolve(dataDir), "local", "cluster.json");
  if (!existsSync(old)) return;
  throw new SchedulerError(
    "failed_precondition",
    `${old} holds the state of the old in-process local cluster, which this Corral no longer runs (the local agent replaced it). ` +
      `Its tasks may still run under their supervisors. Reset it: stop them with \`pkill -f supervisor.mjs\`, then \`rm -rf ${resolve(dataDir)}\` ` +
      `(services are put again afterwards), or start with another --data-dir.`,
  );
}

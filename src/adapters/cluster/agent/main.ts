/**
 * The agent daemon's entry point:
 *   node --import tsx src/adapters/cluster/agent/main.ts --state-dir D --local-agents N
 *        [--heartbeat-interval S] [--listen host:port] [--chaos] [--resources cpus:N;mem:MB;disk:MB]
 *        [--ports a-b,c-d] [--pre-reserved R:cpus=N,mem=MB,disk=MB[;…]] [--secrets-dir D]
 * One per state directory (an exclusive lock on `<D>/corral.lock`); logs to `<D>/agent.log`;
 * writes `<D>/agent.json` once it serves; SIGTERM/SIGINT stop it, the tasks keep running.
 */
import { join, resolve } from "node:path";
import pino from "pino";
import { SystemClock, CryptoRandom } from "../../clock.js";
import { acquireDataDirLock } from "../../file-lock.js";
import { LocalAgent } from "./agent.js";
import { writeAgentInfo, procStartOf } from "./agent-info.js";
import { parseAgentResources, withResources } from "./machine-resources.js";
import { parsePortRanges } from "./free-ports.js";
import type { Machine } from "./local-agents.js";
import { parseAgentArgs, type AgentArgs } from "./main-args.js";
import { parsePreReserved } from "./pre-reserved.js";
import { thisMachine } from "./this-machine.js";

async function main(): Promise<void> {
  const args = parseAgentArgs(process.argv.slice(2));
  const stateDir = resolve(args.stateDir);
  const log = pino({ level: process.env["CORRAL_AGENT_LOG_LEVEL"] ?? "info", base: { app: "corral-agent" } }, pino.destination({ dest: `${stateDir}/agent.log`, mkdir: true, sync: true }));
  let lock;
  try {
    lock = await acquireDataDirLock(stateDir);
  } catch (err) {
    log.error({ err }, "agent: another agent serves this state directory");
    process.stderr.write(`corral agent: another agent serves ${stateDir}\n`);
    process.exit(3);
  }
  const agent = await LocalAgent.start({
    stateDir,
    agents: args.agents,
    heartbeatIntervalS: args.heartbeatIntervalS,
    taskPath: process.env["PATH"] ?? "/usr/bin:/bin",
    canSwitchUser: process.getuid?.() === 0,
    machine: machineOf(stateDir, args),
    secretsDir: resolve(args.secretsDir ?? join(stateDir, "secrets")),
    ...(args.listen ? { listen: args.listen } : {}),
    chaos: args.chaos,
    clock: new SystemClock(),
    random: new CryptoRandom(),
    log,
  });
  writeAgentInfo(stateDir, {
    pid: process.pid,
    procStart: procStartOf(process.pid) ?? "",
    config: {
      stateDir,
      agents: args.agents,
      heartbeatIntervalS: args.heartbeatIntervalS,
      ...(args.resources !== undefined ? { resources: args.resources } : {}),
      ...(args.ports !== undefined ? { ports: args.ports } : {}),
      ...(args.preReserved !== undefined ? { preReserved: args.preReserved } : {}),
      ...(args.secretsDir !== undefined ? { secretsDir: args.secretsDir } : {}),
    },
    socketPath: agent.socketPath,
    startedAt: new Date().toISOString(),
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "agent: stopping; tasks keep running");
    void agent
      .close()
      .then(() => lock.release())
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

/** This machine with the command line's overrides: resources, ports, pre-reserved pools. */
function machineOf(stateDir: string, args: AgentArgs): Machine {
  const measured = thisMachine(stateDir);
  return {
    ...(args.resources !== undefined ? withResources(measured, parseAgentResources(args.resources)) : measured),
    ...(args.ports !== undefined ? { ports: parsePortRanges(args.ports) } : {}),
    ...(args.preReserved !== undefined ? { preReserved: parsePreReserved(args.preReserved) } : {}),
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`corral agent: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});

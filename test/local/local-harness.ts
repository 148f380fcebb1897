/**
 * The real scheduler on the local agent (real processes) through the Mesos driver, with a SQLite
 * store in a temporary data directory. The agent runs in the test's process (`LocalAgent`), so a
 * test can look at what it keeps; the scheduler talks to it over its Unix socket as it would to a
 * daemon. The temporary data directories are removed after the test file, every process that runs
 * in them killed first.
 */
import { join, resolve } from "node:path";
import pino from "pino";
import { CryptoRandom, SystemClock } from "../../src/adapters/clock.js";
import { LocalAgent } from "../../src/adapters/cluster/agent/agent.js";
import { cgroupSupport } from "../../src/adapters/cluster/agent/runtime/cgroups.js";
import { MesosDriver } from "../../src/adapters/cluster/mesos/driver.js";
import type { SimTaskView } from "../../src/adapters/cluster/simulated-cluster.js";
import { SqlitePersister } from "../../src/adapters/persister/sqlite-persister.js";
import type { PreReservedPool } from "../../src/adapters/cluster/sim-agent.js";
import type { Range, Resource, TaskStatus } from "../../src/domain/cluster.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../../src/engine/scheduler.js";
import { tempDir } from "../use-temp-dir.js";
import { sandboxOf, stopEverything } from "./agent-world.js";

export { isAlive } from "../processes.js";

/** The scheduler's role in these tests. */
export const ROLE = "corral-role";

/** A task as the agent keeps it, with its pid once spawned and its sandbox. */
export interface LocalTaskView extends SimTaskView {
  readonly pid?: number;
  readonly sandbox: string;
}

/** What the tests look at and poke: the driver (kill, suppress, revive, task files) and the agent's books. */
export interface LocalCluster {
  readonly driver: MesosDriver;
  readonly agent: LocalAgent;
  tasks(): LocalTaskView[];
  reservations(): Map<string, Resource[]>;
  agentIds(): string[];
  /** DECLINE calls the driver sent. */
  readonly counts: { readonly declines: number };
  /** Every task status the scheduler was told, in order. */
  readonly statuses: readonly TaskStatus[];
}

export interface LocalRun {
  readonly dataDir: string;
  readonly cluster: LocalCluster;
  readonly scheduler: MultiServiceScheduler;
  stop(): Promise<void>;
}

/**
 * A new data directory `<tmpdir>/corral-<kind>-<run tag>-XXXXXX`, removed after the test file
 * once the agent of it and everything it runs are stopped.
 */
export function tempDataDir(kind = "local"): string {
  return tempDir(kind, { beforeRemove: stopEverything });
}

/** Kills every task of a data directory's agent, and the agent. */
export const killEverything = stopEverything;

export interface LocalOptions {
  readonly agents?: number;
  readonly canSwitchUser?: boolean;
  /** The ports the agent offers (less those in use). @default 31000–31999 */
  readonly ports?: readonly Range[];
  /** Pools the agent reserves statically for roles (`--pre-reserved`). @default none */
  readonly preReserved?: readonly PreReservedPool[];
  /** Pre-reserved roles R: the framework subscribes with `R/corral-role` too. @default the pools' roles */
  readonly preReservedRoles?: readonly string[];
  /** The agent's secret store. @default `<dataDir>/agent/secrets` */
  readonly secretsDir?: string;
  /** Receives every log line of the scheduler, driver and agent, at trace level. @default none (silent) */
  readonly logLines?: string[];
}

export async function startLocal(dataDir: string, options: LocalOptions = {}): Promise<LocalRun> {
  const clock = new SystemClock();
  const random = new CryptoRandom();
  // Captured log lines (trace level) when asked for: tests check what never reaches a log.
  const log = options.logLines ? pino({ level: "trace" }, { write: (line: string) => void options.logLines!.push(line) }) : pino({ level: "silent" });
  const persister = SqlitePersister.open(join(dataDir, "corral.db"));
  const agent = await LocalAgent.start({
    stateDir: join(dataDir, "agent"),
    agents: options.agents ?? 1,
    machine: {
      hostname: "localhost",
      cpus: 4,
      memMb: 8192,
      diskMb: 10240,
      ports: options.ports ?? { begin: 31000, end: 31999 },
      ...(options.preReserved ? { preReserved: options.preReserved } : {}),
    },
    ...(options.secretsDir !== undefined ? { secretsDir: options.secretsDir } : {}),
    taskPath: process.env["PATH"] ?? "/usr/bin:/bin",
    canSwitchUser: options.canSwitchUser ?? false,
    heartbeatIntervalS: 1,
    clock,
    random,
    log,
  });
  const preReservedRoles = options.preReservedRoles ?? (options.preReserved ?? []).map((p) => p.role);
  const roles = preReservedRoles.map((r) => `${r}/${ROLE}`);
  const driver = new MesosDriver({ master: { kind: "unix", socketPath: agent.socketPath }, user: "root", files: true, clock, random, log, ...(roles.length > 0 ? { roles } : {}) });
  const counts = { declines: 0 };
  const decline = driver.decline.bind(driver);
  driver.decline = (...args: Parameters<MesosDriver["decline"]>) => {
    counts.declines++;
    return decline(...args);
  };
  const statuses: TaskStatus[] = [];
  const subscribe = driver.subscribe.bind(driver);
  driver.subscribe = (framework, events) =>
    subscribe(framework, {
      ...events,
      update: (status) => {
        statuses.push(status);
        events.update(status);
      },
    });
  const hosts = () => agent.frameworkHosts().filter((h) => !h.removed);
  const cluster: LocalCluster = {
    driver,
    agent,
    counts,
    statuses,
    tasks: () => {
      const pids = new Map(agent.processes().map((p) => [p.taskId, p.taskPid]));
      return hosts().flatMap((h) =>
        h.sim.tasks().map((t) => {
          const pid = pids.get(t.taskId);
          return { ...t, sandbox: sandboxOf(resolve(dataDir), t.taskId) ?? join(resolve(dataDir), "agent", "frameworks", h.dir, "sandboxes", t.taskId), ...(pid === undefined ? {} : { pid }) };
        }),
      );
    },
    reservations: () => {
      const out = new Map<string, Resource[]>();
      for (const h of hosts()) for (const [agentId, rs] of h.sim.reservations()) out.set(agentId, [...(out.get(agentId) ?? []), ...rs]);
      return out;
    },
    agentIds: () => hosts()[0]?.sim.agentIds() ?? [],
  };
  const scheduler = new MultiServiceScheduler(
    { persister, driver, clock, random, log },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: ROLE, principal: "corral-principal" }, clusterCapabilities: { kind: "local", cgroups: cgroupSupport().ok } },
  );
  await scheduler.start();
  return {
    dataDir,
    cluster,
    scheduler,
    async stop() {
      await scheduler.stop();
      await driver.close();
      await agent.close();
      await persister.close();
    },
  };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


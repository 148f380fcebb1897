/**
 * Engine test harness: the real scheduler on the simulated cluster, a memory persister and a
 * fake clock. Nothing happens until the test advances time; `settle()` runs everything that is
 * due now, so tests never sleep.
 */
import { readFileSync } from "node:fs";
import pino from "pino";
import type { SimulatedClusterOptions } from "../../src/adapters/cluster/sim-master.js";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { MemoryPersister } from "../../src/adapters/persister/memory-persister.js";
import type { PutServiceResult } from "../../src/engine/admin-api.js";
import type { Persister, WriteFence } from "../../src/engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "../../src/engine/scheduler.js";
import type { SchedulerDeps, SchedulerOptions } from "../../src/engine/scheduler.js";

export interface HarnessOptions {
  readonly agents?: SimulatedClusterOptions["agents"];
  readonly seed?: number;
  readonly sim?: Partial<SimulatedClusterOptions>;
  /** Reuse a store and cluster, as a restarted scheduler does. */
  readonly persister?: Persister;
  readonly cluster?: SimulatedCluster;
  readonly clock?: FakeClock;
  readonly fence?: WriteFence;
  readonly scheduler?: Partial<SchedulerOptions>;
  readonly deps?: Partial<SchedulerDeps>;
}

export interface Harness {
  readonly clock: FakeClock;
  readonly cluster: SimulatedCluster;
  readonly persister: Persister;
  readonly scheduler: MultiServiceScheduler;
  /** Runs everything due now, including work that schedules more work at the same instant. */
  settle(): Promise<void>;
  /** Moves time forward and settles. */
  advance(ms: number): Promise<void>;
  put(name: string, example: string, parameters?: Record<string, string>): Promise<PutServiceResult>;
  deployStatus(name: string): string;
  /** Advances time in steps until every named service's deploy plan is COMPLETE. */
  deployAll(names: readonly string[], maxSteps?: number): Promise<void>;
}

export function example(file: string): string {
  return readFileSync(new URL(`../../examples/${file}`, import.meta.url), "utf8");
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new FakeClock();
  const random = new SeededRandom(options.seed ?? 1);
  const cluster =
    options.cluster ?? new SimulatedCluster({ agents: options.agents ?? 3, clock, random: new SeededRandom(99), ...options.sim });
  const persister = options.persister ?? new MemoryPersister();
  const scheduler = new MultiServiceScheduler(
    { persister, driver: cluster, clock, random, log: pino({ level: "silent" }), ...(options.fence ? { fence: options.fence } : {}), ...options.deps },
    { ...DEFAULT_RUNNER_OPTIONS, framework: { name: "corral", role: "corral-role", principal: "corral-principal" }, ...options.scheduler },
  );
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 1000; i++) {
      await scheduler.runner.queue.idle();
      const due = clock.nextDueMs();
      if (due === undefined || due > clock.now()) {
        await new Promise((r) => setImmediate(r));
        if (clock.nextDueMs() === undefined || clock.nextDueMs()! > clock.now()) return;
      }
      await clock.advanceAsync(0);
    }
    throw new Error("harness did not settle after 1000 rounds");
  };
  await scheduler.start();
  await settle();
  const h: Harness = {
    clock,
    cluster,
    persister,
    scheduler,
    settle,
    async advance(ms) {
      await clock.advanceAsync(ms);
      await settle();
    },
    async put(name, file, parameters = {}) {
      const result = await scheduler.putService({ name, spec: example(file), parameters });
      await settle();
      return result;
    },
    deployStatus(name) {
      return scheduler.getPlan(name, "deploy").status;
    },
    async deployAll(names, maxSteps = 100) {
      for (let i = 0; i < maxSteps; i++) {
        if (names.every((n) => h.deployStatus(n) === "COMPLETE")) return;
        await h.advance(1000);
      }
      const states = names.map((n) => `${n}=${h.deployStatus(n)}`).join(", ");
      throw new Error(`deploy did not complete: ${states}`);
    },
  };
  return h;
}

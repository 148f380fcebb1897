/**
 * What a lone scheduler and a replica share: the engine's deps and options built from the
 * command line, and the parts a started scheduler hands back to startCorral.
 */
import type pino from "pino";
import { CryptoRandom, SystemClock } from "./adapters/clock.js";
import type { AdminServer } from "./adapters/grpc/server.js";
import { SpecWorkerPool, pooledServiceFactory } from "./adapters/spec-worker/pool.js";
import { capabilities } from "./app-cluster.js";
import type { StopStep } from "./app-stop.js";
import type { ResolvedOptions } from "./config.js";
import type { AdminApi } from "./engine/admin-api.js";
import type { Persister, WriteFence } from "./engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS } from "./engine/scheduler.js";
import type { SchedulerOptions, StaticServiceFile } from "./engine/scheduler-parts.js";
import type { SchedulerKeeper } from "./engine/scheduler-keeper.js";
import { specServiceFactory } from "./engine/service-factory.js";
import type { Observability } from "./observability.js";

export interface Parts {
  readonly keeper: SchedulerKeeper;
  /** What the API serves once started. */
  readonly api: AdminApi;
  readonly persister: Persister;
  readonly uninstalled: Promise<void>;
  readonly clusterLost: Promise<string>;
  uninstalledAlready(): boolean;
  holdsLock(): boolean;
}

/** The engine's deps and options shared by a lone scheduler and a replica, with the promises it settles. */
export function engineSetup(
  options: ResolvedOptions,
  staticServices: readonly StaticServiceFile[],
  logger: pino.Logger,
  server: AdminServer,
  obs: Observability,
  persister: Persister,
  fence: WriteFence | undefined,
  undo: StopStep[],
) {
  const clock = new SystemClock({ unref: false });
  const random = new CryptoRandom();
  // PutService specs are built in worker threads (started on first use); recovery builds inline.
  const specPool =
    options.specWorkers > 0
      ? new SpecWorkerPool({ size: options.specWorkers, fallback: specServiceFactory, log: logger.child({ component: "spec-workers" }) })
      : undefined;
  let done = false;
  let markUninstalled = (): void => undefined;
  const uninstalled = new Promise<void>((resolve) => (markUninstalled = resolve));
  let markClusterLost = (_: string): void => undefined;
  const clusterLost = new Promise<string>((resolve) => (markClusterLost = resolve));
  const deps = {
    persister: obs.wrapPersister(persister),
    ...(specPool ? { factory: pooledServiceFactory(specPool, specServiceFactory) } : {}),
    clock,
    random,
    log: logger,
    tracer: obs.tracer,
    ...(fence ? { fence } : {}),
    onUninstalled: () => {
      done = true;
      server.setServing(false);
      markUninstalled();
    },
    onClusterFatal: (message: string) => {
      server.setServing(false);
      markClusterLost(message);
    },
  };
  const schedulerOptions: SchedulerOptions = {
    ...DEFAULT_RUNNER_OPTIONS,
    // Mono: the one service's reservations carry no namespace label, as the reference's mono schedulers write them.
    framework: { name: options.frameworkName, role: options.role, principal: options.principal, mono: options.mode === "mono" },
    serviceMode: options.mode,
    staticServices,
    removalTimeoutMs: options.serviceRemovalTimeoutMs,
    uninstall: options.uninstall,
    events: { maxEvents: options.eventRetention, maxAgeMs: options.eventMaxAgeMs },
    maxParallelDeploys: options.maxParallelDeploys,
    replaceUnreachableAfterMs: options.replaceUnreachableAfterMs,
    clusterCapabilities: capabilities(options),
  };
  // Stopped before the scheduler drains (pushed after it): a put still waiting for its build then
  // fails (UNAVAILABLE) instead of storing a service after its call was cancelled by the API's stop.
  const stopSpecPool = (): void => {
    if (specPool) undo.push({ name: "spec workers", run: () => specPool.close() });
  };
  return { clock, random, deps, schedulerOptions, uninstalled, clusterLost, stopSpecPool, isDone: () => done };
}

/**
 * What the roles of the multi-service scheduler share (start-up, puts, removals, views): the
 * deps and options it was made with, the fenced store, the manager and the runner. The façade
 * (scheduler.ts) makes one and hands it to each role.
 */
import { SchedulerError, abbreviate } from "../domain/errors.js";
import type { SchedulerState, ServiceMode, ServiceView } from "./admin-api.js";
import { DeployLimit } from "./deploy-limit.js";
import type { ManagedService } from "./managed-service.js";
import { MultiServiceEventClient } from "./multi-service-event-client.js";
import { MultiServiceManager } from "./multi-service-manager.js";
import type { CycleOutcome } from "./offer-cycle.js";
import type { Clock, ClusterDriver, Logger, Persister, Random, WriteFence } from "./ports.js";
import type { RunnerOptions } from "./runner.js";
import type { ClusterCapabilities } from "./spec-notes.js";
import { SchedulerRunner } from "./runner.js";
import type { BuiltService } from "./service-context.js";
import type { ServiceFactory } from "./service-factory.js";
import { specServiceFactory } from "./service-factory.js";
import type { FrameworkIdentity } from "./service-scheduler.js";
import { ServiceScheduler } from "./service-scheduler.js";
import { quarantinedView } from "./service-view.js";
import type { UninstallCallback } from "./removals.js";
import type { UninstallEventLogOptions } from "./uninstall-events.js";
import { encodeText } from "./store/codec.js";
import { FencedPersister, lockLost } from "./store/fenced-persister.js";
import type { Tracer } from "./telemetry.js";
import * as layout from "./store/layout.js";
import { MonoLayoutPersister } from "./store/mono-layout.js";
import { SelectionStore } from "./store/selection-store.js";
import { ServiceStore } from "./store/service-store.js";
import { StateStore } from "./store/state-store.js";
import type { StoredSteering, StoredTask } from "./store/state-store.js";

export interface SchedulerDeps {
  readonly persister: Persister;
  readonly driver: ClusterDriver;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly factory?: ServiceFactory;
  /** Observes each offer cycle (benchmarks, metrics); passed to the runner. */
  readonly onCycle?: (outcome: CycleOutcome, durationMs: number) => void;
  /** @default always holds (SQLite and memory stores) */
  readonly fence?: WriteFence;
  /** The library's UninstallCallback: runs once a service's removal has been written. */
  readonly onServiceRemoved?: UninstallCallback;
  /** Whole-scheduler uninstall finished: state wiped, framework torn down. */
  readonly onUninstalled?: () => void;
  /** The cluster will not serve this framework any more (ClusterEvents.fatal): stop the process. */
  readonly onClusterFatal?: (message: string) => void;
  /** Spans around the engine's units of work (telemetry.ts). @default NO_TRACER */
  readonly tracer?: Tracer;
}

export interface SchedulerOptions extends RunnerOptions {
  readonly framework: FrameworkIdentity;
  /** A removal not done after this long completes anyway (FORCED); ≤ 0 never. @default 10 min */
  readonly removalTimeoutMs?: number;
  /** Uninstall the whole scheduler (CORRAL_UNINSTALL / SDK_UNINSTALL, §3.9). @default false */
  readonly uninstall?: boolean;
  readonly events?: UninstallEventLogOptions;
  /**
   * At most this many services acquire new resources at once (`--max-parallel-deploys`,
   * deploy-limit.ts); 0 = unlimited. @default 0
   */
  readonly maxParallelDeploys?: number;
  /**
   * A pod whose RUNNING tasks stay UNREACHABLE or LOST this long is given up and replaced
   * (permanent recovery: it moves, its old volumes go); 0 = never, as UNREACHABLE or LOST alone
   * is transient (§1.12). @default 0
   */
  readonly replaceUnreachableAfterMs?: number;
  /**
   * What the cluster driver can do (local agent, Mesos, simulated; cgroups): a put's warnings
   * say which spec keys it cannot act on (spec-notes.ts). Absent: no such warnings.
   */
  readonly clusterCapabilities?: ClusterCapabilities;
  /**
   * Where the services come from (admin-api.ts ServiceMode). In `static` and `mono` mode the
   * services are `staticServices`, put on every start, and PutService / UninstallService
   * answer FAILED_PRECONDITION. @default "dynamic"
   */
  readonly serviceMode?: ServiceMode;
  /** The spec files of `static` mode (any number) or `mono` mode (exactly one). */
  readonly staticServices?: readonly StaticServiceFile[];
}

/**
 * One spec file of static or mono mode, as read at start. The service's name is the rendered
 * `name:`; SERVICE_NAME is preset to `base` and FRAMEWORK_NAME to the framework name (mono:
 * both to the framework name).
 */
export interface StaticServiceFile {
  /** The file as given (for messages). */
  readonly file: string;
  /** The file's base name without `.yml` / `.yaml`. */
  readonly base: string;
  /** The ServiceSpec YAML template. */
  readonly spec: string;
  /** `-p K=V` parameters, without the presets. */
  readonly parameters: Readonly<Record<string, string>>;
}

export type SchedulerMode = SchedulerState;

export const DEFAULT_REMOVAL_TIMEOUT_MS = 10 * 60 * 1000;

export const DEFAULT_RUNNER_OPTIONS: RunnerOptions = {
  cycleIntervalMs: 5000,
  declineLongS: 3600,
  declineShortS: 5,
  implicitReconcileMs: 3_600_000,
  minCycleGapMs: 10,
  admitMaxWaitMs: 100,
};

const ALWAYS: WriteFence = { holds: () => true };

export class SchedulerParts {
  readonly manager = new MultiServiceManager();
  readonly runner: SchedulerRunner;
  /** Every write of the engine goes through it (store/fenced-persister.ts). */
  readonly persister: FencedPersister;
  readonly fence: WriteFence;
  readonly services: ServiceStore;
  readonly factory: ServiceFactory;
  mode: SchedulerMode = "RUNNING";
  private readonly changing = new Map<string, Promise<unknown>>();

  constructor(
    readonly deps: SchedulerDeps,
    readonly options: SchedulerOptions,
  ) {
    this.fence = deps.fence ?? ALWAYS;
    // Mono: the engine writes its one service at the schema-2 paths; the store keeps them at the schema-1 places.
    const store = options.serviceMode === "mono" ? new MonoLayoutPersister(deps.persister, options.framework.name) : deps.persister;
    this.persister = new FencedPersister(store, this.fence);
    this.factory = deps.factory ?? specServiceFactory;
    this.services = new ServiceStore(this.persister);
    const client = new MultiServiceEventClient(
      this.manager,
      (ops) => this.persister.multi(ops),
      (err) => deps.log.warn({ err }, "could not store this cycle's launches; their offers are declined"),
      (options.maxParallelDeploys ?? 0) > 0
        ? new DeployLimit(options.maxParallelDeploys!, new SelectionStore(this.persister), deps.log.child({ component: "deploy-limit" }))
        : undefined,
      // Known from the start: the default service owns our unlabelled reservations even while only removals run.
      options.framework.name,
    );
    this.runner = new SchedulerRunner(
      {
        driver: deps.driver,
        manager: this.manager,
        client,
        clock: deps.clock,
        log: deps.log,
        fence: this.fence,
        onFrameworkId: (id) => this.persister.multi([{ kind: "set", path: layout.FRAMEWORK_ID, data: encodeText(id) }]),
        ...(deps.onCycle ? { onCycle: deps.onCycle } : {}),
        ...(deps.onClusterFatal ? { onFatal: deps.onClusterFatal } : {}),
        ...(deps.tracer ? { tracer: deps.tracer } : {}),
      },
      options,
    );
  }

  /** `tasks`: already read by recovery (`StateStore.loadMany`); `load()` then reads nothing. */
  newScheduler(built: BuiltService, configId: string, tasks?: Map<string, StoredTask>, steering?: StoredSteering): ServiceScheduler {
    return new ServiceScheduler(built, configId, {
      store: new StateStore(this.persister, built.spec.name, tasks, steering),
      random: this.deps.random,
      clock: this.deps.clock,
      log: this.deps.log.child({ service: built.spec.name }),
      // Mono: the one service's reservations carry no namespace label, as the reference's mono schedulers write them.
      framework: this.options.serviceMode === "mono" ? { ...this.options.framework, mono: true } : this.options.framework,
      ...(this.options.replaceUnreachableAfterMs ? { replaceUnreachableAfterMs: this.options.replaceUnreachableAfterMs } : {}),
    });
  }

  /** One admin change (put, uninstall) per name at a time: the second sees the first's outcome. */
  async inTurn<T>(name: string, change: () => Promise<T>): Promise<T> {
    const before = this.changing.get(name) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(change);
    this.changing.set(name, run);
    try {
      return await run;
    } finally {
      if (this.changing.get(name) === run) this.changing.delete(name);
    }
  }

  /** A scheduler that lost its store lock may not act: refused before any work is done. */
  mustAct(): void {
    if (!this.fence.holds()) throw lockLost();
  }

  /** The managed service of that name; a quarantined or unknown name is an error. */
  mustGet(name: string): ManagedService {
    const svc = this.manager.get(name);
    if (svc) return svc;
    const quarantined = this.manager.getQuarantined(name);
    if (quarantined) {
      throw new SchedulerError("failed_precondition", `service '${name}' is quarantined: ${quarantined.error}; put a valid spec to repair it`);
    }
    throw new SchedulerError("not_found", `service '${abbreviate(name)}' not found`);
  }

  /** Puts a service in the manager (new, or replacing one) and registers it with the cluster. */
  install(svc: ManagedService): void {
    this.manager.put(svc);
    this.runner.serviceAdded(svc);
  }

  viewOf(name: string): ServiceView {
    const quarantined = this.manager.getQuarantined(name);
    return quarantined ? quarantinedView(quarantined) : this.mustGet(name).view();
  }
}

/**
 * The multi-service scheduler: one framework registration, many services. Implements the admin
 * API over the manager, the stores and the runner. PutService builds the service first and
 * stores it second, so a bad spec never reaches the store (design doc "Adding a Service").
 */
import { SchedulerError } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import type {
  AdminApi,
  PlanView,
  PutServiceInput,
  PutServiceResult,
  ServiceView,
  UninstallEventView,
} from "./admin-api.js";
import { MultiServiceEventClient } from "./multi-service-event-client.js";
import { MultiServiceManager } from "./multi-service-manager.js";
import type { CycleOutcome } from "./offer-cycle.js";
import type { Clock, ClusterDriver, Logger, Persister, Random, WriteFence } from "./ports.js";
import type { RunnerOptions } from "./runner.js";
import { SchedulerRunner } from "./runner.js";
import type { ServiceContext } from "./service-context.js";
import { encodeContext } from "./service-context.js";
import type { ServiceFactory } from "./service-factory.js";
import { specServiceFactory } from "./service-factory.js";
import type { BuiltService, FrameworkIdentity } from "./service-scheduler.js";
import { ServiceScheduler } from "./service-scheduler.js";
import { planView, quarantinedView, serviceView } from "./service-view.js";
import { decodeText, encodeText } from "./store/codec.js";
import { READ_CONCURRENCY, mapLimit } from "./store/concurrency.js";
import * as layout from "./store/layout.js";
import { ServiceStore } from "./store/service-store.js";
import { StateStore } from "./store/state-store.js";

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
}

export interface SchedulerOptions extends RunnerOptions {
  readonly framework: FrameworkIdentity;
}

export const DEFAULT_RUNNER_OPTIONS: RunnerOptions = {
  cycleIntervalMs: 5000,
  declineLongS: 3600,
  declineShortS: 5,
  implicitReconcileMs: 3_600_000,
  minCycleGapMs: 10,
};

/** Schema of the store layout (dcos-commons §2.4): 2 = multi-service. */
const SCHEMA_VERSION = "2";

export class MultiServiceScheduler implements AdminApi {
  readonly manager = new MultiServiceManager();
  readonly runner: SchedulerRunner;
  private readonly client: MultiServiceEventClient;
  private readonly services: ServiceStore;
  private readonly factory: ServiceFactory;
  private readonly putsInFlight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly options: SchedulerOptions,
  ) {
    this.factory = deps.factory ?? specServiceFactory;
    this.services = new ServiceStore(deps.persister);
    this.client = new MultiServiceEventClient(this.manager, (ops) => deps.persister.multi(ops));
    this.runner = new SchedulerRunner(
      {
        driver: deps.driver,
        manager: this.manager,
        client: this.client,
        clock: deps.clock,
        log: deps.log,
        ...(deps.fence ? { fence: deps.fence } : {}),
        onFrameworkId: (id) => deps.persister.multi([{ kind: "set", path: layout.FRAMEWORK_ID, data: encodeText(id) }]),
        ...(deps.onCycle ? { onCycle: deps.onCycle } : {}),
      },
      options,
    );
  }

  /** Checks the schema, rebuilds stored services, then registers with the cluster. */
  async start(): Promise<void> {
    await this.checkSchema();
    // Services are rebuilt and their stores read many at a time (a remote store answers the
    // reads pipelined), then registered in stored order.
    const recovered = await mapLimit(await this.services.recover(), READ_CONCURRENCY, async (stored) => {
      try {
        if (!stored.context) throw new SchedulerError("internal", stored.error ?? "context unreadable");
        const built = this.factory.build(stored.context);
        const svc = this.newScheduler(built, await this.storedConfigId(stored.name));
        await svc.load();
        return { stored, svc };
      } catch (err) {
        return { stored, err };
      }
    });
    for (const { stored, svc, err } of recovered) {
      try {
        if (!svc) throw err;
        this.manager.put(svc);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        this.manager.putQuarantined({ name: stored.name, error, sinceMs: this.deps.clock.now() });
        this.deps.log.error({ err, service: stored.name }, "stored service does not build; quarantined, its tasks are left alone");
      }
    }
    const fid = await this.deps.persister.get(layout.FRAMEWORK_ID);
    await this.runner.start({
      name: this.options.framework.name,
      role: this.options.framework.role,
      principal: this.options.framework.principal,
      failoverTimeoutS: 14 * 24 * 3600,
      ...(fid ? { frameworkId: decodeText(fid.data) } : {}),
    });
  }

  async stop(): Promise<void> {
    await this.runner.stop();
  }

  private async checkSchema(): Promise<void> {
    const stored = await this.deps.persister.get(layout.SCHEMA_VERSION);
    if (!stored) {
      await this.deps.persister.multi([{ kind: "set", path: layout.SCHEMA_VERSION, data: encodeText(SCHEMA_VERSION) }]);
      return;
    }
    const version = decodeText(stored.data);
    if (version !== SCHEMA_VERSION) {
      throw new SchedulerError("failed_precondition", `store schema version is '${version}'; this scheduler needs ${SCHEMA_VERSION}`);
    }
  }

  private async storedConfigId(name: string): Promise<string> {
    const target = await new StateStore(this.deps.persister, name).configTarget();
    return target ?? this.deps.random.uuid();
  }

  private newScheduler(built: BuiltService, configId: string): ServiceScheduler {
    return new ServiceScheduler(built, configId, {
      store: new StateStore(this.deps.persister, built.spec.name),
      random: this.deps.random,
      clock: this.deps.clock,
      log: this.deps.log.child({ service: built.spec.name }),
      framework: this.options.framework,
    });
  }

  async putService(input: PutServiceInput): Promise<PutServiceResult> {
    const violations = validateServiceName(input.name);
    if (violations.length > 0) throw SchedulerError.invalid(violations);
    // One put per name at a time: the second sees the first's outcome.
    const before = this.putsInFlight.get(input.name) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(() => this.putServiceNow(input));
    this.putsInFlight.set(input.name, run);
    try {
      return await run;
    } finally {
      if (this.putsInFlight.get(input.name) === run) this.putsInFlight.delete(input.name);
    }
  }

  private async putServiceNow(input: PutServiceInput): Promise<PutServiceResult> {
    if (this.deps.fence && !this.deps.fence.holds()) {
      throw new SchedulerError("unavailable", "the scheduler lost its store lock; retry once it holds it again");
    }
    const now = this.deps.clock.now();
    const existing = this.manager.get(input.name);
    const context: ServiceContext = {
      name: input.name,
      spec: input.spec,
      parameters: input.parameters,
      generation: 1,
      createdMs: now,
      updatedMs: now,
    };
    const built = this.factory.build(context);
    if (existing) {
      if (existing.built.rendered === built.rendered) {
        return { service: serviceView(existing), outcome: "UNCHANGED", warnings: built.warnings };
      }
      throw new SchedulerError(
        "failed_precondition",
        `service '${input.name}' exists with a different spec; reconfiguration is not implemented yet`,
      );
    }
    encodeContext(context); // size check before anything is built further or stored
    const quarantined = this.manager.getQuarantined(input.name);
    if (quarantined) return this.repair(context, built);
    const configId = this.deps.random.uuid();
    const svc = this.newScheduler(built, configId);
    const clash = this.manager.getBySanitized(svc.sanitizedName);
    if (clash) {
      throw new SchedulerError("already_exists", `service '${clash.name}' already uses the task-ID name '${svc.sanitizedName}'`);
    }
    await this.services.add(context, configId, built.spec);
    this.manager.put(svc);
    this.runner.serviceAdded(svc);
    this.deps.log.info({ service: svc.name, configId }, "service added");
    return { service: serviceView(svc), outcome: "CREATED", warnings: built.warnings };
  }

  /** A valid spec for a quarantined service: store it and adopt the service's stored tasks. */
  private async repair(context: ServiceContext, built: BuiltService): Promise<PutServiceResult> {
    const configId = await this.storedConfigId(context.name);
    const svc = this.newScheduler(built, configId);
    await this.deps.persister.multi(this.services.repairOps(context, configId, built.spec));
    await svc.load();
    this.manager.put(svc);
    this.runner.serviceAdded(svc);
    this.deps.log.info({ service: svc.name, configId }, "quarantined service repaired");
    return { service: serviceView(svc), outcome: "UPDATED", warnings: built.warnings };
  }

  uninstallService(name: string): Promise<ServiceView> {
    this.mustGet(name);
    return Promise.reject(
      new SchedulerError("unimplemented", "UninstallService is not implemented yet (comes with service removal)"),
    );
  }

  watchUninstall(_names: readonly string[], _after: bigint, _signal: AbortSignal): AsyncIterable<UninstallEventView> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () =>
          Promise.reject(new SchedulerError("unimplemented", "WatchUninstall is not implemented yet (comes with service removal)")),
      }),
    };
  }

  listServices(): readonly ServiceView[] {
    return this.manager.names().map((n) => this.getService(n));
  }

  getService(name: string): ServiceView {
    const quarantined = this.manager.getQuarantined(name);
    return quarantined ? quarantinedView(quarantined) : serviceView(this.mustGet(name));
  }

  getPlan(name: string, plan: string): PlanView {
    return planView(this.mustGet(name), plan === "" ? "deploy" : plan);
  }

  private mustGet(name: string): ServiceScheduler {
    const svc = this.manager.get(name);
    if (svc) return svc;
    const quarantined = this.manager.getQuarantined(name);
    if (quarantined) {
      throw new SchedulerError("failed_precondition", `service '${name}' is quarantined: ${quarantined.error}; put a valid spec to repair it`);
    }
    throw new SchedulerError("not_found", `service '${name}' not found`);
  }
}

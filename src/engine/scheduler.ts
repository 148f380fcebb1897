/**
 * The multi-service scheduler: one framework registration, many services. Implements the admin
 * API over the manager, the stores and the runner. PutService builds the service first and
 * stores it second, so a bad spec never reaches the store (design doc "Adding a Service").
 */
import { SchedulerError, abbreviate } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import type {
  AdminApi,
  PlanView,
  PutServiceInput,
  PutServiceResult,
  SchedulerState,
  SchedulerView,
  ServiceView,
  TaskLogChunk,
  TaskLogInput,
  TaskView,
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
import { planView, quarantinedView, removalView, serviceView } from "./service-view.js";
import type { ManagedService } from "./multi-service-manager.js";
import { FINISH_RETRY_MS, Removals } from "./removals.js";
import type { UninstallCallback } from "./removals.js";
import { ServiceRemoval, removalPath } from "./service-removal.js";
import { openTaskLog } from "./task-log.js";
import { listServiceTasks } from "./task-views.js";
import type { TaskReadDeps } from "./task-views.js";
import { UninstallEventLog } from "./uninstall-events.js";
import type { UninstallEventLogOptions } from "./uninstall-events.js";
import { decodeText, encodeText } from "./store/codec.js";
import { READS_IN_FLIGHT, RECOVERY_BATCH_SERVICES, mapLimit } from "./store/concurrency.js";
import * as layout from "./store/layout.js";
import { chunks, getMany } from "./store/read-many.js";
import { ServiceStore } from "./store/service-store.js";
import type { StoredContext } from "./store/service-store.js";
import { StateStore } from "./store/state-store.js";
import type { StoredTask } from "./store/state-store.js";

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
}

export interface SchedulerOptions extends RunnerOptions {
  readonly framework: FrameworkIdentity;
  /** A removal not done after this long completes anyway (FORCED); ≤ 0 never. @default 10 min */
  readonly removalTimeoutMs?: number;
  /** Uninstall the whole scheduler (CORRAL_UNINSTALL / SDK_UNINSTALL, §3.9). @default false */
  readonly uninstall?: boolean;
  readonly events?: UninstallEventLogOptions;
}

export type SchedulerMode = SchedulerState;

/** One stored service after recovery: rebuilt (or being removed), or why not. */
interface Recovered {
  readonly stored: StoredContext;
  readonly svc?: ManagedService;
  readonly err?: unknown;
}

export const DEFAULT_REMOVAL_TIMEOUT_MS = 10 * 60 * 1000;

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
  private events: UninstallEventLog | undefined;
  private removals: Removals | undefined;
  private modeNow: SchedulerMode = "RUNNING";

  constructor(
    private readonly deps: SchedulerDeps,
    private readonly options: SchedulerOptions,
  ) {
    this.factory = deps.factory ?? specServiceFactory;
    this.services = new ServiceStore(deps.persister);
    this.client = new MultiServiceEventClient(
      this.manager,
      (ops) => deps.persister.multi(ops),
      (err) => deps.log.warn({ err }, "could not store this cycle's launches; their offers are declined"),
    );
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

  get mode(): SchedulerMode {
    return this.modeNow;
  }

  /** Checks the schema, rebuilds stored services, then registers with the cluster. */
  async start(): Promise<void> {
    await this.checkSchema();
    const events = await UninstallEventLog.load(this.deps.persister, this.deps.clock, this.options.events);
    this.events = events;
    const removals = new Removals({
      persister: this.deps.persister,
      manager: this.manager,
      runner: this.runner,
      events,
      clock: this.deps.clock,
      random: this.deps.random,
      log: this.deps.log,
      ...(this.deps.onServiceRemoved ? { onRemoved: this.deps.onServiceRemoved } : {}),
      onEmpty: () => {
        if (this.modeNow === "UNINSTALLING") this.runner.queue.post("uninstall-scheduler", () => this.finishUninstall());
      },
    });
    this.removals = removals;
    // Services are rebuilt in batches whose store reads go together (one multiRead per ≤ 128
    // nodes on ZooKeeper), several batches at a time, then registered in stored order.
    const batches = chunks(await this.services.recover(), RECOVERY_BATCH_SERVICES);
    const recovered = (await mapLimit(batches, READS_IN_FLIGHT, (batch) => this.recoverBatch(batch, removals))).flat();
    for (const { stored, svc, err } of recovered) {
      try {
        if (!svc) throw err;
        if (this.manager.get(stored.name) !== svc) this.manager.put(svc);
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        this.manager.putQuarantined({ name: stored.name, error, sinceMs: this.deps.clock.now() });
        this.deps.log.error({ err, service: stored.name }, "stored service does not build; quarantined, its tasks are left alone");
      }
    }
    const fid = await this.deps.persister.get(layout.FRAMEWORK_ID);
    if (this.options.uninstall) {
      this.modeNow = "UNINSTALLING";
      // Never registered: nothing can be running anywhere; wipe and be done (§3.9).
      if (!fid) return this.finishUninstall();
      for (const name of this.manager.names()) {
        if (!(this.manager.get(name) instanceof ServiceRemoval)) await this.beginRemoval(name, undefined);
      }
      if (this.manager.size === 0) this.runner.queue.post("uninstall-scheduler", () => this.finishUninstall());
    }
    try {
      await this.runner.start({
        name: this.options.framework.name,
        role: this.options.framework.role,
        principal: this.options.framework.principal,
        failoverTimeoutS: 14 * 24 * 3600,
        ...(fid ? { frameworkId: decodeText(fid.data) } : {}),
      });
    } catch (err) {
      // An uninstall that died after the teardown: the cluster no longer knows the framework.
      if (!this.options.uninstall || this.manager.size > 0) throw err;
      this.deps.log.warn({ err }, "the cluster refuses the stored framework; taking the uninstall as torn down");
      await this.finishUninstall();
    }
  }

  async stop(): Promise<void> {
    this.removals?.stop();
    await this.runner.stop();
  }

  /** Every service is gone: wipe the store but the lock, tear the framework down (§3.9). */
  private async finishUninstall(): Promise<void> {
    if (this.modeNow === "UNINSTALLED") return;
    try {
      // Everything of the schema-2 layout but the FrameworkID; the ZooKeeper lock node is not part of it.
      const roots = [layout.SERVICE_LIST, layout.SERVICES, layout.UNINSTALL_EVENTS, layout.SCHEMA_VERSION];
      await this.deps.persister.multi(roots.map((path) => ({ kind: "delete", path })));
      // The FrameworkID goes last: a scheduler that dies before the teardown still knows what to tear down.
      if (this.runner.registered) await this.deps.driver.teardown();
      await this.deps.persister.multi([{ kind: "delete", path: layout.FRAMEWORK_ID }]);
    } catch (err) {
      this.deps.log.warn({ err }, "could not finish the uninstall; trying again");
      this.deps.clock.setTimer(FINISH_RETRY_MS, () => this.runner.queue.post("uninstall-scheduler", () => this.finishUninstall()));
      return;
    }
    this.runner.halt(); // inside a work item: stop() would wait for itself
    this.modeNow = "UNINSTALLED";
    this.deps.log.info({}, "scheduler uninstalled: every service removed, state wiped, framework torn down");
    this.deps.onUninstalled?.();
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

  /**
   * Recovery of a batch of stored services: their Removal records and config targets in one
   * read, each spec built, then the tasks of those that built in one `StateStore.loadMany`.
   * A service's failure (read, build, decode) is its own; a failed read fails those it covered.
   */
  private async recoverBatch(batch: readonly StoredContext[], removals: Removals): Promise<Recovered[]> {
    const out: Recovered[] = new Array(batch.length);
    const paths: string[] = [];
    const at = batch.map((stored, i) => {
      try {
        const two = [removalPath(stored.name), layout.configTargetPath(stored.name)];
        return paths.push(...two) - 2;
      } catch (err) {
        out[i] = { stored, err };
        return -1;
      }
    });
    const nodes = await getMany(this.deps.persister, paths).catch((err: unknown) => err as Error);
    const building: { i: number; built: BuiltService; configId: string }[] = [];
    for (const [i, stored] of batch.entries()) {
      if (out[i]) continue;
      try {
        if (nodes instanceof Error) throw nodes;
        // A removal the last scheduler did not finish goes on, whether or not the spec builds.
        const removal = Removals.record(nodes[at[i]!]);
        if (removal) {
          out[i] = { stored, svc: await removals.resume(stored.name, removal) };
          continue;
        }
        if (!stored.context) throw new SchedulerError("internal", stored.error ?? "context unreadable");
        const built = this.factory.build(stored.context);
        const target = nodes[at[i]! + 1];
        building.push({ i, built, configId: target ? decodeText(target.data) : this.deps.random.uuid() });
      } catch (err) {
        out[i] = { stored, err };
      }
    }
    const loaded = await StateStore.loadMany(this.deps.persister, building.map((b) => b.built.spec.name));
    for (const [k, { i, built, configId }] of building.entries()) {
      const stored = batch[i]!;
      const got = loaded[k]!;
      try {
        const svc = this.newScheduler(built, configId, "tasks" in got ? got.tasks : undefined);
        if ("error" in got) throw got.error;
        await svc.load();
        out[i] = { stored, svc };
      } catch (err) {
        out[i] = { stored, err };
      }
    }
    return out;
  }

  private async storedConfigId(name: string): Promise<string> {
    const target = await new StateStore(this.deps.persister, name).configTarget();
    return target ?? this.deps.random.uuid();
  }

  /** `tasks`: already read by recovery (`StateStore.loadMany`); `load()` then reads nothing. */
  private newScheduler(built: BuiltService, configId: string, tasks?: Map<string, StoredTask>): ServiceScheduler {
    return new ServiceScheduler(built, configId, {
      store: new StateStore(this.deps.persister, built.spec.name, tasks),
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
    const admissible = (): ServiceScheduler | undefined => {
      this.mustAct();
      if (this.modeNow !== "RUNNING") {
        throw new SchedulerError("failed_precondition", `the scheduler is ${this.modeNow.toLowerCase()}: no service can be added`);
      }
      const current = this.manager.get(input.name);
      if (current instanceof ServiceRemoval) {
        throw new SchedulerError("failed_precondition", `service '${input.name}' is being uninstalled; put it again once its removal completed`);
      }
      return current;
    };
    admissible(); // nothing is built for a put that cannot succeed anyway
    const now = this.deps.clock.now();
    const context: ServiceContext = {
      name: input.name,
      spec: input.spec,
      parameters: input.parameters,
      generation: 1,
      createdMs: now,
      updatedMs: now,
    };
    // Off the event loop when the factory can (a spec of up to 1 MiB takes up to ~1 s of CPU:
    // adapters/spec-worker). The scheduler may have moved on meanwhile: check again after.
    const built = this.factory.buildForRequest ? await this.factory.buildForRequest(context) : this.factory.build(context);
    const existing = admissible();
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

  /** Starts (or, when it is under way, answers) the removal of a service; idempotent. */
  async uninstallService(name: string): Promise<ServiceView> {
    const violations = validateServiceName(name);
    if (violations.length > 0) throw SchedulerError.invalid(violations);
    const current = this.manager.get(name);
    if (current instanceof ServiceRemoval) return removalView(current);
    if (!current && !this.manager.getQuarantined(name)) throw new SchedulerError("not_found", `service '${abbreviate(name)}' not found`);
    this.mustAct();
    // After any put of the same name, and between offer cycles.
    const before = this.putsInFlight.get(name) ?? Promise.resolve();
    const run = before.catch(() => undefined).then(() => this.runner.queue.run("uninstall", () => this.beginRemoval(name, this.removalTimeoutMs())));
    this.putsInFlight.set(name, run);
    try {
      return removalView(await run);
    } finally {
      if (this.putsInFlight.get(name) === run) this.putsInFlight.delete(name);
    }
  }

  private removalTimeoutMs(): number | undefined {
    const ms = this.options.removalTimeoutMs ?? DEFAULT_REMOVAL_TIMEOUT_MS;
    return ms > 0 ? ms : undefined;
  }

  private async beginRemoval(name: string, timeoutMs: number | undefined): Promise<ServiceRemoval> {
    const current = this.manager.get(name);
    if (current instanceof ServiceRemoval) return current;
    if (!current && !this.manager.getQuarantined(name)) throw new SchedulerError("not_found", `service '${abbreviate(name)}' not found`);
    const configId = current ? current.configId : ((await new StateStore(this.deps.persister, name).configTarget()) ?? "");
    const context = current ? current.built.context : undefined;
    return this.removals!.begin(name, configId, context, timeoutMs);
  }

  watchUninstall(names: readonly string[], after: bigint, signal: AbortSignal): AsyncIterable<UninstallEventView> {
    for (const n of names) {
      const violations = validateServiceName(n).map((v) => ({ ...v, field: `names[${names.indexOf(n)}]` }));
      if (violations.length > 0) throw SchedulerError.invalid(violations);
    }
    if (!this.events) throw new SchedulerError("unavailable", "the scheduler is starting");
    return this.events.watch(names, after, signal, (n) => this.manager.get(n) !== undefined || this.manager.getQuarantined(n) !== undefined);
  }

  listServices(): readonly ServiceView[] {
    return this.manager.names().map((n) => this.getService(n));
  }

  getService(name: string): ServiceView {
    const quarantined = this.manager.getQuarantined(name);
    if (quarantined) return quarantinedView(quarantined);
    const svc = this.mustGet(name);
    return svc instanceof ServiceRemoval ? removalView(svc) : serviceView(svc);
  }

  getPlan(name: string, plan: string): PlanView {
    const svc = this.mustGet(name);
    const fallback = svc instanceof ServiceRemoval ? "uninstall" : "deploy";
    return planView(svc, plan === "" ? fallback : plan);
  }

  getScheduler(): SchedulerView {
    const names = this.manager.names();
    return {
      state: this.modeNow,
      services: names.length,
      uninstalling: this.manager.services().filter((s) => s instanceof ServiceRemoval).length,
      lastUninstallEvent: this.events?.lastSequence() ?? 0n,
    };
  }

  listTasks(name: string): Promise<readonly TaskView[]> {
    return listServiceTasks(this.taskReadDeps(), name);
  }

  taskLog(input: TaskLogInput, signal: AbortSignal): AsyncIterable<TaskLogChunk> {
    return openTaskLog({ ...this.taskReadDeps(), clock: this.deps.clock }, input, signal);
  }

  private taskReadDeps(): TaskReadDeps {
    return { manager: this.manager, persister: this.deps.persister, files: this.deps.driver.taskFiles };
  }

  /** A scheduler that lost its store lock may not write. */
  private mustAct(): void {
    if (this.deps.fence && !this.deps.fence.holds()) {
      throw new SchedulerError("unavailable", "the scheduler lost its store lock; retry once it holds it again");
    }
  }

  private mustGet(name: string): ManagedService {
    const svc = this.manager.get(name);
    if (svc) return svc;
    const quarantined = this.manager.getQuarantined(name);
    if (quarantined) {
      throw new SchedulerError("failed_precondition", `service '${name}' is quarantined: ${quarantined.error}; put a valid spec to repair it`);
    }
    throw new SchedulerError("not_found", `service '${abbreviate(name)}' not found`);
  }
}

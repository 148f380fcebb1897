/**
 * The multi-service scheduler: one framework registration, many services. The façade of the
 * admin API over its roles: start-up (stored-services.ts), puts (put-service.ts), removals
 * (scheduler-uninstall.ts) and the read views, all sharing one SchedulerParts.
 */
import { SchedulerError } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import type {
  AdminApi,
  PlanControlInput,
  PlanControlResult,
  PlanEventView,
  PlanView,
  PodControlInput,
  PodControlResult,
  PodView,
  PutServiceInput,
  PutServiceResult,
  SchedulerFigures,
  SchedulerView,
  SchemaVersion,
  ServiceMode,
  ServiceView,
  TaskLogChunk,
  TaskLogInput,
  TaskView,
  UninstallEventView,
} from "./admin-api.js";
import type { MultiServiceManager } from "./multi-service-manager.js";
import { PlanEvents } from "./plan-events.js";
import { ServicePuts } from "./put-service.js";
import type { SchedulerRunner } from "./runner.js";
import type { SchedulerDeps, SchedulerMode, SchedulerOptions } from "./scheduler-parts.js";
import { SchedulerParts } from "./scheduler-parts.js";
import { ServiceSteering } from "./scheduler-steer.js";
import { SchedulerUninstall } from "./scheduler-uninstall.js";
import { planView, schedulerFigures } from "./service-view.js";
import { recoverServices } from "./stored-services.js";
import { applyStaticSet, buildAll } from "./static-start.js";
import type { StaticService } from "./static-services.js";
import { staticServiceSet } from "./static-services.js";
import { ensureSchema } from "./store/schema.js";
import { openTaskLog } from "./task-log.js";
import { listServiceTasks } from "./task-views.js";
import { serviceEndpoints } from "./scheduler-endpoints.js";
import type { ServiceEndpoint } from "./service-endpoints.js";
import type { TaskReadDeps } from "./task-views.js";
import { UninstallEventLog } from "./uninstall-events.js";
import type { PersisterOp } from "./ports.js";
import { decodeText } from "./store/codec.js";
import * as layout from "./store/layout.js";
import { SelectionStore } from "./store/selection-store.js";
import { NEW_TRACE, NO_TRACER } from "./telemetry.js";

export type { SchedulerDeps, SchedulerOptions } from "./scheduler-parts.js";
export { DEFAULT_RUNNER_OPTIONS } from "./scheduler-parts.js";

export class MultiServiceScheduler implements AdminApi {
  readonly manager: MultiServiceManager;
  readonly runner: SchedulerRunner;
  private readonly parts: SchedulerParts;
  private readonly puts: ServicePuts;
  private readonly steering: ServiceSteering;
  private events: UninstallEventLog | undefined;
  private planEvents: PlanEvents | undefined;
  /** Aborted when the engine is abandoned: its watch streams end UNAVAILABLE. */
  private readonly abandoned = new AbortController();
  private uninstalls: SchedulerUninstall | undefined;
  /** The store's, once start() checked it (until then what the mode needs). */
  private schemaVersion: SchemaVersion;

  constructor(deps: SchedulerDeps, options: SchedulerOptions) {
    this.parts = new SchedulerParts(deps, options);
    this.manager = this.parts.manager;
    this.runner = this.parts.runner;
    this.puts = new ServicePuts(this.parts);
    this.steering = new ServiceSteering(this.parts);
    this.schemaVersion = this.serviceMode === "mono" ? 1 : 2;
  }

  get serviceMode(): ServiceMode {
    return this.parts.options.serviceMode ?? "dynamic";
  }

  get mode(): SchedulerMode {
    return this.parts.mode;
  }

  /**
   * Checks (or migrates) the schema, rebuilds stored services, puts the static set (static and
   * mono mode), then registers with the cluster.
   */
  async start(): Promise<void> {
    const { parts, serviceMode } = this;
    const { deps, options } = parts;
    // Named before the store is read: a static set over a mono store migrates only with a service named like the framework.
    // An uninstall removes what is stored: the files are neither needed nor put.
    const set = serviceMode === "dynamic" || options.uninstall ? undefined : staticServiceSet(options.staticServices ?? [], options.framework.name, serviceMode);
    if (set && serviceMode !== "dynamic") buildAll(parts.factory, set, serviceMode);
    const schema = await ensureSchema(parts.persister, {
      mode: serviceMode,
      frameworkName: options.framework.name,
      ...(serviceMode === "static" && set ? { staticNames: set.map((s) => s.name) } : {}),
      nowMs: deps.clock.now(),
      log: deps.log,
    });
    this.schemaVersion = schema.version;
    const tracer = deps.tracer ?? NO_TRACER;
    // Plan events are written beside the work items that made them, so they are part of none.
    const persist = (ops: readonly PersisterOp[]): Promise<void> => tracer.outside(() => parts.persister.multi(ops));
    [this.events, this.planEvents] = await Promise.all([
      UninstallEventLog.load(parts.persister, deps.clock, options.events),
      PlanEvents.load(parts.persister, deps.clock, this.manager, persist, deps.log, options.events),
    ]);
    const planEvents = this.planEvents;
    this.runner.queue.afterEach = () => planEvents.observe();
    const uninstalls = new SchedulerUninstall(parts, this.events);
    this.uninstalls = uninstalls;
    // Nothing else runs yet: recovery is the one work item, so its reads nest under its span.
    await tracer.unit(undefined, () => tracer.inSpan("engine.recovery", {}, () => recoverServices(parts, uninstalls.removals), NEW_TRACE));
    const fid = await parts.persister.get(layout.FRAMEWORK_ID);
    if (options.uninstall) {
      await uninstalls.beginWhole(fid !== undefined);
      if (parts.mode === "UNINSTALLED") return;
    } else if (set) {
      await this.putStaticSet(set, uninstalls);
    }
    try {
      await this.runner.start({
        name: options.framework.name,
        role: options.framework.role,
        principal: options.framework.principal,
        failoverTimeoutS: 14 * 24 * 3600,
        ...(fid ? { frameworkId: decodeText(fid.data) } : {}),
      });
    } catch (err) {
      // An uninstall that died after the teardown: the cluster no longer knows the framework.
      if (!options.uninstall || this.manager.size > 0) throw err;
      deps.log.warn({ err }, "the cluster refuses the stored framework; taking the uninstall as torn down");
      await uninstalls.finish();
    }
  }

  private putStaticSet(set: readonly StaticService[], uninstalls: SchedulerUninstall): Promise<void> {
    const mode = this.serviceMode === "mono" ? "mono" : "static";
    return applyStaticSet({ parts: this.parts, puts: this.puts, uninstall: (name) => uninstalls.uninstallService(name) }, set, mode);
  }

  async stop(): Promise<void> {
    this.uninstalls?.stop();
    await this.runner.stop();
    await this.planEvents?.idle();
  }

  /**
   * Stops without writing anything more, not even what queued work would write: after the
   * store lock was lost and held again, what this engine remembers may be stale.
   */
  async abandon(): Promise<void> {
    this.parts.persister.retire();
    this.abandoned.abort();
    await this.stop();
  }

  async putService(input: PutServiceInput): Promise<PutServiceResult> {
    this.mustBeDynamic();
    return this.puts.put(input);
  }

  /** Starts (or, when it is under way, answers) the removal of a service; idempotent. */
  async uninstallService(name: string): Promise<ServiceView> {
    this.mustBeDynamic();
    if (!this.uninstalls) throw new SchedulerError("unavailable", "the scheduler is starting");
    return this.uninstalls.uninstallService(name);
  }

  watchUninstall(names: readonly string[], after: bigint, signal: AbortSignal): AsyncIterable<UninstallEventView> {
    checkNames(names);
    if (!this.events) throw new SchedulerError("unavailable", "the scheduler is starting");
    const inner = this.events.watch(names, after, AbortSignal.any([signal, this.abandoned.signal]), this.isKnown);
    return endsUnavailable(inner, this.abandoned.signal, signal);
  }

  /** Plan, phase and step changes (plan-events.ts); ends UNAVAILABLE when this engine is abandoned. */
  watchPlans(names: readonly string[], after: bigint, signal: AbortSignal): AsyncIterable<PlanEventView> {
    checkNames(names);
    if (!this.planEvents) throw new SchedulerError("unavailable", "the scheduler is starting");
    const inner = this.planEvents.watch(names, after, AbortSignal.any([signal, this.abandoned.signal]), this.isKnown);
    return endsUnavailable(inner, this.abandoned.signal, signal);
  }

  private readonly isKnown = (n: string): boolean => this.manager.get(n) !== undefined || this.manager.getQuarantined(n) !== undefined;

  listServices(): readonly ServiceView[] {
    return this.manager.names().map((n) => this.parts.viewOf(n));
  }

  getService(name: string): ServiceView {
    return this.parts.viewOf(name);
  }

  getPlan(name: string, plan: string): PlanView {
    const svc = this.parts.mustGet(name);
    return planView(svc, plan === "" ? svc.defaultPlan : plan);
  }

  getScheduler(): SchedulerView {
    const names = this.manager.names();
    return {
      state: this.parts.mode,
      services: names.length,
      uninstalling: names.filter((n) => this.manager.get(n)?.removing).length,
      lastUninstallEvent: this.events?.lastSequence() ?? 0n,
      serviceMode: this.serviceMode,
      schemaVersion: this.schemaVersion,
    };
  }

  /** Services by state, each plan's status and steps by status, for metrics: no views are built. */
  figures(): SchedulerFigures {
    return schedulerFigures(this.manager.services(), this.manager.quarantinedCount);
  }

  /**
   * The deployment limit's slots for metrics: those stored as held by a known service (a service
   * acquires only once its slot is stored), and the limit; undefined when there is no limit.
   * Reads the store (the engine keeps the held set inside its event client).
   */
  async deploySlots(): Promise<{ readonly used: number; readonly limit: number } | undefined> {
    const limit = this.parts.options.maxParallelDeploys ?? 0;
    if (limit <= 0) return undefined;
    // A scrape reads beside whatever work item runs: part of no trace.
    const held = await (this.parts.deps.tracer ?? NO_TRACER).outside(() => new SelectionStore(this.parts.persister).fetch());
    return { used: held.filter((n) => this.manager.get(n) !== undefined).length, limit };
  }

  listTasks(name: string): Promise<readonly TaskView[]> {
    return listServiceTasks(this.taskReadDeps(), name);
  }

  taskLog(input: TaskLogInput, signal: AbortSignal): AsyncIterable<TaskLogChunk> {
    return openTaskLog({ ...this.taskReadDeps(), clock: this.parts.deps.clock }, input, signal);
  }

  /** GetEndpoints: the service's advertised ports of its running tasks; `portName` picks one. */
  getEndpoints(name: string, portName?: string): Promise<readonly ServiceEndpoint[]> {
    return serviceEndpoints(this.taskReadDeps(), this.parts.options.framework.name, this.parts.factory, name, portName);
  }

  listPlans(name: string): readonly PlanView[] {
    return this.steering.listPlans(name);
  }

  controlPlan(input: PlanControlInput): Promise<PlanControlResult> {
    return this.steering.controlPlan(input);
  }

  listPods(name: string): Promise<readonly PodView[]> {
    return this.steering.listPods(name);
  }

  controlPod(input: PodControlInput): Promise<PodControlResult> {
    return this.steering.controlPod(input);
  }

  /** Static and mono mode: the services are the spec files' (the start path puts them, not the API). */
  private mustBeDynamic(): void {
    const mode = this.serviceMode;
    if (mode === "dynamic") return;
    const from = mode === "static" ? "its services come from its spec files (--services); change the files" : "its service comes from its spec file (--service); change the file";
    throw new SchedulerError("failed_precondition", `the scheduler runs in ${mode} mode: ${from} and restart it`);
  }

  private taskReadDeps(): TaskReadDeps {
    return { manager: this.manager, persister: this.parts.persister, files: this.parts.deps.driver.taskFiles };
  }
}

function checkNames(names: readonly string[]): void {
  names.forEach((n, i) => {
    const violations = validateServiceName(n).map((v) => ({ ...v, field: `names[${i}]` }));
    if (violations.length > 0) throw SchedulerError.invalid(violations);
  });
}

/**
 * A watch of an abandoned engine ends UNAVAILABLE, not as if every removal were done: the
 * caller watches again, after the last sequence it saw, on the engine that replaced it.
 */
function endsUnavailable<T>(inner: AsyncIterableIterator<T>, abandoned: AbortSignal, caller: AbortSignal): AsyncIterableIterator<T> {
  const check = (r: IteratorResult<T, undefined>): IteratorResult<T, undefined> => {
    if (r.done && abandoned.aborted && !caller.aborted) {
      throw new SchedulerError("unavailable", "the scheduler is reloading its state from the store; watch again after the last sequence seen");
    }
    return r;
  };
  const iterator: AsyncIterableIterator<T> = {
    next: () => inner.next().then(check),
    return: () => inner.return!(),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

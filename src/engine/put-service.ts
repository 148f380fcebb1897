/**
 * PutService: a new service, a changed one (reconfiguration, §3.4), a repaired quarantined one,
 * or a dry run of any of these. The spec is built first — off the event loop where the factory
 * can — and the change applied second, inside one work item of the runner's queue, so a bad
 * spec never reaches the store and the manager changes between offer cycles only (design doc
 * "Adding a Service"). Every write goes through the fenced store.
 */
import { SchedulerError } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import type { ServiceSpec } from "../domain/spec/types.js";
import type { PutServiceInput, PutServiceResult, ServiceChangeView } from "./admin-api.js";
import type { ManagedService } from "./managed-service.js";
import type { SchedulerParts } from "./scheduler-parts.js";
import type { BuiltService, ServiceContext, ServicePresets } from "./service-context.js";
import { encodeContext } from "./service-context.js";
import { inheritUser, storedUser } from "./user-inherit.js";
import { withDriverNotes } from "./spec-notes.js";
import { planView } from "./service-view.js";
import { StateStore } from "./store/state-store.js";
import { NO_TRACER, SERVICE_ATTRIBUTE } from "./telemetry.js";
import type { TraceRef } from "./telemetry.js";

/**
 * A put of the start path in static and mono mode (not reachable over the API): the file's
 * template variables are preset to its own values.
 */
export interface FilePut {
  readonly presets: ServicePresets;
}

export class ServicePuts {
  constructor(private readonly parts: SchedulerParts) {}

  async put(input: PutServiceInput, file?: FilePut): Promise<PutServiceResult> {
    const violations = validateServiceName(input.name);
    if (violations.length > 0) throw SchedulerError.invalid(violations);
    const attributes = { [SERVICE_ATTRIBUTE]: input.name, "corral.dry_run": input.dryRun === true };
    const tracer = this.parts.deps.tracer ?? NO_TRACER;
    return tracer.inSpan("engine.putService", attributes, () => {
      // The work item is part of this span's trace: it runs after awaits, where the span is no longer current.
      const trace = tracer.current();
      return this.parts.inTurn(input.name, () => this.putInTurn(input, file, trace));
    });
  }

  private async putInTurn(input: PutServiceInput, file: FilePut | undefined, trace: TraceRef | undefined): Promise<PutServiceResult> {
    // Nothing is built for a put that cannot succeed anyway.
    const current = this.admissible(input);
    const now = this.parts.deps.clock.now();
    // Mono: a spec naming no user runs as root, the reference's mono default (§3.10 item 9).
    const modeUser = this.parts.options.serviceMode === "mono" ? "root" : undefined;
    const context: ServiceContext = {
      name: input.name,
      spec: input.spec,
      parameters: input.parameters,
      generation: generationOf(current) + 1,
      createdMs: current?.context?.createdMs ?? now,
      updatedMs: now,
      ...(file ? { presets: file.presets } : {}),
      ...(modeUser ? { defaultUser: modeUser } : {}),
    };
    // Off the event loop when the factory can (a spec of up to 1 MiB takes up to ~1 s of CPU:
    // adapters/spec-worker). The scheduler may have moved on meanwhile: the work item checks again.
    // A file's service builds here, at start, as recovery builds the stored ones.
    const { factory } = this.parts;
    const built = factory.buildForRequest && !file ? await factory.buildForRequest(context) : factory.build(context);
    return this.parts.runner.queue.run("put-service", () => this.apply(input, built), trace);
  }

  /** The service the put changes (undefined: a new or quarantined one), or why it may not. */
  private admissible(input: PutServiceInput): ManagedService | undefined {
    const { parts } = this;
    parts.mustAct();
    if (parts.mode !== "RUNNING") {
      throw new SchedulerError("failed_precondition", `the scheduler is ${parts.mode.toLowerCase()}: no service can be added`);
    }
    const current = parts.manager.get(input.name);
    if (current?.removing) {
      throw new SchedulerError("failed_precondition", `service '${input.name}' is being uninstalled; put it again once its removal completed`);
    }
    const generation = generationOf(current);
    if (input.expectedGeneration !== undefined && input.expectedGeneration !== generation) {
      throw new SchedulerError(
        "aborted",
        `service '${input.name}' is at generation ${generation}, not the expected ${input.expectedGeneration}; nothing was changed`,
      );
    }
    return current;
  }

  private async apply(input: PutServiceInput, spec: BuiltService): Promise<PutServiceResult> {
    const existing = this.admissible(input);
    const quarantined = !existing && this.parts.manager.getQuarantined(input.name) !== undefined;
    const built = withDriverNotes(await this.keepingUser(spec, existing, quarantined), this.parts.options.clusterCapabilities);
    encodeContext(built.context); // size check before anything is built further or stored
    if (existing) return this.update(existing, built, input.dryRun === true);
    if (quarantined) return this.repair(built, input.dryRun === true);
    return this.create(built, input.dryRun === true);
  }

  /** A new spec naming no user keeps the user of the stored service (user-inherit.ts). */
  private async keepingUser(built: BuiltService, existing: ManagedService | undefined, quarantined: boolean): Promise<BuiltService> {
    if (built.spec.user !== undefined && built.context.defaultUser === undefined) return built; // names its own
    if (!existing && !quarantined) return built;
    const { persister } = this.parts;
    const configId = existing ? existing.configId : ((await new StateStore(persister, built.context.name).configTarget()) ?? "");
    return inheritUser(built, await storedUser(persister, built.context.name, configId));
  }

  private async create(built: BuiltService, dryRun: boolean): Promise<PutServiceResult> {
    const { parts } = this;
    const configId = parts.deps.random.uuid();
    const svc = parts.newScheduler(built, configId);
    const clash = parts.manager.getBySanitized(svc.sanitizedName);
    if (clash) {
      throw new SchedulerError("already_exists", `service '${clash.name}' already uses the task-ID name '${svc.sanitizedName}'`);
    }
    const service = svc.view();
    if (dryRun) {
      const change: ServiceChangeView = { relaunched: [], added: podInstances(built.spec), decommissioned: [], plan: planView(svc, "deploy"), violations: [] };
      return { service, outcome: "CREATED", warnings: built.warnings, change, dryRun: true };
    }
    await parts.services.add(built.context, configId, built.spec);
    parts.install(svc);
    parts.deps.log.info({ service: svc.name, configId }, "service added");
    return { service, outcome: "CREATED", warnings: built.warnings };
  }

  /** A new spec for a running service: validated against its target (§1.13), stored, redeployed. */
  private async update(existing: ManagedService, built: BuiltService, dryRun: boolean): Promise<PutServiceResult> {
    const { parts } = this;
    const configId = parts.deps.random.uuid();
    const outcome = existing.prepareUpdate(built, configId, { dryRun });
    const { change } = outcome;
    if (outcome.unchanged) return { service: existing.view(), outcome: "UNCHANGED", warnings: built.warnings, ...(dryRun ? { change, dryRun } : {}) };
    if (dryRun) return { service: existing.view(), outcome: "UPDATED", warnings: built.warnings, change, dryRun };
    if (change.violations.length > 0) {
      const reasons = change.violations.map((v) => `${v.field}: ${v.reason}`).join("; ");
      throw new SchedulerError("failed_precondition", `service '${existing.name}' cannot change that way: ${reasons}`, {
        violations: change.violations,
      });
    }
    if (!outcome.ops || !outcome.commit) throw new SchedulerError("internal", `service '${existing.name}': an accepted change without writes`);
    await parts.persister.multi(outcome.ops);
    const next = outcome.commit();
    parts.install(next);
    parts.deps.log.info({ service: existing.name, configId, generation: built.context.generation }, "service updated");
    return { service: next.view(), outcome: "UPDATED", warnings: built.warnings, change };
  }

  /** A valid spec for a quarantined service: store it and adopt the service's stored tasks. */
  private async repair(built: BuiltService, dryRun: boolean): Promise<PutServiceResult> {
    const { parts } = this;
    const name = built.context.name;
    const configId = (await new StateStore(parts.persister, name).configTarget()) ?? parts.deps.random.uuid();
    const svc = parts.newScheduler(built, configId);
    await svc.load();
    if (dryRun) {
      const change: ServiceChangeView = { relaunched: [], added: [], decommissioned: [], plan: planView(svc, "deploy"), violations: [] };
      return { service: svc.view(), outcome: "UPDATED", warnings: built.warnings, change, dryRun: true };
    }
    await parts.persister.multi(parts.services.repairOps(built.context, configId, built.spec));
    parts.install(svc);
    parts.deps.log.info({ service: name, configId }, "quarantined service repaired");
    return { service: svc.view(), outcome: "UPDATED", warnings: built.warnings };
  }
}

/** The generation a put is checked against: 0 for a service that does not exist (or is quarantined). */
function generationOf(current: ManagedService | undefined): number {
  return current?.context?.generation ?? 0;
}

/** `hello-0`, `hello-1`, … for every pod of the spec. */
function podInstances(spec: ServiceSpec): string[] {
  return spec.pods.flatMap((pod) => Array.from({ length: pod.count }, (_, i) => `${pod.type}-${i}`));
}

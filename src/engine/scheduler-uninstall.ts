/**
 * Removing services: UninstallService (one service, §3.7) and the whole-scheduler uninstall
 * (§3.9): every service removed, then the store wiped and the framework torn down. Every change
 * runs on the runner's work queue; the writes go through the fenced store.
 */
import { SchedulerError, abbreviate } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import type { ServiceView } from "./admin-api.js";
import { FINISH_RETRY_MS, Removals } from "./removals.js";
import type { ManagedService } from "./managed-service.js";
import { NO_TRACER } from "./telemetry.js";
import type { TraceRef } from "./telemetry.js";
import type { SchedulerParts } from "./scheduler-parts.js";
import { DEFAULT_REMOVAL_TIMEOUT_MS } from "./scheduler-parts.js";
import * as layout from "./store/layout.js";
import { listBackups } from "./store/migration.js";
import { wipeOpsBatches } from "./store/tree.js";
import { StateStore } from "./store/state-store.js";
import type { UninstallEventLog } from "./uninstall-events.js";

/** Removals begun in one durable write (a ZooKeeper request stays far under its 1 MB limit). */
const BEGIN_BATCH = 64;

/** An UninstallService waiting for the next batch of removal starts. */
interface Waiting {
  readonly name: string;
  readonly timeoutMs: number | undefined;
  readonly resolve: (service: ManagedService) => void;
  readonly reject: (err: unknown) => void;
}

export class SchedulerUninstall {
  readonly removals: Removals;
  /** UninstallService calls not yet begun: the next work item begins them all in one write. */
  private waiting: Waiting[] = [];
  private batchQueued = false;

  constructor(
    private readonly parts: SchedulerParts,
    private readonly events: UninstallEventLog,
  ) {
    const { deps } = parts;
    this.removals = new Removals({
      persister: parts.persister,
      manager: parts.manager,
      runner: parts.runner,
      events,
      clock: deps.clock,
      random: deps.random,
      log: deps.log,
      ...(deps.onServiceRemoved ? { onRemoved: deps.onServiceRemoved } : {}),
      onEmpty: () => {
        if (parts.mode === "UNINSTALLING") this.finishSoon();
      },
    });
  }

  /** Starts (or, when it is under way, answers) the removal of a service; idempotent. */
  async uninstallService(name: string): Promise<ServiceView> {
    const violations = validateServiceName(name);
    if (violations.length > 0) throw SchedulerError.invalid(violations);
    const current = this.parts.manager.get(name);
    if (current?.removing) return current.view();
    if (!current && !this.parts.manager.getQuarantined(name)) throw new SchedulerError("not_found", `service '${abbreviate(name)}' not found`);
    this.parts.mustAct();
    const trace = (this.parts.deps.tracer ?? NO_TRACER).current();
    // After any put of the same name, and between offer cycles.
    const removal = await this.parts.inTurn(name, () => this.beginSoon(name, this.removalTimeoutMs(), trace));
    return removal.view();
  }

  /**
   * Whole-scheduler uninstall at start-up, once stored services are recovered: `registered`
   * tells whether a FrameworkID was stored.
   */
  async beginWhole(registered: boolean): Promise<void> {
    this.parts.mode = "UNINSTALLING";
    // Never registered: nothing can be running anywhere; wipe and be done (§3.9).
    if (!registered) return this.finish();
    for (const name of this.parts.manager.names()) {
      if (!this.parts.manager.get(name)?.removing) await this.begin(name, undefined);
    }
    if (this.parts.manager.size === 0) this.finishSoon();
  }

  private removalTimeoutMs(): number | undefined {
    const ms = this.parts.options.removalTimeoutMs ?? DEFAULT_REMOVAL_TIMEOUT_MS;
    return ms > 0 ? ms : undefined;
  }

  /**
   * Begins the removal in the next "uninstall" work item, with every other removal asked for
   * until it runs (one durable write for all of them, between offer cycles). The item is part
   * of the trace of the request that queued it.
   */
  private beginSoon(name: string, timeoutMs: number | undefined, trace: TraceRef | undefined): Promise<ManagedService> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ name, timeoutMs, resolve, reject });
      if (this.batchQueued) return;
      this.batchQueued = true;
      this.parts.runner.queue
        .run("uninstall", async () => {
          this.batchQueued = false;
          await this.beginWaiting(this.waiting.splice(0));
        }, trace)
        .catch((err: unknown) => this.parts.deps.log.error({ err }, "beginning removals failed"));
    });
  }

  private async beginWaiting(batch: readonly Waiting[]): Promise<void> {
    const requests: { readonly waiters: Waiting[]; readonly configId: string; readonly current: ManagedService | undefined }[] = [];
    const byName = new Map<string, Waiting[]>();
    for (const w of batch) {
      const current = this.parts.manager.get(w.name);
      if (current?.removing) {
        w.resolve(current);
        continue;
      }
      if (!current && !this.parts.manager.getQuarantined(w.name)) {
        w.reject(new SchedulerError("not_found", `service '${abbreviate(w.name)}' not found`));
        continue;
      }
      const same = byName.get(w.name);
      if (same) {
        same.push(w);
        continue;
      }
      const waiters = [w];
      byName.set(w.name, waiters);
      const configId = current ? current.configId : ((await new StateStore(this.parts.persister, w.name).configTarget()) ?? "");
      requests.push({ waiters, configId, current });
    }
    for (let i = 0; i < requests.length; i += BEGIN_BATCH) {
      const chunk = requests.slice(i, i + BEGIN_BATCH);
      try {
        const removals = await this.removals.beginMany(chunk.map((r) => ({ name: r.waiters[0]!.name, configId: r.configId, context: r.current?.context, timeoutMs: r.waiters[0]!.timeoutMs })));
        chunk.forEach((r, j) => r.waiters.forEach((w) => w.resolve(removals[j]!)));
      } catch (err) {
        for (const r of chunk) r.waiters.forEach((w) => w.reject(err));
      }
    }
  }

  private async begin(name: string, timeoutMs: number | undefined): Promise<ManagedService> {
    const current = this.parts.manager.get(name);
    if (current?.removing) return current;
    if (!current && !this.parts.manager.getQuarantined(name)) throw new SchedulerError("not_found", `service '${abbreviate(name)}' not found`);
    const configId = current ? current.configId : ((await new StateStore(this.parts.persister, name).configTarget()) ?? "");
    return this.removals.begin(name, configId, current?.context, timeoutMs);
  }

  private finishSoon(): void {
    this.parts.runner.queue.post("uninstall-scheduler", () => this.finish());
  }

  /** Every service is gone: wipe the store but the lock, tear the framework down (§3.9). */
  async finish(): Promise<void> {
    const { parts } = this;
    if (parts.mode === "UNINSTALLED") return;
    try {
      // A migration's backups first, in writes under the store's budget (a backup is a whole mono
      // store: with the rest in one ZooKeeper request it could pass the request limit); the index last.
      for (const ops of await wipeOpsBatches(parts.persister, await listBackups(parts.persister))) await parts.persister.multi(ops);
      // Everything of the schema-2 layout but the FrameworkID; the ZooKeeper lock node is not part of it.
      const roots = [layout.SERVICE_LIST, layout.SERVICES, layout.SCHEMA_VERSION, layout.PLAN_EVENTS, layout.SELECTED_SERVICES, layout.BACKUPS, layout.MIGRATION];
      await parts.persister.multi([...roots.map((path) => ({ kind: "delete" as const, path })), ...this.events.wipeOps()]);
      // The FrameworkID goes last: a scheduler that dies before the teardown still knows what to tear down.
      if (parts.runner.registered) await parts.deps.driver.teardown();
      await parts.persister.multi([{ kind: "delete", path: layout.FRAMEWORK_ID }]);
    } catch (err) {
      parts.deps.log.warn({ err }, "could not finish the uninstall; trying again");
      parts.deps.clock.setTimer(FINISH_RETRY_MS, () => this.finishSoon());
      return;
    }
    parts.runner.halt(); // inside a work item: stop() would wait for itself
    parts.mode = "UNINSTALLED";
    parts.deps.log.info({}, "scheduler uninstalled: every service removed, state wiped, framework torn down");
    parts.deps.onUninstalled?.();
  }

  stop(): void {
    this.removals.stop();
  }
}

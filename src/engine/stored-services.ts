/**
 * Start-up, once the store's schema is checked (store/schema.ts): every stored service rebuilt
 * (or its removal resumed) and put in the manager; one that does not build is quarantined, its
 * tasks left alone.
 */
import { SchedulerError } from "../domain/errors.js";
import type { ManagedService } from "./managed-service.js";
import { Removals } from "./removals.js";
import type { SchedulerParts } from "./scheduler-parts.js";
import type { BuiltService } from "./service-context.js";
import { removalPath } from "./service-removal.js";
import { decodeText } from "./store/codec.js";
import { READS_IN_FLIGHT, RECOVERY_BATCH_SERVICES, mapLimit } from "./store/concurrency.js";
import * as layout from "./store/layout.js";
import { chunks, getMany } from "./store/read-many.js";
import type { StoredContext } from "./store/service-store.js";
import { StateStore } from "./store/state-store.js";
import type { StoredSteering } from "./store/state-store.js";

/** One stored service after recovery: rebuilt (or being removed), or why not. */
interface Recovered {
  readonly stored: StoredContext;
  readonly svc?: ManagedService;
  readonly err?: unknown;
}

/**
 * Rebuilds every stored service into the manager. Services are rebuilt in batches whose store
 * reads go together (one multiRead per ≤ 128 nodes on ZooKeeper), several batches at a time,
 * then registered in stored order.
 */
export async function recoverServices(parts: SchedulerParts, removals: Removals): Promise<void> {
  const batches = chunks(await parts.services.recover(), RECOVERY_BATCH_SERVICES);
  const recovered = (await mapLimit(batches, READS_IN_FLIGHT, (batch) => recoverBatch(parts, batch, removals))).flat();
  for (const { stored, svc, err } of recovered) {
    try {
      if (!svc) throw err;
      if (parts.manager.get(stored.name) !== svc) parts.manager.put(svc);
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      parts.manager.putQuarantined({ name: stored.name, error, sinceMs: parts.deps.clock.now() });
      parts.deps.log.error({ err, service: stored.name }, "stored service does not build; quarantined, its tasks are left alone");
    }
  }
}

/**
 * Recovery of a batch of stored services: their Removal records and config targets in one
 * read, each spec built, then the tasks of those that built in one `StateStore.loadMany`.
 * A service's failure (read, build, decode) is its own; a failed read fails those it covered.
 */
async function recoverBatch(parts: SchedulerParts, batch: readonly StoredContext[], removals: Removals): Promise<Recovered[]> {
  const out: Recovered[] = new Array(batch.length);
  const paths: string[] = [];
  const at = batch.map((stored, i) => {
    try {
      const four = [removalPath(stored.name), layout.configTargetPath(stored.name), layout.planOverridesPath(stored.name), layout.pausedPodsPath(stored.name)];
      return paths.push(...four) - 4;
    } catch (err) {
      out[i] = { stored, err };
      return -1;
    }
  });
  const nodes = await getMany(parts.persister, paths).catch((err: unknown) => err as Error);
  const building: { i: number; built: BuiltService; configId: string; steering: StoredSteering }[] = [];
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
      const built = parts.factory.build(stored.context);
      const target = nodes[at[i]! + 1];
      const [overrides, paused] = [nodes[at[i]! + 2], nodes[at[i]! + 3]];
      const steering: StoredSteering = { ...(overrides ? { planOverrides: overrides.data } : {}), ...(paused ? { pausedPods: paused.data } : {}) };
      building.push({ i, built, configId: target ? decodeText(target.data) : parts.deps.random.uuid(), steering });
    } catch (err) {
      out[i] = { stored, err };
    }
  }
  const loaded = await StateStore.loadMany(parts.persister, building.map((b) => b.built.spec.name));
  for (const [k, { i, built, configId, steering }] of building.entries()) {
    const stored = batch[i]!;
    const got = loaded[k]!;
    try {
      const svc = parts.newScheduler(built, configId, "tasks" in got ? got.tasks : undefined, steering);
      if ("error" in got) throw got.error;
      await svc.load();
      out[i] = { stored, svc };
    } catch (err) {
      out[i] = { stored, err };
    }
  }
  return out;
}

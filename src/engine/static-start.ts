/**
 * The start path of static and mono mode, after recovery: the set's services put through the
 * normal put path (an unchanged spec relaunches nothing) and, in static mode, every stored
 * service no file names any more uninstalled. Every put is dry-run first, so one bad file fails
 * the start with nothing changed.
 */
import { SchedulerError, abbreviateList } from "../domain/errors.js";
import type { PutServiceResult } from "./admin-api.js";
import type { ServicePuts } from "./put-service.js";
import type { SchedulerParts } from "./scheduler-parts.js";
import type { ServiceFactory } from "./service-factory.js";
import type { StaticService } from "./static-services.js";
import { refusedFile } from "./static-services.js";

export interface StaticStart {
  readonly parts: SchedulerParts;
  readonly puts: ServicePuts;
  /** Begins a service's removal (the uninstall role, without the API's mode guard). */
  readonly uninstall: (name: string) => Promise<unknown>;
}

export async function applyStaticSet(start: StaticStart, set: readonly StaticService[], mode: "static" | "mono"): Promise<void> {
  const { parts, puts } = start;
  const log = parts.deps.log;
  // A service still being removed cannot be put (nor can its removal go on while the start
  // fails): it is put on a start after its removal completed.
  const putting = set.filter((s) => {
    if (!parts.manager.get(s.name)?.removing) return true;
    log.warn({ service: s.name, file: s.file }, `static service '${s.name}': still being removed; put on a later start`);
    return false;
  });
  await dryRunAll(puts, putting);
  for (const s of putting) {
    const result = await puts.put(s.input, { presets: s.presets });
    log.info({ service: s.name, file: s.file, outcome: result.outcome }, `${mode} service '${s.name}' (${s.file}): ${describe(result)}`);
  }
  if (mode !== "static") return;
  const named = new Set(set.map((s) => s.name));
  for (const name of parts.manager.names()) {
    if (named.has(name) || parts.manager.get(name)?.removing) continue;
    await start.uninstall(name);
    log.info({ service: name }, `static service '${name}': removal started (no spec file names it)`);
  }
}

/**
 * Every file's spec built before the store is touched: a file that does not parse or validate
 * fails the start before a mono store is migrated. (The dry-run puts after recovery add the
 * checks that need the stored service, such as the update rules.)
 */
export function buildAll(factory: ServiceFactory, set: readonly StaticService[], mode: "static" | "mono"): void {
  const refused: { readonly file: string; readonly err: SchedulerError }[] = [];
  for (const s of set) {
    try {
      factory.build({
        name: s.name,
        spec: s.input.spec,
        parameters: s.input.parameters,
        generation: 1,
        createdMs: 0,
        updatedMs: 0,
        presets: s.presets,
        ...(mode === "mono" ? { defaultUser: "root" } : {}),
      });
    } catch (err) {
      refused.push({ file: s.file, err: refusedFile(s.file, err, s.name) });
    }
  }
  throwRefused(refused);
}

/** Every file's put dry-run; all refusals (errors, or an update's violations) fail the start together. */
async function dryRunAll(puts: ServicePuts, set: readonly StaticService[]): Promise<void> {
  const refused: { readonly file: string; readonly err: SchedulerError }[] = [];
  for (const s of set) {
    try {
      const result = await puts.put({ ...s.input, dryRun: true }, { presets: s.presets });
      const violations = result.change?.violations ?? [];
      if (violations.length > 0) {
        const reasons = violations.map((v) => `${v.field}: ${v.reason}`).join("; ");
        throw new SchedulerError("failed_precondition", `service '${s.name}' cannot change that way: ${reasons}`, { violations });
      }
    } catch (err) {
      refused.push({ file: s.file, err: refusedFile(s.file, err, s.name) });
    }
  }
  throwRefused(refused);
}

/** All refusals together, each naming its file. */
function throwRefused(refused: readonly { readonly file: string; readonly err: SchedulerError }[]): void {
  if (refused.length === 0) return;
  if (refused.length === 1) throw refused[0]!.err;
  const files = abbreviateList(refused.map((r) => r.file));
  throw new SchedulerError("invalid_argument", `${refused.length} spec files are refused (${files}): ${refused.map((r) => r.err.message).join(" | ")}`, {
    violations: refused.flatMap((r) => r.err.violations),
  });
}

function describe(result: PutServiceResult): string {
  switch (result.outcome) {
    case "CREATED":
      return "created";
    case "UNCHANGED":
      return "unchanged";
    case "UPDATED": {
      // A repaired (quarantined) service has no change: it adopts its stored tasks.
      const c = result.change;
      return c ? `updated (relaunched ${c.relaunched.length}, added ${c.added.length}, decommissioned ${c.decommissioned.length})` : "updated (repaired)";
    }
  }
}

/**
 * A put of a new spec for a running service (§3.4, §1.13): the decision core says what changes
 * (`domain/service/update.ts`); this turns it into the change summary, the writes that make the
 * new config the target — context, config, target, relabelled task records, obsolete configs
 * deleted, in one multi, so a crash leaves the old target or the new one — and the service that
 * replaces the running one once they are stored.
 */
import type { BackoffState } from "../domain/plan/backoff.js";
import type { ServicePlans } from "../domain/service/plans.js";
import type { StoredTask } from "../domain/service/task-record.js";
import { planUpdate } from "../domain/service/update.js";
import type { ManagedService, UpdateOutcome } from "./managed-service.js";
import type { PersisterOp } from "./ports.js";
import type { BuiltService } from "./service-context.js";
import { encodeContext } from "./service-context.js";
import { toPlanView } from "./service-view.js";
import { encodeJson, encodeText } from "./store/codec.js";
import * as layout from "./store/layout.js";
import type { StateStore } from "./store/state-store.js";

/** What the service that replaces a reconfigured one starts from. */
export interface ServiceCarryOver {
  readonly tasks: Map<string, StoredTask>;
  readonly plans: ServicePlans;
  readonly frameworkId: string;
  readonly backoff: BackoffState;
  /** A deployment of the service completed before. */
  readonly deployedOnce: boolean;
  /**
   * Task ids whose reconciliation the replaced service was still waiting for. The replaced
   * service followed every status of the others in this process, so only these need asking about.
   */
  readonly unreconciled: ReadonlySet<string>;
  /** Paused pod instances the new spec still has (`hello-0`): they stay paused. */
  readonly paused: ReadonlySet<string>;
}

/** The running service an update starts from. */
export interface UpdateBase {
  readonly built: BuiltService;
  readonly configId: string;
  readonly tasks: ReadonlyMap<string, StoredTask>;
  readonly frameworkId: string;
  readonly backoff: BackoffState;
  readonly deployedOnce: boolean;
  readonly unreconciled: ReadonlySet<string>;
  readonly paused: ReadonlySet<string>;
  readonly store: StateStore;
  readonly newId: () => string;
}

export function prepareServiceUpdate(
  base: UpdateBase,
  built: BuiltService,
  configId: string,
  options: { readonly dryRun: boolean },
  replace: (carried: ServiceCarryOver) => ManagedService,
): UpdateOutcome {
  // The same text with the same effective user (a default user is not in the text) and the same
  // parameters (TASKCFG_* ones reach the tasks' env without being in the text) changes nothing.
  if (base.built.rendered === built.rendered && base.built.spec.user === built.spec.user && sameParameters(base.built.context.parameters, built.context.parameters)) {
    return { unchanged: true, change: { relaunched: [], added: [], decommissioned: [], violations: [] } };
  }
  const planning = planUpdate({
    current: { spec: base.built.spec, configId: base.configId, tasks: base.tasks, deployCompleted: base.deployedOnce },
    next: { spec: built.spec, configId },
    newId: base.newId,
  });
  const change = {
    relaunched: planning.relaunched,
    added: planning.added,
    decommissioned: planning.decommissioned,
    plan: toPlanView(planning.plans.deploy),
    violations: planning.violations,
  };
  if (planning.violations.length > 0 || options.dryRun) return { unchanged: false, change };
  const name = built.spec.name;
  const paused = new Set([...base.paused].filter((key) => built.spec.pods.some((p) => Array.from({ length: p.count }, (_, i) => `${p.type}-${i}`).includes(key))));
  const ops: PersisterOp[] = [
    ...(paused.size !== base.paused.size ? base.store.pausedPodsOps(paused) : []),
    { kind: "set", path: layout.contextPath(name), data: encodeContext(base.deployedOnce ? { ...built.context, deployed: true } : built.context) },
    { kind: "set", path: layout.configurationPath(name, configId), data: encodeJson(built.spec) },
    { kind: "set", path: layout.configTargetPath(name), data: encodeText(configId) },
    ...planning.relabelled.flatMap((t) => base.store.taskInfoOps(t.info)),
    ...planning.obsoleteConfigs.map((id): PersisterOp => ({ kind: "delete", path: layout.configurationPath(name, id) })),
  ];
  return {
    unchanged: false,
    change,
    ops,
    commit: () =>
      replace({ tasks: planning.tasks, plans: planning.plans, frameworkId: base.frameworkId, backoff: base.backoff, deployedOnce: base.deployedOnce, unreconciled: base.unreconciled, paused }),
  };
}

function sameParameters(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

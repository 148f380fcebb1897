/**
 * Size limits of one ServiceSpec. Every service shares one scheduler process and one store, so a
 * single oversized spec must not be able to exhaust memory or produce a stored config beyond the
 * store's 1 MB value limit (dcos-commons §6). Exceeding one is invalid_argument naming the limit.
 */
export const SPEC_LIMITS = {
  /** Rendered YAML text, in characters. The reference svc.yml is ~3 KB. */
  maxSpecChars: 256 * 1024,
  /** YAML alias expansions (yaml's `maxAliasCount`), against "billion laughs" documents. */
  maxAliasCount: 100,
  /** Pod types under `pods:`. */
  maxPods: 100,
  /** Tasks under one pod's `tasks:`. */
  maxTasksPerPod: 100,
  /** A pod's `count`. */
  maxPodCount: 1000,
  /** Sum over pods of count × tasks: the task instances one service may run. */
  maxTaskInstances: 10_000,
  /** Entries under one pod's `resource-sets:`. */
  maxResourceSetsPerPod: 100,
  /** Plans under `plans:`. */
  maxPlans: 50,
  /** Phases in one plan. */
  maxPhasesPerPlan: 100,
  /** Steps (task groups) listed for one pod index, or `default`, in a phase's `steps:`. */
  maxStepsPerInstance: 100,
} as const;

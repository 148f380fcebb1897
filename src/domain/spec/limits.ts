/**
 * Size limits of one ServiceSpec. Every service shares one scheduler process and one store, so a
 * single oversized spec must not be able to exhaust memory or produce a stored config beyond the
 * store's 1 MB value limit (dcos-commons §6). Exceeding one is invalid_argument naming the limit.
 */
export const SPEC_LIMITS = {
  /** Rendered YAML text, in characters. The reference svc.yml is ~3 KB. */
  maxSpecChars: 256 * 1024,
  /**
   * The template before rendering, in characters: bounds mustache's parse (~0.5 µs a character).
   * Twice the rendered limit, as unset sections may drop text.
   */
  maxTemplateChars: 512 * 1024,
  /**
   * Mustache sections nested inside each other. The reference templates nest at most two.
   * Rendering is iterative, so depth no longer threatens the stack; the limit stays to bound the
   * work per template and to keep templates readable.
   */
  maxTemplateSectionDepth: 100,
  /**
   * YAML collections nested inside each other. The reference svc.yml nests eight; yaml's composer
   * and `toJS` recurse per level and overflow the stack at a few hundred (less when called deep).
   */
  maxYamlDepth: 64,
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

/**
 * Ceilings of single values: above them no agent could offer the amount, and sums over
 * `maxTaskInstances` stay exact integers in a double (cpus in thousandths: 10^6 × 10^3 × 10^4
 * < 2^53). Exceeding one is invalid_argument naming the field and the ceiling.
 */
export const VALUE_LIMITS = {
  /** `cpus` of one resource set; Mesos keeps scalars to 0.001. */
  maxCpus: 1_000_000,
  /** `gpus` of one resource set; Mesos allocates whole GPUs. */
  maxGpus: 100_000,
  /** `memory` of one resource set, in MB: 2^32 MB = 4 PiB. */
  maxMemoryMb: 2 ** 32,
  /** `size` of one volume, in MB: 2^32 MB = 4 PiB. */
  maxVolumeMb: 2 ** 32,
  /**
   * Check intervals, timeouts, delays and grace periods, in seconds (~11.6 days): Node timers
   * fire at once for more than 2^31 − 1 ms (~24.8 days), so a larger value would be a busy loop.
   */
  maxDurationS: 1_000_000,
  /** `max-consecutive-failures` of a health check. */
  maxCheckFailures: 1_000_000,
} as const;

/**
 * dcos-commons' TASKCFG variables: a scheduler environment variable `TASKCFG_ALL_<NAME>` reaches
 * every task as `<NAME>`, and `TASKCFG_<POD>_<NAME>` the tasks of pod type `<POD>` (upper-cased,
 * '-' as '_'). Corral's services take them as parameters (`-p TASKCFG_ALL_LOG_LEVEL=debug`), so
 * each service sets its own. Like the reference, they are applied over the spec's `env`.
 */
import type { PodSpec, ServiceSpec } from "./types.js";

const ALL = "TASKCFG_ALL_";
const PREFIX = "TASKCFG_";

function podKey(type: string): string {
  return `${PREFIX}${type.toUpperCase().replaceAll("-", "_")}_`;
}

function envFor(pod: PodSpec, parameters: Readonly<Record<string, string>>): [string, string][] {
  const own = podKey(pod.type);
  const all: [string, string][] = [];
  const mine: [string, string][] = [];
  for (const [key, value] of Object.entries(parameters)) {
    if (key.startsWith(ALL) && key.length > ALL.length) all.push([key.slice(ALL.length), value]);
    else if (key.startsWith(own) && key.length > own.length) mine.push([key.slice(own.length), value]);
  }
  return [...all, ...mine]; // the pod's own win over ALL
}

/** The spec with each task's env extended by the TASKCFG parameters; the same object when none apply. */
export function withTaskConfig(spec: ServiceSpec, parameters: Readonly<Record<string, string>>): ServiceSpec {
  if (!Object.keys(parameters).some((k) => k.startsWith(PREFIX))) return spec;
  const pods = spec.pods.map((pod) => {
    const extra = envFor(pod, parameters);
    if (extra.length === 0) return pod;
    const tasks = pod.tasks.map((t) => ({ ...t, env: Object.fromEntries([...Object.entries(t.env), ...extra]) }));
    return { ...pod, tasks };
  });
  return { ...spec, pods };
}

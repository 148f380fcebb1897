/**
 * The TaskInfo for one task of a pod instance: ID per §2.1, the environment the reference
 * gives tasks (§4.2), the labels that recovery and config comparison rely on (§2.2) over the
 * spec's own, and the Mesos shapes of the spec's container, discovery, URI, secret and limit
 * keys. It records the executor it is launched in.
 */
import type { CommandCheck, CommandInfo, CommandUri, ExecutorInfo, Offer, Resource, SecretRef, TaskInfo } from "../cluster.js";
import { LABEL_TARGET_CONFIG } from "../cluster.js";
import type { CheckSpec, PodSpec, ResourceSetSpec, TaskSpec } from "../spec/types.js";
import { makeTaskId, taskInstanceName } from "../task-id.js";
import { placeEnv, placeLabels } from "./agent-place.js";
import { taskContainer } from "./container-info.js";
import { discoveryInfo } from "./discovery-info.js";
import type { LaunchContext } from "./launch-context.js";
import { frameworkHost, frameworkVipHost } from "./mesos-dns.js";

/** TaskInfo labels beyond the reference's, so a stored TaskInfo alone says where it belongs. */
export const LABEL_TASK_TYPE = "task_type";
export const LABEL_INDEX = "index";
export const LABEL_RESOURCE_SET = "resource_set";
/** Goal state, so an agent-side executor knows whether an exit is expected. */
export const LABEL_GOAL = "goal";
/**
 * Set by the scheduler on a record whose pod is given up (service/task-record.ts); a spec
 * label of that name would mark a fresh launch as permanently failed, so it is dropped.
 */
export const LABEL_PERMANENTLY_FAILED = "permanently-failed";

function specLabels(task: TaskSpec): Record<string, string> {
  const { [LABEL_PERMANENTLY_FAILED]: _dropped, ...rest } = task.labels ?? {};
  return rest;
}

function toCheck(c: CheckSpec): CommandCheck {
  return {
    command: c.cmd,
    intervalS: c.intervalS,
    timeoutS: c.timeoutS,
    delayS: c.delayS,
    gracePeriodS: c.gracePeriodS,
    consecutiveFailures: c.maxConsecutiveFailures,
  };
}

function portEnv(rs: ResourceSetSpec | undefined, resources: readonly Resource[]): Record<string, string> {
  const ports = resources.filter((r) => r.name === "ports");
  const env: Record<string, string> = {};
  rs?.ports.forEach((p, i) => {
    const begin = ports[i]?.ranges?.[0]?.begin;
    if (begin !== undefined) env[p.envKey] = String(begin);
  });
  return env;
}

/** `uris`: fetched into the sandbox, archives extracted, never made executable (the reference's defaults). */
function commandUris(pod: PodSpec): CommandUri[] {
  return (pod.uris ?? []).map((value) => ({ value, executable: false, extract: true }));
}

/** `secrets.<k>.env-key`: the variable holds the secret, resolved by the agent from its store. */
function secretEnvironment(pod: PodSpec): Record<string, SecretRef> {
  const out: Record<string, SecretRef> = {};
  for (const s of pod.secrets ?? []) if (s.envKey !== undefined) out[s.envKey] = { name: s.secret };
  return out;
}

/** `resource-limits`: Mesos TaskInfo.limits (Infinity = unlimited); undefined when none is set. */
function limits(rs: ResourceSetSpec | undefined): TaskInfo["limits"] {
  const l = rs?.limits;
  if (!l || (l.cpus === undefined && l.memoryMb === undefined)) return undefined;
  return { ...(l.cpus !== undefined ? { cpus: l.cpus } : {}), ...(l.memoryMb !== undefined ? { mem: l.memoryMb } : {}) };
}

/** The pod's user, else the service's (`scheduler.user`); unset, the framework's user runs it. */
function command(pod: PodSpec, task: TaskSpec, environment: Record<string, string>, serviceUser: string | undefined): CommandInfo {
  const user = pod.user || serviceUser;
  const uris = commandUris(pod);
  const secretEnv = secretEnvironment(pod);
  return {
    value: task.cmd,
    environment,
    ...(Object.keys(secretEnv).length > 0 ? { secretEnvironment: secretEnv } : {}),
    ...(user ? { user } : {}),
    ...(uris.length > 0 ? { uris } : {}),
  };
}

export function buildTaskInfo(
  ctx: LaunchContext,
  pod: PodSpec,
  podIndex: number,
  task: TaskSpec,
  offer: Offer,
  resources: readonly Resource[],
  /** Recorded only when a later launch may need it (evaluate.ts `recordsExecutor`). */
  executor: ExecutorInfo | undefined,
): TaskInfo {
  const name = taskInstanceName(pod.type, podIndex, task.name);
  const rs = pod.resourceSets.find((s) => s.id === task.resourceSetId);
  const environment = {
    ...task.env,
    ...portEnv(rs, resources),
    ...placeEnv(offer),
    TASK_NAME: name,
    POD_INSTANCE_INDEX: String(podIndex),
    // The reference renders each service with FRAMEWORK_NAME = the service's name (multi-service mode).
    FRAMEWORK_NAME: ctx.service,
    SERVICE_NAME: ctx.service,
    // DNS and VIPs are the Mesos framework's (mesos-dns.ts), as GetEndpoints gives them.
    FRAMEWORK_HOST: frameworkHost(ctx.frameworkName),
    FRAMEWORK_VIP_HOST: frameworkVipHost(ctx.frameworkName),
    // No SCHEDULER_API_HOSTNAME/PORT: the reference points them at its per-service HTTP API, which Corral has not.
  };
  const container = taskContainer(pod, task);
  const discovery = discoveryInfo(task, name, podIndex, rs, resources);
  const taskLimits = limits(rs);
  return {
    name,
    taskId: makeTaskId(ctx.sanitizedService, name, ctx.newId()),
    agentId: offer.agentId,
    resources,
    command: command(pod, task, environment, ctx.user),
    // The spec's labels first: Corral's own keys win, recovery and placement read them.
    labels: {
      ...specLabels(task),
      [LABEL_TARGET_CONFIG]: ctx.configId,
      [LABEL_TASK_TYPE]: pod.type,
      [LABEL_INDEX]: String(podIndex),
      [LABEL_RESOURCE_SET]: task.resourceSetId,
      ...placeLabels(offer),
      [LABEL_GOAL]: task.goal,
    },
    killGracePeriodS: task.killGracePeriodS,
    ...(task.healthCheck ? { healthCheck: toCheck(task.healthCheck) } : {}),
    ...(task.readinessCheck ? { check: toCheck(task.readinessCheck) } : {}),
    ...(container ? { container } : {}),
    ...(discovery ? { discovery } : {}),
    ...(taskLimits ? { limits: taskLimits } : {}),
    ...(executor ? { executor } : {}),
  };
}

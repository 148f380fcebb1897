/**
 * The TaskInfo for one task of a pod instance: ID per §2.1, the environment the reference
 * gives tasks (§4.2), and the labels that recovery and config comparison rely on (§2.2).
 */
import type { CommandCheck, Offer, Resource, TaskInfo } from "../cluster.js";
import { LABEL_TARGET_CONFIG } from "../cluster.js";
import type { CheckSpec, PodSpec, TaskSpec } from "../spec/types.js";
import { makeTaskId, taskInstanceName } from "../task-id.js";
import { placeEnv, placeLabels } from "./agent-place.js";
import type { LaunchContext } from "./launch-context.js";

/** TaskInfo labels beyond the reference's, so a stored TaskInfo alone says where it belongs. */
export const LABEL_TASK_TYPE = "task_type";
export const LABEL_INDEX = "index";
export const LABEL_RESOURCE_SET = "resource_set";
/** Goal state, so an agent-side executor knows whether an exit is expected. */
export const LABEL_GOAL = "goal";

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

function portEnv(task: TaskSpec, pod: PodSpec, resources: readonly Resource[]): Record<string, string> {
  const rs = pod.resourceSets.find((s) => s.id === task.resourceSetId);
  const ports = resources.filter((r) => r.name === "ports");
  const env: Record<string, string> = {};
  rs?.ports.forEach((p, i) => {
    const begin = ports[i]?.ranges?.[0]?.begin;
    if (begin !== undefined) env[p.envKey] = String(begin);
  });
  return env;
}

export function buildTaskInfo(
  ctx: LaunchContext,
  pod: PodSpec,
  podIndex: number,
  task: TaskSpec,
  offer: Offer,
  resources: readonly Resource[],
): TaskInfo {
  const name = taskInstanceName(pod.type, podIndex, task.name);
  const environment = {
    ...task.env,
    ...portEnv(task, pod, resources),
    ...placeEnv(offer),
    TASK_NAME: name,
    POD_INSTANCE_INDEX: String(podIndex),
    FRAMEWORK_NAME: ctx.frameworkName,
    SERVICE_NAME: ctx.service,
  };
  const info: TaskInfo = {
    name,
    taskId: makeTaskId(ctx.sanitizedService, name, ctx.newId()),
    agentId: offer.agentId,
    resources,
    command: { value: task.cmd, environment, ...(pod.user ? { user: pod.user } : {}) },
    labels: {
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
  };
  return info;
}

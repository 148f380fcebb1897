/**
 * The cluster driver with a span per call (`driver.accept`, `driver.kill`, …) naming the
 * services it concerns: by the reservations' namespace label or the task IDs
 * (service-attributes.ts). Subscribing and closing are not traced; `taskFiles` is forwarded as
 * it is (absent stays absent).
 */
import type { Filters, Operation } from "../../domain/cluster.js";
import type { ClusterDriver } from "../../engine/ports.js";
import { serviceAttributes } from "./service-attributes.js";
import type { ServiceNames } from "./service-attributes.js";
import type { SpanRunner } from "./span-runner.js";

export function tracedDriver(d: ClusterDriver, spans: SpanRunner, names: ServiceNames): ClusterDriver {
  const one = (taskId: string): Set<string> => names.ofTaskIds([taskId]);
  const traced: ClusterDriver = {
    subscribe: (framework, events) => d.subscribe(framework, events),
    accept: (offerIds: readonly string[], operations: readonly Operation[], filters?: Filters) =>
      spans.leaf(
        "driver.accept",
        () => ({ "corral.offers": offerIds.length, "corral.operations": operations.map((o) => o.type), ...serviceAttributes(names.ofOperations(operations)) }),
        () => d.accept(offerIds, operations, filters),
      ),
    decline: (offerIds, filters) => spans.leaf("driver.decline", { "corral.offers": offerIds.length }, () => d.decline(offerIds, filters)),
    kill: (taskId, agentId) => spans.leaf("driver.kill", () => ({ "corral.task_id": taskId, ...serviceAttributes(one(taskId)) }), () => d.kill(taskId, agentId)),
    acknowledge: (agentId, taskId, uuid) =>
      spans.leaf("driver.acknowledge", () => ({ "corral.task_id": taskId, ...serviceAttributes(one(taskId)) }), () => d.acknowledge(agentId, taskId, uuid)),
    reconcile: (tasks) =>
      spans.leaf("driver.reconcile", () => ({ "corral.tasks": tasks.length, ...serviceAttributes(names.ofTaskIds(tasks.map((t) => t.taskId))) }), () =>
        d.reconcile(tasks),
      ),
    revive: () => spans.leaf("driver.revive", {}, () => d.revive()),
    suppress: () => spans.leaf("driver.suppress", {}, () => d.suppress()),
    teardown: () => spans.leaf("driver.teardown", {}, () => d.teardown()),
    close: () => d.close(),
  };
  if (d.taskFiles !== undefined) Object.defineProperty(traced, "taskFiles", { get: () => d.taskFiles, enumerable: true });
  return traced;
}

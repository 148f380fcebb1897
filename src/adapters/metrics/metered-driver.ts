/**
 * A ClusterDriver that counts what passes between the scheduler and the cluster: offers
 * received (the events given to `subscribe` are wrapped), used (accepted with operations) and
 * declined (declined, or accepted with none, which Mesos takes as a decline), operations by
 * type, and task status updates by state. Counted when the scheduler makes the call, whatever
 * the cluster answers. `taskFiles` and the events' optional `fatal` are forwarded as they are.
 */
import type { Counter } from "prom-client";
import type { ClusterDriver, ClusterEvents } from "../../engine/ports.js";

export interface DriverCounters {
  readonly offers: Counter<"outcome">;
  readonly operations: Counter<"type">;
  readonly taskStatusUpdates: Counter<"state">;
}

export function meteredDriver(inner: ClusterDriver, counters: DriverCounters): ClusterDriver {
  const { offers, operations } = counters;
  return {
    subscribe: (framework, events) => inner.subscribe(framework, countedEvents(events, counters)),
    accept: (offerIds, ops, filters) => {
      offers.inc({ outcome: ops.length > 0 ? "used" : "declined" }, offerIds.length);
      for (const op of ops) operations.inc({ type: op.type });
      return inner.accept(offerIds, ops, filters);
    },
    decline: (offerIds, filters) => {
      offers.inc({ outcome: "declined" }, offerIds.length);
      return inner.decline(offerIds, filters);
    },
    kill: (taskId, agentId) => inner.kill(taskId, agentId),
    acknowledge: (agentId, taskId, uuid) => inner.acknowledge(agentId, taskId, uuid),
    reconcile: (tasks) => inner.reconcile(tasks),
    revive: () => inner.revive(),
    suppress: () => inner.suppress(),
    teardown: () => inner.teardown(),
    close: () => inner.close(),
    ...(inner.taskFiles ? { taskFiles: inner.taskFiles } : {}),
  };

  function countedEvents(events: ClusterEvents, { offers, taskStatusUpdates }: DriverCounters): ClusterEvents {
    const fatal = events.fatal;
    return {
      subscribed: (frameworkId) => events.subscribed(frameworkId),
      offers: (received) => {
        offers.inc({ outcome: "received" }, received.length);
        events.offers(received);
      },
      rescind: (offerId) => events.rescind(offerId),
      update: (status) => {
        taskStatusUpdates.inc({ state: status.state });
        events.update(status);
      },
      disconnected: (reason) => events.disconnected(reason),
      ...(fatal ? { fatal: (message: string) => fatal.call(events, message) } : {}),
    };
  }
}

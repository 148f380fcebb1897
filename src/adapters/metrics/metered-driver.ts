/**
 * A ClusterDriver that counts what passes between the scheduler and the cluster: offers
 * received (the events given to `subscribe` are wrapped), used (accepted with operations) and
 * declined (declined, or accepted with none, which Mesos takes as a decline), operations by
 * type, and task status updates by state. Counted when the scheduler makes the call, whatever
 * the cluster answers. `taskFiles` and the events' optional `fatal` are forwarded as they are.
 */
import type { ClusterDriver, ClusterEvents } from "../../engine/ports.js";
import type { LeanCounter } from "./lean-metrics.js";
import { perKey } from "./lean-metrics.js";

export interface DriverCounters {
  readonly offers: LeanCounter<"outcome">;
  readonly operations: LeanCounter<"type">;
  readonly taskStatusUpdates: LeanCounter<"state">;
}

export function meteredDriver(inner: ClusterDriver, counters: DriverCounters): ClusterDriver {
  const offers = perKey((outcome: string) => counters.offers.child({ outcome }));
  const operations = perKey((type: string) => counters.operations.child({ type }));
  const states = perKey((state: string) => counters.taskStatusUpdates.child({ state }));
  return {
    subscribe: (framework, events) => inner.subscribe(framework, countedEvents(events)),
    accept: (offerIds, ops, filters) => {
      offers(ops.length > 0 ? "used" : "declined").inc(offerIds.length);
      for (const op of ops) operations(op.type).inc();
      return inner.accept(offerIds, ops, filters);
    },
    decline: (offerIds, filters) => {
      offers("declined").inc(offerIds.length);
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

  function countedEvents(events: ClusterEvents): ClusterEvents {
    const fatal = events.fatal;
    return {
      subscribed: (frameworkId) => events.subscribed(frameworkId),
      offers: (received) => {
        offers("received").inc(received.length);
        events.offers(received);
      },
      rescind: (offerId) => events.rescind(offerId),
      update: (status) => {
        states(status.state).inc();
        events.update(status);
      },
      disconnected: (reason) => events.disconnected(reason),
      ...(fatal ? { fatal: (message: string) => fatal.call(events, message) } : {}),
    };
  }
}

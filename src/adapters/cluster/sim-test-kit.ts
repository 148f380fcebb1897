/** Fixtures and a harness for the simulated cluster's tests (FakeClock, a recording ClusterEvents). */
import type {
  Offer,
  Operation,
  Reservation,
  Resource,
  TaskInfo,
  TaskStatus,
} from "../../domain/cluster.js";
import type { ClusterEvents, FrameworkInfo } from "../../engine/ports.js";
import { FakeClock, SeededRandom } from "../fake-clock.js";
import { SimulatedCluster } from "./simulated-cluster.js";
import type { SimulatedClusterOptions } from "./simulated-cluster.js";

export const FRAMEWORK: FrameworkInfo = {
  name: "corral",
  role: "svc-role",
  principal: "corral-principal",
  failoverTimeoutS: 3600,
};

// Fixture builders ------------------------------------------------------------------------------

export function reserved(resourceId: string): Reservation[] {
  return [
    {
      type: "DYNAMIC",
      role: FRAMEWORK.role,
      principal: FRAMEWORK.principal,
      labels: { resource_id: resourceId, namespace: "hello" },
    },
  ];
}

export function scalar(name: string, amount: number, resourceId?: string): Resource {
  const r: Resource = { name, type: "SCALAR", scalar: amount };
  return resourceId === undefined ? r : { ...r, reservations: reserved(resourceId) };
}

export function volume(sizeMb: number, resourceId: string, persistenceId: string): Resource {
  const disk = {
    persistence: { id: persistenceId },
    volume: { containerPath: "data", mode: "RW" },
  };
  return { ...scalar("disk", sizeMb, resourceId), disk } as Resource;
}

export function task(
  taskId: string,
  agentId: string,
  resources: readonly Resource[],
  over: Partial<TaskInfo> = {},
): TaskInfo {
  return {
    name: taskId,
    taskId,
    agentId,
    resources,
    command: { value: "sleep 1000", environment: {} },
    labels: {},
    ...over,
  };
}

export function launch(tasks: readonly TaskInfo[], executorId = `exec-${tasks[0]?.taskId}`): Operation {
  return {
    type: "LAUNCH_GROUP",
    executor: { executorId, frameworkId: "fw-1", resources: [], labels: {} },
    tasks,
  };
}

export function scalarOf(offer: Offer | undefined, name: string, reservedOnly = false): number {
  const rs = (offer?.resources ?? []).filter(
    (r) => r.name === name && !!r.reservations === reservedOnly,
  );
  return rs.reduce((sum, r) => sum + (r.scalar ?? 0), 0);
}

// Harness ---------------------------------------------------------------------------------------

export async function harness(options: Partial<SimulatedClusterOptions> = {}) {
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({
    agents: 2,
    clock,
    random: new SeededRandom(7),
    frameworkId: "fw-1",
    ...options,
  });
  const log = {
    subscribed: [] as string[],
    offers: [] as Offer[],
    updates: [] as TaskStatus[],
    rescinds: [] as string[],
    disconnects: [] as string[],
  };
  const events: ClusterEvents = {
    subscribed: (id) => log.subscribed.push(id),
    offers: (offers) => log.offers.push(...offers),
    rescind: (id) => log.rescinds.push(id),
    update: (status) => log.updates.push(status),
    disconnected: (reason) => log.disconnects.push(reason),
  };
  await cluster.subscribe(FRAMEWORK, events);
  clock.advance(0);
  const agents = cluster.agentIds();
  return {
    clock,
    cluster,
    log,
    events,
    agent0: agents[0] ?? "",
    agent1: agents[1] ?? "",
    /** Takes the offers received so far. */
    takeOffers(): Offer[] {
      return log.offers.splice(0);
    },
    /** Takes the updates received so far. */
    takeUpdates(): TaskStatus[] {
      return log.updates.splice(0);
    },
    offerFor(agentId: string): Offer {
      const offer = cluster.outstandingOffers().find((o) => o.agentId === agentId);
      if (!offer) throw new Error(`no outstanding offer for ${agentId}`);
      return offer;
    },
    /** Advances time, acknowledging every update with a uuid, until nothing new arrives. */
    async settle(ms = 0): Promise<TaskStatus[]> {
      clock.advance(ms);
      const seen: TaskStatus[] = [];
      for (let batch = log.updates.splice(0); batch.length > 0; batch = log.updates.splice(0)) {
        seen.push(...batch);
        for (const s of batch) {
          if (s.uuid) await cluster.acknowledge(s.agentId ?? "", s.taskId, s.uuid);
        }
        clock.advance(0);
      }
      return seen;
    },
  };
}

export const states = (updates: readonly TaskStatus[]): string[] =>
  updates.map((u) => `${u.taskId}:${u.state}`);


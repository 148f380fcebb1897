/**
 * The in-process master's state as plain JSON, and its restoration: what the local cluster
 * writes to its data directory so that reservations, volumes, tasks and unacknowledged
 * updates outlive the scheduler process, as they outlive a Mesos master failover.
 */
import type { ExecutorInfo, Resource, TaskInfo, TaskState, TaskStatus } from "../../domain/cluster.js";
import { isTerminal } from "../../domain/cluster.js";
import type { SimFramework } from "./sim-agent.js";
import type { SimAgent } from "./sim-agent.js";
import type { SimMaster } from "./sim-master.js";
import { stripDisk } from "./sim-resource-checks.js";

export const SNAPSHOT_VERSION = 1;

export interface SavedTask {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly executor: ExecutorInfo;
  readonly info: TaskInfo;
  readonly group: number;
  readonly state: TaskState;
  readonly lastSent?: TaskStatus;
  readonly pending: readonly TaskStatus[];
}

export interface MasterSnapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly masterId: string;
  readonly frameworkSeq: number;
  readonly framework?: SimFramework;
  readonly removedFrameworks: readonly string[];
  readonly agents: readonly { readonly id: string; readonly reserved: readonly Resource[] }[];
  readonly tasks: readonly SavedTask[];
}

export function takeSnapshot(m: SimMaster): MasterSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    masterId: m.masterId,
    frameworkSeq: m.frameworkSeq,
    ...(m.framework ? { framework: m.framework } : {}),
    removedFrameworks: [...m.removedFrameworks],
    agents: m.agents.map((a) => ({ id: a.id, reserved: a.ledger.reserved() })),
    tasks: m.tasks.all().map((t) => ({
      agentId: t.agent.id,
      frameworkId: t.frameworkId,
      executor: t.executor,
      info: t.info,
      group: t.group,
      state: t.state,
      ...(t.lastSent ? { lastSent: t.lastSent } : {}),
      pending: m.tasks.channel.queued(t.info.taskId),
    })),
  };
}

/** What could not be restored, for the log: agents that no longer exist, resources that no longer fit. */
export interface RestoreProblem {
  readonly what: string;
  readonly reason: string;
}

/**
 * Restores `snap` into a fresh master built with the same `masterId`. Returns the adopted
 * live tasks (for the runtime to re-attach to) and what could not be restored.
 */
export function restoreSnapshot(
  m: SimMaster,
  snap: MasterSnapshot,
): { readonly live: ReturnType<SimMaster["tasks"]["adopt"]>; readonly problems: RestoreProblem[] } {
  const problems: RestoreProblem[] = [];
  m.frameworkSeq = snap.frameworkSeq;
  if (snap.framework) m.framework = snap.framework;
  for (const id of snap.removedFrameworks) m.removedFrameworks.add(id);
  const agents = new Map(m.agents.map((a) => [a.id, a]));
  for (const saved of snap.agents) {
    const agent = agents.get(saved.id);
    if (!agent) {
      if (saved.reserved.length > 0) problems.push({ what: `agent ${saved.id}`, reason: "no longer part of the cluster; its reservations are gone" });
      continue;
    }
    for (const r of saved.reserved) {
      const reason = reserveAgain(agent, r);
      if (reason) problems.push({ what: `reservation on ${agent.id}`, reason });
    }
  }
  const adopt: Parameters<SimMaster["tasks"]["adopt"]>[0][number][] = [];
  for (const t of snap.tasks) {
    const agent = agents.get(t.agentId);
    if (!agent) {
      problems.push({ what: `task ${t.info.taskId}`, reason: `agent ${t.agentId} is gone` });
      continue;
    }
    if (!isTerminal(t.state)) {
      const fw = { id: t.frameworkId, role: "", principal: "" };
      const reason = agent.launch(agent.ledger.available(), { executor: t.executor, tasks: [t.info] }, fw, () => false, false);
      if (reason) {
        problems.push({ what: `task ${t.info.taskId}`, reason });
        continue;
      }
    }
    adopt.push({ ...t, agent, lastSent: t.lastSent });
  }
  const tasks = m.tasks.adopt(adopt);
  return { live: tasks.filter((t) => !isTerminal(t.state)), problems };
}

/** Re-applies one reserved resource (RESERVE, then CREATE for a volume) to a fresh agent. */
function reserveAgain(agent: SimAgent, r: Resource): string | undefined {
  const last = r.reservations?.at(-1);
  if (!last) return `${r.name} has no reservation`;
  const fw: SimFramework = { id: "", role: last.role, principal: last.principal ?? "" };
  const avail = agent.ledger.available();
  if (!r.disk?.persistence) return agent.reserve(avail, [r], fw);
  return agent.reserve(avail, [stripDisk(r)], fw) ?? agent.create(avail, [r]);
}

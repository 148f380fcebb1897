import { describe, expect, it } from "vitest";
import pino from "pino";
import type { Offer, Operation, TaskInfo } from "../domain/cluster.js";
import type { ClientStatus, KillDecision, OfferResult } from "./managed-service.js";
import { MultiServiceEventClient } from "./multi-service-event-client.js";
import { MultiServiceManager } from "./multi-service-manager.js";
import { runOfferCycle } from "./offer-cycle.js";
import type { ClusterDriver } from "./ports.js";
import type { ServiceScheduler } from "./service-scheduler.js";

const working: ClientStatus = { kind: "WORKING", footprint: true, newWork: false };
const offer = (id: string): Offer => ({ id, frameworkId: "f", agentId: "a", hostname: "h", resources: [] });
const launch = (taskId: string): Operation => ({
  type: "LAUNCH_GROUP",
  executor: { executorId: `${taskId}-exec`, frameworkId: "f", resources: [], labels: {} },
  tasks: [{ taskId, agentId: "a", resources: [] } as unknown as TaskInfo],
});

/** A service that launches one task on the first offer it sees and decides `kills`. */
function launcher(name: string, kills: KillDecision[] = []) {
  const refused: [string, string][] = [];
  const svc = {
    name,
    sanitizedName: name,
    status: () => working,
    offers: async (offers: readonly Offer[]): Promise<OfferResult> => {
      const first = offers[0];
      const operations = new Map(first ? [[first.id, [launch(`${name}__t`)]]] : []);
      return { ready: true, unplaced: 0, operations, kills };
    },
    acceptRefused: (offerId: string, reason: string) => refused.push([offerId, reason]),
  };
  return { svc: svc as unknown as ServiceScheduler, refused };
}

/** Records the calls; ACCEPTs of `refuse` offers reject. */
function driver(refuse: ReadonlySet<string>) {
  const calls: string[] = [];
  const d = {
    accept: async (ids: readonly string[]) => {
      calls.push(`accept ${ids.join()}`);
      if (ids.some((id) => refuse.has(id))) throw new Error("connection reset");
    },
    decline: async (ids: readonly string[], f?: { refuseSeconds?: number }) => void calls.push(`decline ${ids.join()} ${f?.refuseSeconds}`),
    reconcile: async (tasks: readonly { taskId: string }[]) => void calls.push(`reconcile ${tasks.map((t) => t.taskId).join()}`),
  };
  return { driver: d as unknown as ClusterDriver, calls };
}

describe("runOfferCycle", () => {
  it("a refused ACCEPT tells its service, hands the offer back and reconciles its tasks; the rest of the cycle goes on", async () => {
    const manager = new MultiServiceManager();
    const a = launcher("a", [{ taskId: "old", agentId: "a", reason: "replaced" }]);
    const b = launcher("b");
    manager.put(a.svc);
    manager.put(b.svc);
    const client = new MultiServiceEventClient(manager, async () => undefined);
    const { driver: d, calls } = driver(new Set(["o1"]));
    const killed: string[] = [];
    const outcome = await runOfferCycle(
      { client, driver: d, log: pino({ level: "silent" }), kill: (k) => killed.push(k.taskId) },
      [offer("o1"), offer("o2"), offer("o3")],
      { declineLongS: 3600, declineShortS: 5 },
    );
    expect(killed).toEqual(["old"]);
    expect(a.refused.map(([id]) => id)).toEqual(["o1"]);
    expect(a.refused[0]![1]).toMatch(/connection reset/);
    expect(b.refused).toEqual([]);
    expect(calls).toEqual(["accept o1", "accept o2", "decline o3 3600", "reconcile a__t", "decline o1 0"]);
    expect(outcome).toMatchObject({ accepted: 1, refused: 1, declined: 1, newWork: true, failed: 0 });
  });
});

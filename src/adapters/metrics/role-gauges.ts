/**
 * This replica's part: `corral_leader` (1 while it leads, else 0) and `corral_replica_role{role}`
 * (1 for the current role, 0 for the others), so `sum(corral_leader)` over the replicas of one
 * framework is 1 when all is well, and a dashboard can tell a starting replica from a standby.
 */
import { Gauge } from "prom-client";
import type { Registry } from "prom-client";

export type ReplicaRole = "starting" | "standby" | "leader";
const ROLES: readonly ReplicaRole[] = ["starting", "standby", "leader"];

export class RoleGauges {
  private readonly leader: Gauge;
  private readonly role: Gauge<"role">;

  constructor(registry: Registry) {
    this.leader = new Gauge({ name: "corral_leader", help: "1 while this scheduler leads (acts on the cluster and the store), 0 otherwise", registers: [registry] });
    this.role = new Gauge({ name: "corral_replica_role", help: "1 for this replica's current role (starting, standby, leader), 0 for the others", labelNames: ["role"] as const, registers: [registry] });
    this.set("starting");
  }

  set(role: ReplicaRole): void {
    this.leader.set(role === "leader" ? 1 : 0);
    for (const r of ROLES) this.role.set({ role: r }, r === role ? 1 : 0);
  }
}

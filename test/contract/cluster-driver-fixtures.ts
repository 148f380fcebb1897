/**
 * What the ClusterDriver contract sends: dynamic reservations labelled as the engine labels
 * them (resource_id, framework_id, namespace: src/domain/offer/evaluate.ts), persistent volumes
 * on reserved disk, LAUNCH_GROUP with the DEFAULT executor and Mesos' minimum executor resources
 * (unreserved, as the engine sends them), and readers of what comes back in offers.
 */
import type {
  Offer,
  Operation,
  Reservation,
  Resource,
  TaskInfo,
} from "../../src/domain/cluster.js";
import {
  LABEL_FRAMEWORK_ID,
  LABEL_NAMESPACE,
  LABEL_RESOURCE_ID,
} from "../../src/domain/cluster.js";
import { EXECUTOR_RESOURCES } from "../../src/domain/offer/evaluate.js";
import type { FrameworkInfo } from "../../src/engine/ports.js";

export const CONTRACT_FRAMEWORK: FrameworkInfo = {
  name: "corral-contract",
  role: "contract-role",
  principal: "contract-principal",
  failoverTimeoutS: 3600,
};

/** The service the contract's reservations belong to (the `namespace` label). */
export const CONTRACT_NAMESPACE = "contract-svc";

/** Small amounts, so a laptop split into two agents has room for every case. */
export const TASK_CPUS = 0.1;
export const TASK_MEM_MB = 32;
export const VOLUME_MB = 16;

/** Builds the operations of one test; ids are unique within it. */
export class ContractFixtures {
  private seq = 0;

  constructor(
    readonly framework: FrameworkInfo,
    readonly frameworkId: string,
  ) {}

  /** A fresh id with `prefix`, lower-case letters, digits and dashes (safe as a sandbox path). */
  id(prefix: string): string {
    return `${prefix}-${++this.seq}`;
  }

  reservation(resourceId: string): Reservation[] {
    return [
      {
        type: "DYNAMIC",
        role: this.framework.role,
        principal: this.framework.principal,
        labels: {
          [LABEL_RESOURCE_ID]: resourceId,
          [LABEL_FRAMEWORK_ID]: this.frameworkId,
          [LABEL_NAMESPACE]: CONTRACT_NAMESPACE,
        },
      },
    ];
  }

  /** A reserved scalar with a new resource_id. */
  reserved(name: string, amount: number): Resource {
    return { name, type: "SCALAR", scalar: amount, reservations: this.reservation(this.id("res")) };
  }

  /** A persistent volume on `disk` (a reserved disk resource). */
  volume(disk: Resource): Resource {
    return {
      ...disk,
      disk: { persistence: { id: this.id("vol") }, volume: { containerPath: "data", mode: "RW" } },
    };
  }

  task(agentId: string, resources: readonly Resource[], command = "sleep 1000"): TaskInfo {
    const taskId = this.id("task");
    return {
      name: taskId,
      taskId,
      agentId,
      resources,
      command: { value: command, environment: { CONTRACT_TASK: taskId } },
      labels: {},
    };
  }

  /** LAUNCH_GROUP with a new DEFAULT executor. */
  launch(tasks: readonly TaskInfo[]): Operation {
    const resources = EXECUTOR_RESOURCES;
    return {
      type: "LAUNCH_GROUP",
      executor: { executorId: this.id("exec"), frameworkId: this.frameworkId, resources, labels: {} },
      tasks,
    };
  }
}

/** Unreserved resources of a plain task. */
export function unreserved(): Resource[] {
  return [
    { name: "cpus", type: "SCALAR", scalar: TASK_CPUS },
    { name: "mem", type: "SCALAR", scalar: TASK_MEM_MB },
  ];
}

export function resourceIdOf(r: Resource): string | undefined {
  return r.reservations?.at(-1)?.labels[LABEL_RESOURCE_ID];
}

/** The offer's resources reserved under `resourceId`, as offered. */
export function withResourceId(offer: Offer, resourceId: string): Resource[] {
  return offer.resources.filter((r) => resourceIdOf(r) === resourceId);
}

/** The offer's resources carrying this framework's reservation labels. */
export function ownReserved(offer: Offer, frameworkId: string): Resource[] {
  return offer.resources.filter(
    (r) => r.reservations?.at(-1)?.labels[LABEL_FRAMEWORK_ID] === frameworkId,
  );
}

/** Sum of the offer's `name` scalars, unreserved or reserved ones. */
export function scalarOf(offer: Offer, name: string, kind: "unreserved" | "reserved"): number {
  return offer.resources
    .filter((r) => r.name === name && (r.reservations?.length ?? 0) > 0 === (kind === "reserved"))
    .reduce((sum, r) => sum + (r.scalar ?? 0), 0);
}

/** Comparable view of an offer's resources (order-free). */
export function resourceKeys(offer: Offer): string[] {
  return offer.resources
    .map((r) =>
      JSON.stringify([
        r.name,
        r.scalar ?? r.ranges,
        r.reservations?.map((x) => [x.role, x.labels]) ?? [],
        r.disk?.persistence?.id ?? null,
      ]),
    )
    .sort();
}

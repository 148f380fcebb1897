/**
 * One service's tasks and config target under `Services/<escaped name>/`. TaskInfos are
 * written before their launch is sent ("launch recorder"); statuses before they are acked.
 */
import type { TaskInfo, TaskStatus } from "../../domain/cluster.js";
import type { StoredTask } from "../../domain/service/task-record.js";
import type { Persister, PersisterOp, Versioned } from "../ports.js";
import { decodeJson, decodeText, encodeJson } from "./codec.js";
import * as layout from "./layout.js";
import { getMany } from "./read-many.js";

export type { StoredTask } from "../../domain/service/task-record.js";

/** One service's stored tasks, or why they could not be read or decoded. */
export type LoadedTasks = { readonly tasks: Map<string, StoredTask> } | { readonly error: unknown };

/** The nodes read per task, in this order. */
const taskNodePaths = (service: string, task: string): string[] => [
  layout.taskInfoPath(service, task),
  layout.taskStatusPath(service, task),
  layout.taskConfirmedPath(service, task),
];

function decodeTasks(names: readonly string[], nodes: readonly (Versioned | undefined)[]): Map<string, StoredTask> {
  const out = new Map<string, StoredTask>();
  names.forEach((name, i) => {
    const [info, status, confirmed] = nodes.slice(i * 3, i * 3 + 3);
    if (!info) return;
    out.set(name, {
      info: decodeJson<TaskInfo>(info.data),
      confirmed: confirmed !== undefined,
      ...(status ? { status: decodeJson<TaskStatus>(status.data) } : {}),
    });
  });
  return out;
}

/**
 * What operators steered, stored apart from the tasks and read with them at recovery: the plan
 * overrides (service-plan-control.ts decodes them) and the paused pods (service-pod-control.ts).
 */
export interface StoredSteering {
  readonly planOverrides?: Uint8Array;
  readonly pausedPods?: Uint8Array;
}

export class StateStore {
  /**
   * `preloaded`: the tasks, already read (recovery reads many services' at once with
   * `loadMany`); the first `loadTasks` returns them, later ones read the store.
   */
  constructor(
    private readonly persister: Persister,
    readonly service: string,
    private preloaded?: Map<string, StoredTask>,
    private preloadedSteering?: StoredSteering,
  ) {}

  /** The service's stored steering (read with the recovery batch, or now). */
  async loadSteering(): Promise<StoredSteering> {
    const preloaded = this.preloadedSteering;
    if (preloaded) {
      this.preloadedSteering = undefined;
      return preloaded;
    }
    const [overrides, paused] = await getMany(this.persister, [layout.planOverridesPath(this.service), layout.pausedPodsPath(this.service)]);
    return { ...(overrides ? { planOverrides: overrides.data } : {}), ...(paused ? { pausedPods: paused.data } : {}) };
  }

  /** Every stored task by instance name. */
  async loadTasks(): Promise<Map<string, StoredTask>> {
    const preloaded = this.preloaded;
    if (preloaded) {
      this.preloaded = undefined;
      return preloaded;
    }
    const names = await this.persister.children(layout.tasksPath(this.service));
    // All of them in one read (one multiRead on ZooKeeper); a service has a handful of tasks.
    const nodes = await getMany(this.persister, names.flatMap((name) => taskNodePaths(this.service, name)));
    return decodeTasks(names, nodes);
  }

  /**
   * `loadTasks` of many services with few requests: each service's task list (one children
   * call each, all at once), then every task node of all of them in one `getMany`. Per
   * service, in input order: its tasks, or its error (a failed read fails every service).
   */
  static async loadMany(persister: Persister, services: readonly string[]): Promise<LoadedTasks[]> {
    const listed = await Promise.allSettled(services.map(async (s) => persister.children(layout.tasksPath(s))));
    const paths: string[] = [];
    const at = listed.map((l, i) => {
      const from = paths.length;
      if (l.status === "fulfilled") for (const name of l.value) paths.push(...taskNodePaths(services[i]!, name));
      return from;
    });
    let nodes: (Versioned | undefined)[];
    try {
      nodes = await getMany(persister, paths);
    } catch (error) {
      return services.map(() => ({ error }));
    }
    return listed.map((l, i): LoadedTasks => {
      if (l.status === "rejected") return { error: l.reason };
      try {
        return { tasks: decodeTasks(l.value, nodes.slice(at[i], at[i]! + l.value.length * 3)) };
      } catch (error) {
        return { error };
      }
    });
  }

  /**
   * The ops that store launched TaskInfos, for a multi shared with other services' launches.
   * `stillConfirmed`: tasks relaunched on reservations already confirmed.
   */
  storeTasksOps(infos: readonly TaskInfo[], stillConfirmed: ReadonlySet<string>): PersisterOp[] {
    // The status of the previous launch goes too: it describes a task ID that no longer exists.
    const ops: PersisterOp[] = infos.flatMap((info): PersisterOp[] => [
      { kind: "set", path: layout.taskInfoPath(this.service, info.name), data: encodeJson(info) },
      { kind: "delete", path: layout.taskStatusPath(this.service, info.name) },
      ...(stillConfirmed.has(info.name)
        ? []
        : [{ kind: "delete" as const, path: layout.taskConfirmedPath(this.service, info.name) }]),
    ]);
    return ops;
  }

  /**
   * The ops that store a status; `confirm` also records that the task's reservations exist.
   * Batch API: the ops of many statuses (of any services) may go into one multi.
   */
  statusOps(taskName: string, status: TaskStatus, confirm: boolean): PersisterOp[] {
    const path = layout.taskStatusPath(this.service, taskName);
    const ops: PersisterOp[] = [{ kind: "set", path, data: encodeJson(status) }];
    if (confirm) ops.push({ kind: "set", path: layout.taskConfirmedPath(this.service, taskName), data: new Uint8Array() });
    return ops;
  }

  /** The ops that rewrite a task's TaskInfo (its status and confirmation stay). */
  taskInfoOps(info: TaskInfo): PersisterOp[] {
    return [{ kind: "set", path: layout.taskInfoPath(this.service, info.name), data: encodeJson(info) }];
  }

  /** Stores rewritten TaskInfos now (pods given up after the unreachable timeout). */
  async storeTaskInfos(infos: readonly TaskInfo[]): Promise<void> {
    await this.persister.multi(infos.flatMap((info) => this.taskInfoOps(info)));
  }

  /** The ops that store the service's paused pod instances (`hello-0`); none paused deletes the node. */
  pausedPodsOps(pods: ReadonlySet<string>): PersisterOp[] {
    const path = layout.pausedPodsPath(this.service);
    return pods.size === 0 ? [{ kind: "delete", path }] : [{ kind: "set", path, data: encodeJson([...pods].sort()) }];
  }

  /** The ops that erase a task's record (TaskInfo, status, confirmation). */
  eraseTaskOps(taskName: string): PersisterOp[] {
    return [{ kind: "delete", path: `${layout.tasksPath(this.service)}/${taskName}` }];
  }

  async configTarget(): Promise<string | undefined> {
    const v = await this.persister.get(layout.configTargetPath(this.service));
    return v ? decodeText(v.data) : undefined;
  }
}

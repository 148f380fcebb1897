/**
 * One service's tasks and config target under `Services/<escaped name>/`. TaskInfos are
 * written before their launch is sent ("launch recorder"); statuses before they are acked.
 */
import type { TaskInfo, TaskStatus } from "../../domain/cluster.js";
import type { Persister, PersisterOp } from "../ports.js";
import { decodeJson, decodeText, encodeJson } from "./codec.js";
import * as layout from "./layout.js";

export interface StoredTask {
  readonly info: TaskInfo;
  readonly status?: TaskStatus;
  /**
   * An agent has reported on this TaskInfo, so its reservations exist. A TaskInfo is stored
   * before its launch is sent; if the scheduler dies in between, nothing was reserved and the
   * stored resource ids must not pin the pod.
   */
  readonly confirmed: boolean;
}

export class StateStore {
  constructor(
    private readonly persister: Persister,
    readonly service: string,
  ) {}

  /** Every stored task by instance name. */
  async loadTasks(): Promise<Map<string, StoredTask>> {
    const out = new Map<string, StoredTask>();
    const names = await this.persister.children(layout.tasksPath(this.service));
    // All reads at once (pipelined on ZooKeeper); a service has a handful of tasks.
    const read = await Promise.all(
      names.map((name) =>
        Promise.all([
          this.persister.get(layout.taskInfoPath(this.service, name)),
          this.persister.get(layout.taskStatusPath(this.service, name)),
          this.persister.get(layout.taskConfirmedPath(this.service, name)),
        ]),
      ),
    );
    names.forEach((name, i) => {
      const [info, status, confirmed] = read[i]!;
      if (!info) return;
      out.set(name, {
        info: decodeJson<TaskInfo>(info.data),
        confirmed: confirmed !== undefined,
        ...(status ? { status: decodeJson<TaskStatus>(status.data) } : {}),
      });
    });
    return out;
  }

  /** `stillConfirmed`: tasks relaunched on reservations already confirmed. */
  async storeTasks(infos: readonly TaskInfo[], stillConfirmed: ReadonlySet<string>): Promise<void> {
    await this.persister.multi(this.storeTasksOps(infos, stillConfirmed));
  }

  /** The ops of `storeTasks`, for a multi shared with other services' launches. */
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

  /** Writes ops (from `statusOps`, possibly of several tasks) in one multi. */
  async write(ops: readonly PersisterOp[]): Promise<void> {
    await this.persister.multi(ops);
  }

  /** Stores one status on its own (`statusOps` in one multi). */
  async storeStatus(taskName: string, status: TaskStatus, confirm: boolean): Promise<void> {
    await this.persister.multi(this.statusOps(taskName, status, confirm));
  }

  async configTarget(): Promise<string | undefined> {
    const v = await this.persister.get(layout.configTargetPath(this.service));
    return v ? decodeText(v.data) : undefined;
  }
}

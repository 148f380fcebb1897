/**
 * An in-memory TaskFiles for engine tests, and a ClusterDriver that is the simulated cluster
 * plus those files: tests write a task's stdout/stderr, end it or remove its sandbox, and every
 * call is recorded (so a test can see that only known task IDs ever reach the cluster).
 */
import type { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import type { ClusterDriver, FileChunk, TaskFileName, TaskFiles, TaskSandbox } from "../../src/engine/ports.js";

interface Sandbox {
  readonly files: Record<TaskFileName, Uint8Array>;
  ended: boolean;
  pid: number;
}

export class MemoryTaskFiles implements TaskFiles {
  private readonly sandboxes = new Map<string, Sandbox>();
  /** Task IDs of every call, in order. */
  readonly asked: string[] = [];
  /** Largest `length` any readFile asked for. */
  maxLength = 0;

  /** Appends to a task's file, creating its sandbox. */
  write(taskId: string, file: TaskFileName, text: string | Uint8Array): void {
    const sb = this.sandbox(taskId);
    const add = typeof text === "string" ? new TextEncoder().encode(text) : text;
    const next = new Uint8Array(sb.files[file].length + add.length);
    next.set(sb.files[file]);
    next.set(add, sb.files[file].length);
    sb.files[file] = next;
  }

  end(taskId: string): void {
    this.sandbox(taskId).ended = true;
  }

  remove(taskId: string): void {
    this.sandboxes.delete(taskId);
  }

  private sandbox(taskId: string): Sandbox {
    let sb = this.sandboxes.get(taskId);
    if (!sb) {
      sb = { files: { stdout: new Uint8Array(), stderr: new Uint8Array() }, ended: false, pid: 1000 + this.sandboxes.size };
      this.sandboxes.set(taskId, sb);
    }
    return sb;
  }

  sandboxOf(taskId: string): Promise<TaskSandbox | undefined> {
    this.asked.push(taskId);
    const sb = this.sandboxes.get(taskId);
    return Promise.resolve(sb ? { path: `/sandboxes/${taskId}`, ended: sb.ended, ...(sb.ended ? {} : { pid: sb.pid }) } : undefined);
  }

  readFile(taskId: string, _agentId: string, file: TaskFileName, offset: number, length: number): Promise<FileChunk | undefined> {
    this.asked.push(taskId);
    this.maxLength = Math.max(this.maxLength, length);
    const sb = this.sandboxes.get(taskId);
    if (!sb) return Promise.resolve(undefined);
    const all = sb.files[file];
    return Promise.resolve({ data: all.slice(offset, offset + length), offset, size: all.length });
  }
}

/** The simulated cluster, serving `files`. */
export function withTaskFiles(cluster: SimulatedCluster, files: TaskFiles): ClusterDriver {
  return {
    subscribe: (f, e) => cluster.subscribe(f, e),
    accept: (ids, ops, filters) => cluster.accept(ids, ops, filters),
    decline: (ids, filters) => cluster.decline(ids, filters),
    kill: (taskId, agentId) => cluster.kill(taskId, agentId),
    acknowledge: (agentId, taskId, uuid) => cluster.acknowledge(agentId, taskId, uuid),
    reconcile: (tasks) => cluster.reconcile(tasks),
    revive: () => cluster.revive(),
    suppress: () => cluster.suppress(),
    teardown: () => cluster.teardown(),
    close: () => cluster.close(),
    taskFiles: files,
  };
}

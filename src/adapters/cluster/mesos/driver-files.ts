/**
 * TaskFiles over what a Mesos agent serves (the local agent is master and agent in one): the
 * operator API's GET_TASKS for a task's state and pid (`container_status.executor_pid` of its
 * latest status), `/files/browse` for its sandbox and `/files/read` for its output. File data
 * comes as text whose code points U+0000–U+00FF are the bytes (latin1), so bytes round-trip.
 * Paths are the agent's virtual ones, `/frameworks/<fid>/tasks/<taskId>[/stdout]`: the agent
 * resolves them and never leaves the sandbox.
 */
import { isTerminal, type TaskState } from "../../../domain/cluster.js";
import { SchedulerError } from "../../../domain/errors.js";
import type { FileChunk, TaskFileName, TaskFiles, TaskSandbox } from "../../../engine/ports.js";
import { callError } from "./driver-calls.js";
import { networkError, type Endpoint, type HttpReply, type Transport } from "./transport.js";

export interface TaskFilesOptions {
  readonly transport: Transport;
  readonly timeoutMs: number;
  /** The agent to ask and our framework ID; throws unavailable before the first SUBSCRIBED. */
  readonly target: () => { endpoint: Endpoint; frameworkId: string };
}

/** What GET_TASKS says of one task. */
interface TaskEntry {
  readonly state: string;
  readonly pid: number | undefined;
}

export class MesosTaskFiles implements TaskFiles {
  constructor(private readonly o: TaskFilesOptions) {}

  async sandboxOf(taskId: string, agentId: string): Promise<TaskSandbox | undefined> {
    const { endpoint, frameworkId } = this.o.target();
    const task = await this.task(endpoint, frameworkId, taskId, agentId);
    if (task === undefined) return undefined;
    const dir = sandboxPath(frameworkId, taskId);
    const listing = await this.get(endpoint, `/files/browse?path=${encodeURIComponent(dir)}`);
    if (listing.status === 404) return undefined;
    if (listing.status !== 200) throw callError("files/browse", listing);
    const ended = isTerminal(task.state as TaskState);
    const path = sandboxFromListing(listing.body) ?? dir;
    return { path, ended, ...(task.pid !== undefined && !ended ? { pid: task.pid } : {}) };
  }

  async readFile(taskId: string, agentId: string, file: TaskFileName, offset: number, length: number): Promise<FileChunk | undefined> {
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw SchedulerError.invalid([{ field: "offset/length", reason: `must be whole numbers ≥ 0, got ${offset}/${length}` }]);
    }
    void agentId; // one agent serves every sandbox here
    const { endpoint, frameworkId } = this.o.target();
    const path = `${sandboxPath(frameworkId, taskId)}/${file}`;
    const sized = await this.read(endpoint, path, -1, 0);
    if (sized === "missing") return this.missingFile(endpoint, frameworkId, taskId, offset);
    if (length === 0 || offset >= sized.offset) return { data: new Uint8Array(0), offset, size: sized.offset };
    const chunk = await this.read(endpoint, path, offset, length);
    if (chunk === "missing") return this.missingFile(endpoint, frameworkId, taskId, offset);
    const data = Buffer.from(chunk.data, "latin1");
    const bytes = new Uint8Array(data.buffer, data.byteOffset, Math.min(data.length, length));
    return { data: bytes, offset: chunk.offset, size: Math.max(sized.offset, chunk.offset + bytes.length) };
  }

  /** The file is not there: an empty chunk when the sandbox is (the task has not written it yet). */
  private async missingFile(endpoint: Endpoint, frameworkId: string, taskId: string, offset: number): Promise<FileChunk | undefined> {
    const listing = await this.get(endpoint, `/files/browse?path=${encodeURIComponent(sandboxPath(frameworkId, taskId))}`);
    if (listing.status === 404) return undefined;
    if (listing.status !== 200) throw callError("files/browse", listing);
    return { data: new Uint8Array(0), offset, size: 0 };
  }

  private async read(endpoint: Endpoint, path: string, offset: number, length: number): Promise<{ data: string; offset: number } | "missing"> {
    const query = `path=${encodeURIComponent(path)}&offset=${offset}${offset >= 0 ? `&length=${length}` : ""}`;
    const reply = await this.get(endpoint, `/files/read?${query}`);
    if (reply.status === 404) return "missing";
    if (reply.status === 400) {
      throw new SchedulerError("failed_precondition", `${path} is not a regular file: ${reply.body.toString("utf8").slice(0, 200)}`);
    }
    if (reply.status !== 200) throw callError("files/read", reply);
    const json = parse(reply.body, "files/read") as { data?: unknown; offset?: unknown };
    if (typeof json.data !== "string" || typeof json.offset !== "number") {
      throw new SchedulerError("internal", "files/read: the agent's answer has no data and offset");
    }
    return { data: json.data, offset: json.offset };
  }

  private async task(endpoint: Endpoint, frameworkId: string, taskId: string, agentId: string): Promise<TaskEntry | undefined> {
    const reply = await this.request(endpoint, "/api/v1", "POST", JSON.stringify({ type: "GET_TASKS" }));
    if (reply.status !== 200) throw callError("GET_TASKS", reply);
    const json = parse(reply.body, "GET_TASKS") as { get_tasks?: Record<string, unknown> };
    const lists = json.get_tasks ?? {};
    for (const key of ["tasks", "completed_tasks", "unreachable_tasks", "orphan_tasks"]) {
      const list = lists[key];
      if (!Array.isArray(list)) continue;
      for (const t of list as Record<string, unknown>[]) {
        if (idValue(t["task_id"]) !== taskId || idValue(t["framework_id"]) !== frameworkId) continue;
        const agent = idValue(t["agent_id"]);
        if (agent !== undefined && agentId !== "" && agent !== agentId) continue;
        return { state: typeof t["state"] === "string" ? t["state"] : "TASK_UNKNOWN", pid: latestPid(t["statuses"]) };
      }
    }
    return undefined;
  }

  private get(endpoint: Endpoint, path: string): Promise<HttpReply> {
    return this.request(endpoint, path, "GET");
  }

  private async request(endpoint: Endpoint, path: string, method: "GET" | "POST", body?: string): Promise<HttpReply> {
    try {
      return await this.o.transport.request(endpoint, path, {
        method,
        timeoutMs: this.o.timeoutMs,
        ...(body !== undefined ? { body, headers: { "Content-Type": "application/json", Accept: "application/json" } } : {}),
      });
    } catch (err) {
      throw networkError(`task files: ${this.o.transport.describe(endpoint, path)}`, err);
    }
  }
}

/** The agent's virtual path of a task's sandbox. */
export function sandboxPath(frameworkId: string, taskId: string): string {
  return `/frameworks/${frameworkId}/tasks/${taskId}`;
}

/** The sandbox's absolute path: the directory of the listed files (the agent lists absolute paths). */
function sandboxFromListing(body: Buffer): string | undefined {
  const list = parse(body, "files/browse");
  if (!Array.isArray(list)) return undefined;
  const first = list[0] as { path?: unknown } | undefined;
  if (typeof first?.path !== "string" || !first.path.startsWith("/")) return undefined;
  const slash = first.path.lastIndexOf("/");
  return slash > 0 ? first.path.slice(0, slash) : undefined;
}

/** The pid in the latest status's `container_status.executor_pid`. */
function latestPid(statuses: unknown): number | undefined {
  if (!Array.isArray(statuses)) return undefined;
  for (let i = statuses.length - 1; i >= 0; i--) {
    const cs = (statuses[i] as { container_status?: { executor_pid?: unknown } } | null)?.container_status;
    if (typeof cs?.executor_pid === "number" && Number.isInteger(cs.executor_pid)) return cs.executor_pid;
  }
  return undefined;
}

function idValue(v: unknown): string | undefined {
  const value = (v as { value?: unknown } | null | undefined)?.value;
  return typeof value === "string" ? value : undefined;
}

function parse(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new SchedulerError("internal", `${what}: the agent's answer is not JSON (${(err as Error).message})`);
  }
}

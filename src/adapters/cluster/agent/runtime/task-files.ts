/**
 * The agent runtime's TaskFiles: what a Mesos agent's `/files/read` serves, from
 * `<root>/sandboxes/<task id>/` (adapted from the local cluster's). The runtime resolves every
 * path itself: a task ID must be one it knows (a live task, or a sandbox it launched: one with
 * its task.json), made of task-ID characters only, and its sandbox a real directory right under `sandboxes/`; stdout
 * and stderr are opened without following a symlink and read only when they are regular files,
 * so a task that swaps its stdout for a link to /etc/shadow (or a FIFO) gets nothing served.
 */
import { constants } from "node:fs";
import type { Stats } from "node:fs";
import { lstat, open, realpath } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { SchedulerError } from "../../../../domain/errors.js";
import type { FileChunk, TaskFileName, TaskFiles, TaskSandbox } from "../../../../engine/ports.js";
import { SANDBOX_FILES, sandboxDir } from "./sandbox.js";

export interface SandboxFilesOptions {
  /** The runtime's root, absolute. */
  readonly root: string;
  /** The runtime's live tasks: task ID → the task's pid when known. */
  readonly live: () => ReadonlyMap<string, number | undefined>;
}

/** Task IDs are made of these (`<service>__<pod>-<i>-<task>__<uuid>`); anything else is not one. */
const TASK_ID = /^[A-Za-z0-9._-]{1,512}$/;

const FILES: readonly TaskFileName[] = ["stdout", "stderr"];

/** Where a known task's sandbox is, and whether it exists. */
interface Located {
  readonly path: string;
  readonly exists: boolean;
  readonly live: boolean;
  readonly pid: number | undefined;
}

export class SandboxFiles implements TaskFiles {
  constructor(private readonly o: SandboxFilesOptions) {}

  async sandboxOf(taskId: string, _agentId: string): Promise<TaskSandbox | undefined> {
    const at = await this.locate(taskId);
    if (!at) return undefined;
    return { path: at.path, ended: !at.live, ...(at.pid === undefined ? {} : { pid: at.pid }) };
  }

  async readFile(taskId: string, _agentId: string, file: TaskFileName, offset: number, length: number): Promise<FileChunk | undefined> {
    if (!FILES.includes(file) || !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new SchedulerError("invalid_argument", "readFile: a task file is stdout or stderr, offset and length whole numbers ≥ 0");
    }
    const at = await this.locate(taskId);
    if (!at) return undefined;
    const empty = { data: new Uint8Array(0), offset, size: 0 };
    // A live task that has not started yet: nothing written so far.
    if (!at.exists) return empty;
    let handle: FileHandle;
    try {
      handle = await open(join(at.path, file), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return (await this.locate(taskId))?.exists === true ? empty : undefined;
      if (code === "ELOOP") throw notRegular(taskId, file, "a symbolic link");
      throw err;
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw notRegular(taskId, file, describe(stat));
      // A task running as another user could replace its stdout by a hard link to a file only
      // the scheduler may read (where fs.protected_hardlinks is off): serve only a file with no
      // other name.
      if (stat.nlink !== 1) {
        throw new SchedulerError("failed_precondition", `the ${file} of task '${taskId}' has ${stat.nlink} hard links; it is not served`);
      }
      return await readAt(handle, offset, Math.max(0, Math.min(length, stat.size - offset)), stat.size);
    } finally {
      await handle.close();
    }
  }

  /** A task ID this runtime knows, and its sandbox; undefined for anything else. */
  private async locate(taskId: string): Promise<Located | undefined> {
    if (!TASK_ID.test(taskId) || /^\.+$/.test(taskId)) return undefined;
    const live = this.o.live();
    const path = sandboxDir(this.o.root, taskId);
    const exists = await this.isSandbox(taskId, path);
    if (live.has(taskId)) return { path, exists, live: true, pid: live.get(taskId) };
    if (!exists) return undefined;
    // Not live: known only when this runtime launched it there.
    const launch = await lstat(join(path, SANDBOX_FILES.record)).catch(() => undefined);
    return launch?.isFile() === true ? { path, exists, live: false, pid: undefined } : undefined;
  }

  /** Whether `path` is a real directory right inside the sandboxes directory (no symlink anywhere on the way). */
  private async isSandbox(taskId: string, path: string): Promise<boolean> {
    const stat = await lstat(path).catch(() => undefined);
    if (!stat?.isDirectory()) return false;
    const [real, parent] = await Promise.all([realpath(path).catch(() => ""), realpath(join(this.o.root, "sandboxes")).catch(() => undefined)]);
    return parent !== undefined && real === join(parent, taskId);
  }
}

function notRegular(taskId: string, file: TaskFileName, what: string): SchedulerError {
  return new SchedulerError("failed_precondition", `the ${file} of task '${taskId}' is ${what}, not a regular file; it is not served`);
}

function describe(stat: Stats): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isDirectory()) return "a directory";
  if (stat.isSocket()) return "a socket";
  return "a device";
}

/** `length` bytes from `offset` (fewer when the file ends first). */
async function readAt(handle: FileHandle, offset: number, length: number, size: number): Promise<FileChunk> {
  const data = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(data, got, length - got, offset + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return { data: got === length ? data : data.subarray(0, got), offset, size };
}

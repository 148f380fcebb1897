/**
 * TaskLog's stream: a task's stdout or stderr through the cluster's TaskFiles, from an offset or
 * the last N lines, then (follow) what is appended, polled on the Clock.
 *
 * Bounded: the generator holds one chunk (≤ TASK_LOG_CHUNK_BYTES) at a time and reads the next
 * only when its consumer asks (the gRPC edge asks after the previous message was taken, waiting
 * for 'drain'), so a slow reader leaves the bytes in the file. Finding the last N lines reads the
 * file backwards one chunk at a time.
 */
import type { TaskInfo } from "../domain/cluster.js";
import { SchedulerError } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import type { TaskLogChunk, TaskLogInput } from "./admin-api.js";
import type { Clock, FileChunk, TaskFileName, TaskFiles } from "./ports.js";
import { loadServiceTasks, resolveTask, validateTaskRef } from "./task-views.js";
import type { TaskReadDeps } from "./task-views.js";

/** Largest chunk read and sent: 64 KiB (the proto's bound on TaskLogResponse.data). */
export const TASK_LOG_CHUNK_BYTES = 64 * 1024;

/** How often a follow stream looks for appended bytes. */
export const TASK_LOG_POLL_MS = 250;

export interface TaskLogStreamOptions {
  readonly files: TaskFiles;
  readonly clock: Clock;
  readonly task: TaskInfo;
  readonly file: TaskFileName;
  /** Where to start; clamped to the file's size. */
  readonly offset: bigint;
  /** > 0: start at the last N lines instead. */
  readonly tailLines: number;
  readonly follow: boolean;
  readonly signal: AbortSignal;
  /** @default TASK_LOG_POLL_MS */
  readonly pollMs?: number;
  /** @default TASK_LOG_CHUNK_BYTES */
  readonly chunkBytes?: number;
}

const NEWLINE = 0x0a;

/**
 * TaskLog: the request checked at once (INVALID_ARGUMENT naming `name` and `task`), then, when
 * the stream is read, the task resolved through the service's records (NOT_FOUND for an unknown
 * service or task) and its file streamed (FAILED_PRECONDITION when the cluster serves no files).
 */
export function openTaskLog(deps: TaskReadDeps & { readonly clock: Clock }, input: TaskLogInput, signal: AbortSignal): AsyncIterable<TaskLogChunk> {
  const violations = [...validateServiceName(input.name), ...validateTaskRef(input.task)];
  if (violations.length > 0) throw SchedulerError.invalid(violations);
  return (async function* () {
    const task = resolveTask(input.name, await loadServiceTasks(deps, input.name), input.task);
    if (!deps.files) throw new SchedulerError("failed_precondition", "the cluster does not serve task files");
    yield* streamTaskLog({
      files: deps.files,
      clock: deps.clock,
      task,
      file: input.file === "STDERR" ? "stderr" : "stdout",
      offset: input.offset,
      tailLines: input.tailLines,
      follow: input.follow,
      signal,
    });
  })();
}

/**
 * The stream. The first chunk always comes (possibly empty, so the caller learns the task ID
 * and the start offset); then every non-empty chunk up to the end of the file. With `follow` it
 * goes on until the task has ended and everything it wrote was sent, its sandbox is gone, or
 * `signal` aborts — each an end without error.
 * @throws SchedulerError not_found when the task's sandbox is gone before anything was read.
 */
export async function* streamTaskLog(o: TaskLogStreamOptions): AsyncGenerator<TaskLogChunk, void, undefined> {
  const { taskId, agentId } = o.task;
  const chunkBytes = o.chunkBytes ?? TASK_LOG_CHUNK_BYTES;
  const read = (offset: number, length: number): Promise<FileChunk | undefined> =>
    o.files.readFile(taskId, agentId, o.file, offset, length);
  const head = await read(0, 0);
  if (!head) throw new SchedulerError("not_found", `task '${taskId}' has no sandbox any more`);
  let pos = o.tailLines > 0 ? await tailStart(read, head.size, o.tailLines, chunkBytes, o.signal) : clampOffset(o.offset, head.size);
  if (pos === undefined) return;
  let first = true;
  let ended = false;
  while (!o.signal.aborted) {
    const chunk = await read(pos, chunkBytes);
    if (!chunk) return; // the sandbox went away
    if (chunk.size < pos && chunk.data.length === 0) {
      pos = chunk.size; // truncated: go on from its new end
      continue;
    }
    if (chunk.data.length > 0 || first) {
      first = false;
      yield { taskId, offset: pos, data: chunk.data };
      pos += chunk.data.length;
      if (chunk.data.length > 0) continue;
    }
    // At the end of the file.
    if (!o.follow || ended) return;
    const sandbox = await o.files.sandboxOf(taskId, agentId);
    if (!sandbox) return;
    // Ended: one more read takes what it wrote since the last one, then the stream ends.
    if (sandbox.ended) ended = true;
    else await pause(o.clock, o.pollMs ?? TASK_LOG_POLL_MS, o.signal);
  }
}

/** A request offset (uint64) as a file position: at most the file's size. */
function clampOffset(offset: bigint, size: number): number {
  return offset >= BigInt(size) ? size : Number(offset);
}

/**
 * The offset of the first byte of the last `lines` lines of a file of `size` bytes (like
 * `tail -n`: a newline at the very end closes the last line, it does not start an empty one).
 * Reads backwards one chunk at a time; undefined when the sandbox went away or `signal` aborted.
 */
export async function tailStart(
  read: (offset: number, length: number) => Promise<FileChunk | undefined>,
  size: number,
  lines: number,
  chunkBytes: number,
  signal: AbortSignal,
): Promise<number | undefined> {
  let count = 0;
  for (let end = size; end > 0; ) {
    if (signal.aborted) return undefined;
    const from = Math.max(0, end - chunkBytes);
    const chunk = await read(from, end - from);
    if (!chunk) return undefined;
    const data = chunk.data;
    for (let i = data.lastIndexOf(NEWLINE); i >= 0; i = i > 0 ? data.lastIndexOf(NEWLINE, i - 1) : -1) {
      const at = from + i;
      if (at === size - 1) continue;
      if (++count === lines) return at + 1;
    }
    end = from;
  }
  return 0;
}

/** Resolves after `ms` on the clock, or at once when `signal` aborts. */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = (): void => {
      cancel();
      resolve();
    };
    const cancel = clock.setTimer(ms, () => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

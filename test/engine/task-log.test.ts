/**
 * ListTasks and TaskLog in the engine, on the simulated cluster with a fake clock: views from
 * the task records, errors by field, name → latest task ID, and the log stream (chunks, tail,
 * offsets, follow until the task ends or its sandbox goes, cancellation) over in-memory files.
 */
import { describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { SchedulerError } from "../../src/domain/errors.js";
import type { TaskLogChunk, TaskLogInput } from "../../src/engine/admin-api.js";
import { TASK_LOG_CHUNK_BYTES, TASK_LOG_POLL_MS } from "../../src/engine/task-log.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";
import { MemoryTaskFiles, withTaskFiles } from "./memory-task-files.js";

async function withFiles(): Promise<{ h: Harness; files: MemoryTaskFiles }> {
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({ agents: 3, clock, random: new SeededRandom(99) });
  const files = new MemoryTaskFiles();
  const h = await createHarness({ clock, cluster, deps: { driver: withTaskFiles(cluster, files) } });
  return { h, files };
}

async function deployed(h: Harness, name: string, example = "simple.yml"): Promise<void> {
  await h.put(name, example);
  await h.deployAll([name]);
}

function liveId(h: Harness): string {
  const [t] = h.cluster.tasks();
  if (!t) throw new Error("no live task");
  return t.taskId;
}

const input = (over: Partial<TaskLogInput> = {}): TaskLogInput => ({
  name: "simple",
  task: "hello-0-server",
  file: "STDOUT",
  offset: 0n,
  tailLines: 0,
  follow: false,
  ...over,
});

async function collect(stream: AsyncIterable<TaskLogChunk>): Promise<TaskLogChunk[]> {
  const out: TaskLogChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

const text = (chunks: readonly TaskLogChunk[]): string => chunks.map((c) => new TextDecoder().decode(c.data)).join("");

/** The error a call (or the first read of its stream) fails with. */
async function failure(run: () => AsyncIterable<unknown> | Promise<unknown>): Promise<SchedulerError> {
  try {
    const r = run();
    if (r instanceof Promise) await r;
    else for await (const _ of r) void _;
  } catch (err) {
    if (err instanceof SchedulerError) return err;
    throw err;
  }
  throw new Error("no error");
}

describe("ListTasks", () => {
  it("shows each task from its record: id, pod instance, Mesos state, agent, last message and time; pid 0 and no sandbox on the simulated cluster", async () => {
    const h = await createHarness();
    await deployed(h, "simple");
    const [t] = h.cluster.tasks();
    const tasks = await h.scheduler.listTasks("simple");
    expect(tasks).toEqual([
      {
        id: t!.taskId,
        name: "hello-0-server",
        podType: "hello",
        podIndex: 0,
        state: "TASK_RUNNING",
        pid: 0,
        agentId: t!.agentId,
        sandbox: "",
        message: expect.any(String),
        updatedMs: expect.any(Number),
      },
    ]);
  });

  it("sorts by task name and shows the last status message of a failed task", async () => {
    const h = await createHarness();
    await deployed(h, "hw", "hello-world.yml");
    expect((await h.scheduler.listTasks("hw")).map((t) => [t.name, t.podType, t.podIndex])).toEqual([
      ["hello-0-server", "hello", 0],
      ["world-0-server", "world", 0],
      ["world-1-server", "world", 1],
    ]);
    // Failed twice in a row: the relaunch waits (back-off), so the record is the failed launch.
    const world1 = (): string => h.cluster.tasks().find((t) => t.name === "world-1-server")!.taskId;
    h.cluster.failTask(world1());
    await h.advance(100);
    const second = world1();
    h.cluster.failTask(second, "TASK_FAILED", "command exited with status 3");
    await h.advance(100);
    const failed = (await h.scheduler.listTasks("hw")).find((t) => t.name === "world-1-server");
    expect(failed).toMatchObject({ id: second, state: "TASK_FAILED", message: "command exited with status 3", updatedMs: h.clock.now() - 100 });
  });

  it("takes pid and sandbox from the cluster's task files when it serves them", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    files.write(liveId(h), "stdout", "");
    const [t] = await h.scheduler.listTasks("simple");
    expect(t).toMatchObject({ pid: 1000, sandbox: `/sandboxes/${liveId(h)}` });
  });

  it.each([
    ["an empty name", "", "name: must not be empty"],
    ["a traversal", "../../etc", "name: "],
    ["NUL", "a\0b", "name: "],
    ["1 MiB", "a".repeat(1 << 20), "name: must be at most 63 characters"],
  ])("refuses %s with INVALID_ARGUMENT naming the field", async (_, name, message) => {
    const h = await createHarness();
    const err = await failure(() => h.scheduler.listTasks(name));
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toContain(message);
    expect(err.violations[0]?.field).toBe("name");
    expect(err.message.length).toBeLessThan(1000);
  });

  it("answers NOT_FOUND for an unknown service, and lists a service being removed until it is gone", async () => {
    const h = await createHarness();
    expect((await failure(() => h.scheduler.listTasks("nope"))).code).toBe("not_found");
    await deployed(h, "simple");
    await h.scheduler.uninstallService("simple");
    expect((await h.scheduler.listTasks("simple")).map((t) => t.name)).toEqual(["hello-0-server"]);
    await h.advance(30_000);
    expect((await failure(() => h.scheduler.listTasks("simple"))).code).toBe("not_found");
  });
});

describe("TaskLog: which task", () => {
  it.each([
    ["empty", "", "task: must not be empty"],
    ["a relative traversal", "../../etc/passwd", "task: must be a task name or task ID"],
    ["an absolute path", "/etc/passwd", "task: must be a task name or task ID"],
    ["dots", "..", "task: must be a task name or task ID, not only dots"],
    ["NUL", "hello-0-server\0", "task: must be a task name or task ID"],
    ["a newline", "hello-0-server\n", "task: must be a task name or task ID"],
    ["1 MiB", "a".repeat(1 << 20), "task: must be at most 512 characters (got 1048576)"],
  ])("refuses a task that is %s with INVALID_ARGUMENT, before asking the cluster anything", async (_, task, message) => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    const err = await failure(() => h.scheduler.taskLog(input({ task }), new AbortController().signal));
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toContain(message);
    expect(err.violations.map((v) => v.field)).toEqual(["task"]);
    expect(files.asked).toEqual([]);
  });

  it("names both fields when name and task are bad", async () => {
    const h = await createHarness();
    const err = await failure(() => h.scheduler.taskLog(input({ name: "A/../b", task: "../x" }), new AbortController().signal));
    expect(err.code).toBe("invalid_argument");
    expect([...new Set(err.violations.map((v) => v.field))]).toEqual(["name", "task"]);
  });

  it("answers NOT_FOUND for an unknown service or a task the service has not, and asks the cluster only about its own task IDs", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    expect((await failure(() => h.scheduler.taskLog(input({ name: "other" }), new AbortController().signal))).code).toBe("not_found");
    const err = await failure(() => h.scheduler.taskLog(input({ task: "world-0-server" }), new AbortController().signal));
    expect(err.code).toBe("not_found");
    expect(err.message).toBe("service 'simple' has no task 'world-0-server' (its tasks: hello-0-server)");
    // A task ID of another service is not this service's.
    await deployed(h, "other");
    const otherId = (await h.scheduler.listTasks("other"))[0]!.id;
    expect((await failure(() => h.scheduler.taskLog(input({ task: otherId }), new AbortController().signal))).code).toBe("not_found");
    expect(files.asked.every((id) => id === otherId || h.cluster.tasks().some((t) => t.taskId === id))).toBe(true);
  });

  it("answers FAILED_PRECONDITION on a cluster that serves no task files", async () => {
    const h = await createHarness();
    await deployed(h, "simple");
    const err = await failure(() => h.scheduler.taskLog(input(), new AbortController().signal));
    expect(err).toMatchObject({ code: "failed_precondition", message: "the cluster does not serve task files" });
  });

  it("resolves a task name to its latest task ID after a recovery; the old ID is no longer the service's", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    const first = liveId(h);
    files.write(first, "stdout", "first\n");
    h.cluster.failTask(first);
    await h.advance(100);
    const second = liveId(h);
    expect(second).not.toBe(first);
    files.write(second, "stdout", "second\n");
    const chunks = await collect(h.scheduler.taskLog(input(), new AbortController().signal));
    expect(chunks.map((c) => c.taskId)).toEqual([second]);
    expect(text(chunks)).toBe("second\n");
    expect(text(await collect(h.scheduler.taskLog(input({ task: second }), new AbortController().signal)))).toBe("second\n");
    expect((await failure(() => h.scheduler.taskLog(input({ task: first }), new AbortController().signal))).code).toBe("not_found");
  });

  it("answers NOT_FOUND when the task's sandbox is gone", async () => {
    const { h } = await withFiles();
    await deployed(h, "simple");
    const err = await failure(() => h.scheduler.taskLog(input(), new AbortController().signal));
    expect(err.code).toBe("not_found");
    expect(err.message).toMatch(/has no sandbox/);
  });
});

describe("TaskLog: what it sends", () => {
  it("sends the whole file in chunks of at most 64 KiB, each with its offset, reading no more than a chunk at a time", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    const body = new Uint8Array(150 * 1024).map((_, i) => 97 + (i % 26));
    files.write(liveId(h), "stdout", body);
    files.write(liveId(h), "stderr", "oops\n");
    const chunks = await collect(h.scheduler.taskLog(input(), new AbortController().signal));
    expect(chunks.map((c) => [c.offset, c.data.length])).toEqual([
      [0, 65536],
      [65536, 65536],
      [131072, 22528],
    ]);
    expect(Buffer.concat(chunks.map((c) => c.data)).equals(Buffer.from(body))).toBe(true);
    expect(files.maxLength).toBeLessThanOrEqual(TASK_LOG_CHUNK_BYTES);
    expect(text(await collect(h.scheduler.taskLog(input({ file: "STDERR" }), new AbortController().signal)))).toBe("oops\n");
  });

  it("sends one empty chunk naming the task for an empty file", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    files.write(liveId(h), "stdout", "");
    expect(await collect(h.scheduler.taskLog(input(), new AbortController().signal))).toEqual([{ taskId: liveId(h), offset: 0, data: new Uint8Array() }]);
  });

  it.each([
    [0n, "abcdef", 0],
    [2n, "cdef", 2],
    [6n, "", 6],
    [7n, "", 6],
    [(1n << 63n) - 1n, "", 6],
    [(1n << 64n) - 1n, "", 6],
  ])("starts at offset %s (clamped to the end of the file)", async (offset, want, at) => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    files.write(liveId(h), "stdout", "abcdef");
    const chunks = await collect(h.scheduler.taskLog(input({ offset }), new AbortController().signal));
    expect(text(chunks)).toBe(want);
    expect(chunks[0]!.offset).toBe(at);
  });

  it.each([
    ["a\nb\nc\n", 1, "c\n"],
    ["a\nb\nc\n", 2, "b\nc\n"],
    ["a\nb\nc\n", 3, "a\nb\nc\n"],
    ["a\nb\nc\n", 4_294_967_295, "a\nb\nc\n"],
    ["a\nb\nc", 1, "c"],
    ["a\nb\nc", 2, "b\nc"],
    ["\n\n\n", 2, "\n\n"],
    ["no newline", 1, "no newline"],
    ["", 5, ""],
  ])("tail of %j, %i lines → %j (offset ignored)", async (file, tailLines, want) => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    files.write(liveId(h), "stdout", file);
    expect(text(await collect(h.scheduler.taskLog(input({ tailLines, offset: 1n }), new AbortController().signal)))).toBe(want);
  });

  it("finds the last lines of a file larger than a chunk by reading backwards, a chunk at a time", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join("");
    files.write(liveId(h), "stdout", lines);
    const chunks = await collect(h.scheduler.taskLog(input({ tailLines: 12_000 }), new AbortController().signal));
    expect(text(chunks)).toBe(Array.from({ length: 12_000 }, (_, i) => `line ${i + 8000}\n`).join(""));
    expect(files.maxLength).toBeLessThanOrEqual(TASK_LOG_CHUNK_BYTES);
  });
});

describe("TaskLog: follow", () => {
  it("sends what is appended after each poll, and ends once the task has ended and all it wrote was sent", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    const id = liveId(h);
    files.write(id, "stdout", "one\n");
    const it = h.scheduler.taskLog(input({ follow: true }), new AbortController().signal)[Symbol.asyncIterator]();
    expect(text([(await it.next()).value as TaskLogChunk])).toBe("one\n");
    const next = it.next();
    files.write(id, "stdout", "two\n");
    await h.advance(TASK_LOG_POLL_MS);
    expect((await next).value).toMatchObject({ offset: 4, data: new TextEncoder().encode("two\n") });
    const third = it.next();
    files.write(id, "stdout", "three\n");
    files.end(id);
    await h.advance(TASK_LOG_POLL_MS);
    expect(text([(await third).value as TaskLogChunk])).toBe("three\n");
    expect((await it.next()).done).toBe(true);
  });

  it("ends cleanly when the task's sandbox is removed", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    files.write(liveId(h), "stdout", "x");
    const it = h.scheduler.taskLog(input({ follow: true }), new AbortController().signal)[Symbol.asyncIterator]();
    await it.next();
    const next = it.next();
    await h.advance(TASK_LOG_POLL_MS * 4);
    files.remove(liveId(h));
    await h.advance(TASK_LOG_POLL_MS);
    expect((await next).done).toBe(true);
  });

  it("ends when the call is cancelled, without waiting for the next poll", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    files.write(liveId(h), "stdout", "x");
    const abort = new AbortController();
    const it = h.scheduler.taskLog(input({ follow: true }), abort.signal)[Symbol.asyncIterator]();
    await it.next();
    const next = it.next();
    await h.settle();
    abort.abort();
    expect((await next).done).toBe(true);
    expect(h.clock.nextDueMs() === undefined || h.clock.nextDueMs()! > h.clock.now() + TASK_LOG_POLL_MS).toBe(true);
  });

  it("with tail_lines, follows from the last lines", async () => {
    const { h, files } = await withFiles();
    await deployed(h, "simple");
    const id = liveId(h);
    files.write(id, "stdout", "a\nb\nc\n");
    const it = h.scheduler.taskLog(input({ follow: true, tailLines: 1 }), new AbortController().signal)[Symbol.asyncIterator]();
    expect(text([(await it.next()).value as TaskLogChunk])).toBe("c\n");
    const next = it.next();
    files.write(id, "stdout", "d\n");
    await h.advance(TASK_LOG_POLL_MS);
    expect(text([(await next).value as TaskLogChunk])).toBe("d\n");
    files.end(id);
    const last = it.next();
    await h.advance(TASK_LOG_POLL_MS);
    expect((await last).done).toBe(true);
  });
});

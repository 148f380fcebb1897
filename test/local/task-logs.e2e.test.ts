/**
 * ListTasks and TaskLog on the local agent (its /files API through the Mesos driver), with real processes: real pids and sandboxes,
 * what a task's cmd wrote, the last N lines, a follow stream that gets appended output and ends
 * when the service is uninstalled, traversal and symlink/FIFO attempts refused, and a task name
 * that resolves to the new sandbox after a recovery.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SchedulerError } from "../../src/domain/errors.js";
import type { TaskLogChunk, TaskLogInput } from "../../src/engine/admin-api.js";
import { example } from "../harness/harness.js";
import { isAlive, killEverything, startLocal, tempDataDir, waitFor } from "./local-harness.js";
import type { LocalRun } from "./local-harness.js";

const runs: LocalRun[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

async function start(): Promise<LocalRun> {
  const dir = tempDataDir();
  dirs.push(dir);
  const run = await startLocal(dir);
  runs.push(run);
  return run;
}

function spec(cmd: string): string {
  return `name: {{SERVICE_NAME}}\npods:\n  app:\n    count: 1\n    tasks:\n      main:\n        goal: RUNNING\n        cmd: ${JSON.stringify(cmd)}\n        cpus: 0.1\n        memory: 32\n`;
}

async function put(run: LocalRun, name: string, text: string): Promise<void> {
  await run.scheduler.putService({ name, spec: text, parameters: {} });
  await waitFor(`${name} deployed`, () => run.scheduler.getPlan(name, "deploy").status === "COMPLETE");
}

const input = (name: string, task: string, over: Partial<TaskLogInput> = {}): TaskLogInput => ({
  name,
  task,
  file: "STDOUT",
  offset: 0n,
  tailLines: 0,
  follow: false,
  ...over,
});

interface Read {
  readonly text: string;
  readonly chunks: TaskLogChunk[];
}

async function read(run: LocalRun, req: TaskLogInput): Promise<Read> {
  const chunks: TaskLogChunk[] = [];
  for await (const c of run.scheduler.taskLog(req, new AbortController().signal)) chunks.push(c);
  return { text: Buffer.concat(chunks.map((c) => c.data)).toString(), chunks };
}

/** Reads the log again until `done` says it is complete (the task may not have written it all yet). */
async function readUntil(run: LocalRun, req: TaskLogInput, done: (text: string) => boolean, timeoutMs = 20_000): Promise<Read> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await read(run, req);
    if (done(r.text)) return r;
    if (Date.now() > deadline) throw new Error(`the log never got there: ${JSON.stringify(r.text.slice(-200))}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function errorOf(p: () => Promise<unknown>): Promise<SchedulerError> {
  try {
    await p();
  } catch (err) {
    if (err instanceof SchedulerError) return err;
    throw err;
  }
  throw new Error("no error");
}

describe("task visibility and logs on the local agent", () => {
  it("ListTasks shows the running task with its real pid and sandbox; TaskLog of examples/simple.yml's task prints what its cmd wrote", async () => {
    const run = await start();
    await put(run, "hello", example("simple.yml"));
    const live = await waitFor("a pid", () => run.cluster.tasks().find((t) => t.pid !== undefined));
    const tasks = await run.scheduler.listTasks("hello");
    expect(tasks).toEqual([
      expect.objectContaining({ id: live.taskId, name: "hello-0-server", podType: "hello", podIndex: 0, state: "TASK_RUNNING", pid: live.pid, agentId: live.agentId }),
    ]);
    expect(isAlive(tasks[0]!.pid)).toBe(true);
    expect(realpathSync(tasks[0]!.sandbox)).toBe(realpathSync(live.sandbox));
    const { text, chunks } = await readUntil(run, input("hello", "hello-0-server"), (t) => t === "hello\n");
    expect(text).toBe("hello\n");
    expect(chunks[0]).toMatchObject({ taskId: live.taskId, offset: 0 });
    expect((await read(run, input("hello", live.taskId, { file: "STDERR" }))).text).toBe("");
  });

  it("tail_lines starts at the last N lines; offset starts mid-file", async () => {
    const run = await start();
    await put(run, "lines", spec("seq 1 100000; echo done; exec sleep 1000"));
    await readUntil(run, input("lines", "app-0-main", { tailLines: 1 }), (t) => t === "done\n");
    expect((await read(run, input("lines", "app-0-main", { tailLines: 3 }))).text).toBe("99999\n100000\ndone\n");
    const all = await read(run, input("lines", "app-0-main"));
    expect(all.chunks.length).toBeGreaterThan(1);
    expect(all.chunks.every((c) => c.data.length <= 64 * 1024)).toBe(true);
    expect(all.text.split("\n").length).toBe(100_002);
    const size = Buffer.byteLength(all.text);
    expect((await read(run, input("lines", "app-0-main", { offset: BigInt(size - 5) }))).text).toBe("done\n");
  });

  it("follow receives appended output and ends cleanly when the service is uninstalled", async () => {
    const run = await start();
    await put(run, "ticker", spec("i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"));
    const abort = new AbortController();
    const got: string[] = [];
    let ended = false;
    const following = (async () => {
      for await (const c of run.scheduler.taskLog(input("ticker", "app-0-main", { follow: true }), abort.signal)) got.push(Buffer.from(c.data).toString());
      ended = true;
    })();
    await waitFor("tick 5 followed", () => got.join("").includes("tick 5\n"));
    await run.scheduler.uninstallService("ticker");
    await following; // no error
    expect(ended).toBe(true);
    expect(got.join("")).toMatch(/^tick 0\ntick 1\n(tick \d+\n)+$/);
    expect(abort.signal.aborted).toBe(false);
  });

  it("refuses traversal: bad task names, task IDs it does not know, symlinked and FIFO output files", async () => {
    const run = await start();
    await put(run, "sly", spec("echo visible; rm -f stdout stderr; ln -s /etc/hostname stdout; mkfifo stderr; exec sleep 1000"));
    const id = (await run.scheduler.listTasks("sly"))[0]!.id;
    for (const task of ["../../etc/passwd", "/etc/passwd", "..", "app-0-main/../../cluster.json", "a\0b"]) {
      expect((await errorOf(() => read(run, input("sly", task)))).code).toBe("invalid_argument");
    }
    expect((await errorOf(() => read(run, input("sly", "sandboxes")))).code).toBe("not_found");
    // The cluster itself serves only task IDs it knows, and only regular files inside their sandbox.
    const files = run.cluster.driver.taskFiles!;
    const agent = run.cluster.agentIds()[0]!;
    for (const bad of ["..", ".", "../local", "../../etc", "/etc", "", "x".repeat(600), "sly__app-0-main__nope"]) {
      expect(await files.sandboxOf(bad, agent)).toBeUndefined();
      expect(await files.readFile(bad, agent, "stdout", 0, 100)).toBeUndefined();
    }
    // A sandbox directory that is a symlink (made by someone who can write there) is not one.
    const sandboxes = dirname(run.cluster.tasks()[0]!.sandbox);
    await mkdir(join(run.dataDir, "outside"));
    await writeFile(join(run.dataDir, "outside", "launch.json"), "{}");
    await writeFile(join(run.dataDir, "outside", "stdout"), "secret\n");
    await symlink(join(run.dataDir, "outside"), join(sandboxes, "evil__app-0-main__1"));
    expect(await files.readFile("evil__app-0-main__1", agent, "stdout", 0, 100)).toBeUndefined();
    // The task swapped its stdout for a symlink and its stderr for a FIFO: neither is followed or opened for reading.
    await waitFor("the swap", () => existsSync(join(sandboxes, id, "stderr")) && true);
    const link = await errorOf(() => readUntil(run, input("sly", "app-0-main"), () => false, 5000));
    expect(link).toMatchObject({ code: "failed_precondition", message: expect.stringMatching(/stdout .* is a symbolic link/) });
    const fifo = await errorOf(() => read(run, input("sly", "app-0-main", { file: "STDERR" })));
    expect(fifo).toMatchObject({ code: "failed_precondition", message: expect.stringMatching(/stderr .* is a FIFO/) });
  });

  it("refuses a stdout that is a hard link to a file outside the sandbox", async () => {
    const run = await start();
    await writeFile(join(run.dataDir, "secret"), "secret\n");
    await put(run, "linker", spec(`rm -f stdout; ln ${join(run.dataDir, "secret")} stdout; exec sleep 1000`));
    const stdout = join(run.cluster.tasks()[0]!.sandbox, "stdout");
    await waitFor("the hard link", () => existsSync(stdout) && statSync(stdout).nlink === 2);
    const err = await errorOf(() => read(run, input("linker", "app-0-main")));
    expect(err).toMatchObject({ code: "failed_precondition", message: expect.stringMatching(/stdout .* has 2 hard links/) });
  });

  it("after a recovery (the process killed) the task name resolves to the new sandbox", async () => {
    const run = await start();
    await put(run, "phoenix", spec('echo "run in $MESOS_TASK_ID"; exec sleep 1000'));
    const first = await waitFor("a pid", () => run.cluster.tasks().find((t) => t.pid !== undefined));
    await readUntil(run, input("phoenix", "app-0-main"), (t) => t === `run in ${first.taskId}\n`);
    process.kill(first.pid!, "SIGKILL");
    const second = await waitFor("the relaunch", () => run.cluster.tasks().find((t) => t.pid !== undefined && t.taskId !== first.taskId));
    const { chunks } = await readUntil(run, input("phoenix", "app-0-main"), (t) => t === `run in ${second.taskId}\n`);
    expect(chunks[0]!.taskId).toBe(second.taskId);
    const [view] = await run.scheduler.listTasks("phoenix");
    expect(view).toMatchObject({ id: second.taskId, pid: second.pid });
    expect(view!.sandbox).toBe(second.sandbox);
    expect((await errorOf(() => read(run, input("phoenix", first.taskId)))).code).toBe("not_found");
  });
});

/**
 * The local agent under the real scheduler, through the Mesos driver: tasks are real processes
 * with real sandboxes and volumes, they survive a scheduler restart, and a restarted scheduler
 * learns what happened to them while it was away.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { sandboxIds, sandboxOf, settled, volumeDirs } from "./agent-world.js";
import { isAlive, killEverything, startLocal, tempDataDir, waitFor } from "./local-harness.js";
import { FINISH_SPEC } from "./specs.js";
import type { LocalRun } from "./local-harness.js";

const SPEC = `
name: {{SERVICE_NAME}}
pods:
  hello:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: echo "$TASK_NAME $POD_INSTANCE_INDEX $FRAMEWORK_NAME $GREETING" >> data/output && exec sleep 1000
        cpus: 0.1
        memory: 32
        env:
          GREETING: hi
        volume:
          path: data
          type: ROOT
          size: 10
        readiness-check:
          cmd: test -s data/output
          interval: 1
          delay: 0
          timeout: 5
`;



const runs: LocalRun[] = [];
const dirs: string[] = [];

async function start(dataDir: string): Promise<LocalRun> {
  const run = await startLocal(dataDir);
  runs.push(run);
  return run;
}

afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

function newDir(): string {
  const dir = tempDataDir();
  dirs.push(dir);
  return dir;
}

function deployed(run: LocalRun, name: string): boolean {
  return run.scheduler.getPlan(name, "deploy").status === "COMPLETE";
}

function onlyTask(run: LocalRun): { taskId: string; pid: number; sandbox: string } {
  const tasks = run.cluster.tasks();
  expect(tasks).toHaveLength(1);
  const [t] = tasks;
  return { taskId: t!.taskId, pid: t!.pid!, sandbox: t!.sandbox };
}

/** Deploys SPEC as "hello" on a scheduler of its own, stops that scheduler, and returns the task it left running. */
async function deployAndStop(dir: string): Promise<{ taskId: string; pid: number; sandbox: string }> {
  const first = await start(dir);
  await first.scheduler.putService({ name: "hello", spec: SPEC, parameters: {} });
  await waitFor("deploy COMPLETE", () => deployed(first, "hello"));
  const task = await waitFor("a pid", () => first.cluster.tasks()[0]?.pid !== undefined && onlyTask(first));
  await first.stop();
  runs.splice(runs.indexOf(first), 1);
  return task;
}

describe("local agent", () => {
  it("runs a service's task as a real process with its environment, volume and captured output", async () => {
    const run = await start(newDir());
    await run.scheduler.putService({ name: "hello", spec: SPEC, parameters: {} });
    await waitFor("deploy COMPLETE", () => deployed(run, "hello"));
    const task = await waitFor("a pid", () => run.cluster.tasks()[0]?.pid !== undefined && onlyTask(run));
    expect(isAlive(task.pid)).toBe(true);
    expect(readFileSync(join(task.sandbox, "data", "output"), "utf8")).toBe("hello-0-server 0 hello hi\n");
    expect(existsSync(join(task.sandbox, "stdout"))).toBe(true);
    // The volume lives outside the sandbox, so it outlives the task.
    expect(volumeDirs(run.dataDir)).toHaveLength(1);
  });

  it("works from a relative data directory (the default ./.corral): volumes resolve, tasks run", async () => {
    const run = await start(relative(process.cwd(), newDir()));
    await run.scheduler.putService({ name: "hello", spec: SPEC, parameters: {} });
    await waitFor("deploy COMPLETE", () => deployed(run, "hello"));
    const task = await waitFor("a pid", () => run.cluster.tasks()[0]?.pid !== undefined && onlyTask(run));
    expect(isAbsolute(task.sandbox)).toBe(true);
    expect(readFileSync(join(task.sandbox, "data", "output"), "utf8")).toBe("hello-0-server 0 hello hi\n");
  });

  it("relaunches a task whose process was killed on the same volume", async () => {
    const run = await start(newDir());
    await run.scheduler.putService({ name: "hello", spec: SPEC, parameters: {} });
    await waitFor("deploy COMPLETE", () => deployed(run, "hello"));
    const first = await waitFor("a pid", () => run.cluster.tasks()[0]?.pid !== undefined && onlyTask(run));
    process.kill(-first.pid, "SIGKILL");
    const second = await waitFor("a relaunched task", () => {
      const t = run.cluster.tasks()[0];
      return t && t.taskId !== first.taskId && t.pid !== undefined && t.state === "TASK_RUNNING" && onlyTask(run);
    });
    expect(second.pid).not.toBe(first.pid);
    expect(isAlive(first.pid)).toBe(false);
    // Same volume: the first run's line is still there, the second run appended its own.
    await waitFor("second line", () => readFileSync(join(second.sandbox, "data", "output"), "utf8").split("\n").length === 3);
    expect(run.scheduler.getPlan("hello", "recovery").phases.flatMap((p) => p.steps.map((s) => s.name))).toEqual(["hello-0:[server]"]);
  });

  it("reports a FINISH task's non-zero exit as FAILED and retries it until it exits 0", async () => {
    const run = await start(newDir());
    await run.scheduler.putService({ name: "job", spec: FINISH_SPEC, parameters: {} });
    await waitFor("deploy COMPLETE", () => deployed(run, "job"));
    const sandboxes = run.cluster.tasks().length === 0 ? sandboxIds(run.dataDir) : [];
    expect(sandboxes).toHaveLength(2);
    // The wrapper records each run's exit status in its sandbox.
    const exits = sandboxes.map((id) => readFileSync(join(sandboxOf(run.dataDir, id)!, "exit"), "utf8").trim());
    expect(exits.sort()).toEqual(["0", "1"]);
  });

  it("keeps tasks running across a scheduler restart and re-adopts the same processes", async () => {
    const dir = newDir();
    const before = await deployAndStop(dir);
    expect(isAlive(before.pid)).toBe(true);

    const second = await start(dir);
    await waitFor("deploy COMPLETE after restart", () => deployed(second, "hello"));
    const after = await waitFor("the adopted task", () => second.cluster.tasks()[0]?.pid !== undefined && onlyTask(second));
    expect(after).toEqual(before);
    expect(sandboxIds(dir)).toHaveLength(1); // nothing launched twice
  });

  it("reports a task that ended while the scheduler was down and relaunches it", async () => {
    const dir = newDir();
    const before = await deployAndStop(dir);
    process.kill(-before.pid, "SIGKILL");
    await waitFor("the task gone", () => !isAlive(before.pid));

    const second = await start(dir);
    const relaunched = await waitFor("a relaunched task", () => {
      const t = second.cluster.tasks()[0];
      return t && t.taskId !== before.taskId && t.pid !== undefined && onlyTask(second);
    });
    expect(relaunched.pid).not.toBe(before.pid);
    await waitFor("deploy COMPLETE", () => deployed(second, "hello"));
  });
});

describe("local agent: removing a service", () => {
  it("leaves nothing of it on the machine: no process, no volume, no sandbox, no reservation; the other service untouched", async () => {
    const run = await start(newDir());
    await run.scheduler.putService({ name: "hello", spec: SPEC, parameters: {} });
    await run.scheduler.putService({ name: "other", spec: SPEC, parameters: {} });
    await waitFor("both deployed", () => deployed(run, "hello") && deployed(run, "other"));
    const tasks = await waitFor("pids", () => {
      const ts = run.cluster.tasks();
      return ts.length === 2 && ts.every((t) => t.pid !== undefined) && ts;
    });
    const hello = tasks.find((t) => t.taskId.startsWith("hello__"))!;
    const other = tasks.find((t) => t.taskId.startsWith("other__"))!;
    expect(volumeDirs(run.dataDir)).toHaveLength(2);

    const ac = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const e of run.scheduler.watchUninstall(["hello"], 0n, ac.signal)) seen.push(e.kind);
    })();
    await run.scheduler.uninstallService("hello");
    await watching; // the stream ends once hello's removal completed
    expect(seen[0]).toBe("STARTED");
    expect(seen.at(-1)).toBe("COMPLETED");
    expect(run.scheduler.listServices().map((s) => s.name)).toEqual(["other"]);
    expect(isAlive(hello.pid!)).toBe(false);
    // The agent answers a call before it works on it: its books catch up a moment later.
    expect(await settled(() => existsSync(hello.sandbox), false)).toBe(false);
    expect(await settled(() => volumeDirs(run.dataDir).length, 1)).toBe(1); // only other's volume
    const owners = (): string[] => [...new Set([...run.cluster.reservations().values()].flat().map((r) => r.reservations?.at(-1)?.labels["namespace"] ?? ""))];
    expect(await settled(owners, ["other"])).toEqual(["other"]);
    expect(isAlive(other.pid!)).toBe(true);
    expect(run.cluster.tasks().map((t) => t.taskId)).toEqual([other.taskId]);
  });
});

describe("local agent: a removal interrupted by a restart", () => {
  it("after the kills and before the releases: the restarted scheduler finishes it, with exactly one COMPLETED event", async () => {
    const dir = newDir();
    const first = await start(dir);
    await first.scheduler.putService({ name: "hello", spec: SPEC, parameters: {} });
    await waitFor("deploy COMPLETE", () => deployed(first, "hello"));
    const task = await waitFor("a pid", () => first.cluster.tasks()[0]?.pid !== undefined && onlyTask(first));
    // No more offers: the kill completes, the reservations stay.
    await first.cluster.driver.suppress();
    first.cluster.driver.revive = async () => undefined;
    await first.scheduler.uninstallService("hello");
    await waitFor("the kill done", () => first.scheduler.getPlan("hello", "uninstall").phases[0]!.status === "COMPLETE");
    expect(isAlive(task.pid)).toBe(false);
    expect(first.scheduler.getPlan("hello", "uninstall").phases[1]!.status).not.toBe("COMPLETE");
    expect([...first.cluster.reservations().values()].flat().length).toBeGreaterThan(0);
    await first.stop();
    runs.splice(runs.indexOf(first), 1);

    const second = await start(dir);
    await waitFor("hello removed", () => second.scheduler.listServices().length === 0);
    expect(await settled(() => [...second.cluster.reservations().values()].flat(), [])).toEqual([]);
    expect(await settled(() => volumeDirs(dir), [])).toEqual([]);
    const ac = new AbortController();
    const kinds: string[] = [];
    for await (const e of second.scheduler.watchUninstall(["hello"], 0n, ac.signal)) kinds.push(e.kind);
    expect(kinds.filter((k) => k === "STARTED")).toHaveLength(1);
    expect(kinds.filter((k) => k === "COMPLETED")).toHaveLength(1);
  });
});

/**
 * Pod replace end to end on the local cluster (real processes, SQLite store): the replaced pod
 * runs again in a new sandbox on a new volume, and its old volume is gone from the machine
 * (dcos-commons §3.6: fresh reservations; the old ones destroyed and unreserved when offered).
 * And a RUNNING-goal task whose command exits at once completes its deploy step; recovery
 * relaunches it.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { PodView } from "../../src/engine/admin-api.js";
import { frameworkDirs } from "./agent-world.js";
import { killEverything, startLocal, tempDataDir, waitFor } from "./local-harness.js";
import type { LocalRun } from "./local-harness.js";

const SPEC = `
name: {{SERVICE_NAME}}
pods:
  world:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: echo run >> data/runs && sleep 1000
        cpus: 0.1
        memory: 32
        volume:
          path: data
          type: ROOT
          size: 10
  crash:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: exit 3
        cpus: 0.1
        memory: 32
`;

const runs: LocalRun[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

async function world(run: LocalRun): Promise<PodView> {
  return (await run.scheduler.listPods("hello")).find((p) => p.name === "world-0")!;
}

/**
 * The pod with its task running (a sandbox and a pid) on its volume, or undefined. The pod's
 * reservations come from the scheduler's records and its tasks from the store, read one after
 * the other: a busy machine can show the task RUNNING a moment before its record is confirmed.
 */
async function runningPod(run: LocalRun, notTask?: string): Promise<PodView | undefined> {
  const pod = await world(run);
  const t = pod.tasks[0];
  const onVolume = pod.reservations.some((r) => r.persistenceId !== "");
  return t && t.state === "TASK_RUNNING" && t.pid > 0 && t.sandbox !== "" && t.id !== notTask && !pod.permanentlyFailed && onVolume ? pod : undefined;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function volumePath(run: LocalRun, pod: PodView): string {
  const volume = pod.reservations.find((r) => r.persistenceId !== "");
  expect(volume?.containerPath).toBe("data");
  const host = frameworkDirs(run.dataDir)[0]!;
  return join(host, "volumes", pod.agentId, volume!.persistenceId);
}

describe("local agent: pod replace", () => {
  it("moves the pod to a new sandbox on a new volume and removes its old volume; a task that exits at once is recovery's", async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const run = await startLocal(dir);
    runs.push(run);
    await run.scheduler.putService({ name: "hello", spec: SPEC, parameters: {} });
    await waitFor("deployed", () => run.scheduler.getPlan("hello", "deploy").status === "COMPLETE", 30_000);
    const before = await until("world-0 running", () => runningPod(run));
    const oldVolume = volumePath(run, before);
    await waitFor("the first run written", () => existsSync(join(oldVolume, "runs")));
    // The crashing pod completed its deploy step; the recovery plan relaunches it.
    await waitFor("crash-0 recovered again", () => /^attempt [2-9]\d* \(transient\): task crash-0-server failed: command exited with status 3; /.test(
      run.scheduler.getPlan("hello", "recovery").phases.find((p) => p.name === "crash")?.steps[0]?.message ?? ""));
    expect(run.scheduler.getPlan("hello", "deploy").status).toBe("COMPLETE");

    const replaced = await run.scheduler.controlPod({ name: "hello", pod: "world-0", action: "REPLACE" });
    expect(replaced).toMatchObject({ changed: true, killed: [before.tasks[0]!.id] });
    const after = await until("world-0 replaced", () => runningPod(run, before.tasks[0]!.id));
    expect(after.tasks[0]!.sandbox).not.toBe(before.tasks[0]!.sandbox);
    const newVolume = volumePath(run, after);
    expect(newVolume).not.toBe(oldVolume);
    const oldIds = new Set(before.reservations.map((r) => r.resourceId));
    expect(after.reservations.filter((r) => oldIds.has(r.resourceId))).toEqual([]);
    await waitFor("the old volume removed", () => !existsSync(oldVolume), 20_000);
    await waitFor("the new run written", () => existsSync(join(newVolume, "runs")));
    expect(readFileSync(join(newVolume, "runs"), "utf8")).toBe("run\n"); // a fresh volume
  }, 90_000);
});

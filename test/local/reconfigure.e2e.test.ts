/**
 * Reconfiguration end to end on the local cluster (real processes, SQLite store): hello-world
 * deployed, the world pod's env changed and the spec put again. Only the world tasks restart —
 * new task ids and processes that see the new value — while hello keeps its task and its pid.
 * Pids are read as a user reads them, through ListTasks.
 */
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { TaskView } from "../../src/engine/admin-api.js";
import { isAlive, killEverything, startLocal, tempDataDir, waitFor } from "./local-harness.js";
import type { LocalRun } from "./local-harness.js";

const HELLO_WORLD = readFileSync(new URL("../../examples/hello-world.yml", import.meta.url), "utf8");

/** hello-world with GREETING in the world pod's task env. */
function withGreeting(value: string): string {
  const anchor = "        kill-grace-period: 10\n";
  expect(HELLO_WORLD).toContain(anchor);
  return HELLO_WORLD.replace(anchor, `${anchor}        env:\n          GREETING: ${value}\n`);
}

const runs: LocalRun[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

/** Every task of the service running with a pid, by task name; undefined until then. */
async function runningTasks(run: LocalRun, count: number): Promise<Map<string, TaskView> | undefined> {
  const tasks = await run.scheduler.listTasks("hello");
  const live = tasks.filter((t) => t.state === "TASK_RUNNING" && t.pid > 0);
  return live.length === count && tasks.length === count ? new Map(live.map((t) => [t.name, t])) : undefined;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function environOf(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
}

describe("local cluster: reconfiguring a running service", () => {
  it("restarts only the pod whose env changed; the others keep their pids", async () => {
    const dir = tempDataDir();
    dirs.push(dir);
    const run = await startLocal(dir);
    runs.push(run);
    await run.scheduler.putService({ name: "hello", spec: withGreeting("hi"), parameters: {} });
    await waitFor("hello-world deployed", () => run.scheduler.getPlan("hello", "deploy").status === "COMPLETE", 90_000);
    const before = await until("three running tasks", () => runningTasks(run, 3));
    expect([...before.keys()].sort()).toEqual(["hello-0-server", "world-0-server", "world-1-server"]);
    expect(environOf(before.get("world-0-server")!.pid)).toContain("GREETING=hi");

    const put = await run.scheduler.putService({ name: "hello", spec: withGreeting("hello"), parameters: {} });
    expect(put.outcome).toBe("UPDATED");
    expect(put.service.generation).toBe(2);
    expect(put.change).toMatchObject({ relaunched: ["world-0", "world-1"], added: [], decommissioned: [], violations: [] });

    const after = await until("the world tasks relaunched", async () => {
      if (run.scheduler.getPlan("hello", "deploy").status !== "COMPLETE") return undefined;
      const tasks = await runningTasks(run, 3);
      const relaunched = ["world-0-server", "world-1-server"].every((n) => tasks?.get(n) && tasks.get(n)!.id !== before.get(n)!.id);
      return relaunched ? tasks : undefined;
    });
    // hello: the same task, the same process.
    expect(after.get("hello-0-server")!.id).toBe(before.get("hello-0-server")!.id);
    expect(after.get("hello-0-server")!.pid).toBe(before.get("hello-0-server")!.pid);
    expect(isAlive(before.get("hello-0-server")!.pid)).toBe(true);
    // world: new processes with the new value, in place on their agent; the old ones are gone.
    for (const name of ["world-0-server", "world-1-server"]) {
      const old = before.get(name)!;
      const now = after.get(name)!;
      expect(now.pid).not.toBe(old.pid);
      expect(now.agentId).toBe(old.agentId);
      expect(isAlive(old.pid)).toBe(false);
      expect(environOf(now.pid)).toContain("GREETING=hello");
    }
  }, 180_000);
});

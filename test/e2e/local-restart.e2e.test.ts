/**
 * The scheduler process itself on the local cluster: hello-world (with its checks sped up)
 * deploys as real processes, and when the scheduler is stopped with SIGTERM or killed with
 * SIGKILL and started again on the same data directory, the same task processes (same pids)
 * are still the services' tasks and nothing is launched twice.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import { Status, createAdminClient } from "../../src/client/index.js";
import { isAlive, killEverything, tempDataDir } from "../local/local-harness.js";

const ROOT = new URL("../..", import.meta.url).pathname;
/** hello-world with 1 s check intervals, so it deploys in seconds. */
const HELLO = readFileSync(join(ROOT, "examples/hello-world.yml"), "utf8").replace(/interval: 5/g, "interval: 1");

interface Scheduler {
  readonly child: ChildProcess;
  readonly address: string;
  readonly exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) await killEverything(d);
});

async function startScheduler(dataDir: string): Promise<Scheduler> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as { msg?: string; address?: string };
      if (entry.msg === "corral is serving" && entry.address) resolve(entry.address);
    });
    child.on("exit", (code) => reject(new Error(`scheduler exited with ${code} before serving`)));
  });
  return { child, address, exited };
}

async function deployedTaskIds(address: string, name: string): Promise<string[]> {
  const client = createAdminClient({ address, defaultDeadlineMs: 5000 });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { plan } = await client.getPlan({ name });
      if (plan?.status === Status.COMPLETE) return plan.phases.flatMap((p) => p.steps.flatMap((s) => s.taskIds)).sort();
      if (Date.now() > deadline) throw new Error(`deploy of ${name} did not complete`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.close();
  }
}

/** Task id → task pid, from the supervisors' files. */
function taskPids(dataDir: string): Map<string, number> {
  const root = join(dataDir, "local", "sandboxes");
  return new Map(
    readdirSync(root).map((id) => [id, (JSON.parse(readFileSync(join(root, id, "supervisor.json"), "utf8")) as { taskPid: number }).taskPid]),
  );
}

describe.each(["SIGTERM", "SIGKILL"] as const)("the scheduler process stopped with %s", (signal) => {
  it("leaves its tasks running and a restarted scheduler re-adopts the same processes", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const first = await startScheduler(dataDir);
    const client = createAdminClient({ address: first.address, defaultDeadlineMs: 5000 });
    await client.putService({ name: "hello", spec: HELLO, parameters: {} });
    client.close();
    const ids = await deployedTaskIds(first.address, "hello");
    expect(ids).toHaveLength(3);
    const pids = taskPids(dataDir);
    expect([...pids.keys()].sort()).toEqual(ids);

    first.child.kill(signal);
    expect(await first.exited).toBe(signal === "SIGTERM" ? 0 : null);
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);

    const second = await startScheduler(dataDir);
    expect(await deployedTaskIds(second.address, "hello")).toEqual(ids);
    expect(taskPids(dataDir)).toEqual(pids); // same processes; no new sandbox, so nothing launched twice
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);
    // The tasks really ran: what they wrote is in their volumes.
    const hello = ids.find((id) => id.startsWith("hello__hello-0-server__"))!;
    expect(readFileSync(join(dataDir, "local", "sandboxes", hello, "hello-container-path", "output"), "utf8")).toBe("hello\n");
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 120_000); // two scheduler processes start here; generous for a loaded 2-core machine
});

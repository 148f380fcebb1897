/**
 * The scheduler process itself on the local agent it starts: hello-world (with its checks sped up)
 * deploys as real processes, and when the scheduler is stopped with SIGTERM or killed with
 * SIGKILL and started again on the same data directory, the same task processes (same pids)
 * are still the services' tasks and nothing is launched twice.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAdminClient } from "../../src/client/index.js";
import { ROOT, completedTaskIds, killSchedulers, startScheduler, taskPids } from "./scheduler-process.js";
import { sandboxOf } from "../local/agent-world.js";
import { isAlive, killEverything, tempDataDir } from "../local/local-harness.js";

/** hello-world with 1 s check intervals, so it deploys in seconds. */
const HELLO = readFileSync(join(ROOT, "examples/hello-world.yml"), "utf8").replace(/interval: 5/g, "interval: 1");

const dirs: string[] = [];

afterEach(async () => {
  killSchedulers();
  for (const d of dirs.splice(0)) await killEverything(d);
});

describe.each(["SIGTERM", "SIGKILL"] as const)("the scheduler process stopped with %s", (signal) => {
  it("leaves its tasks running and a restarted scheduler re-adopts the same processes", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const first = await startScheduler(dataDir);
    const client = createAdminClient({ address: first.address, defaultDeadlineMs: 5000 });
    await client.putService({ name: "hello", spec: HELLO, parameters: {} });
    client.close();
    const ids = await completedTaskIds(first.address, "hello");
    expect(ids).toHaveLength(3);
    const pids = taskPids(dataDir);
    expect([...pids.keys()].sort()).toEqual(ids);

    first.child.kill(signal);
    expect(await first.exited).toBe(signal === "SIGTERM" ? 0 : null);
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);

    const second = await startScheduler(dataDir);
    expect(await completedTaskIds(second.address, "hello")).toEqual(ids);
    expect(taskPids(dataDir)).toEqual(pids); // same processes; no new sandbox, so nothing launched twice
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(true);
    // The tasks really ran: what they wrote is in their volumes.
    const hello = ids.find((id) => id.startsWith("hello__hello-0-server__"))!;
    expect(readFileSync(join(sandboxOf(dataDir, hello)!, "hello-container-path", "output"), "utf8")).toBe("hello\n");
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  }, 120_000); // two scheduler processes start here; generous for a loaded 2-core machine
});

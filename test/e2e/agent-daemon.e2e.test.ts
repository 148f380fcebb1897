/**
 * The local agent as a user meets it: the scheduler starts the daemon when none runs on its
 * state directory and says so; `corral agent status|stop` tell about it and stop it; a scheduler
 * asking for other agent options is refused with the command that resolves it; a data directory
 * of the old in-process local cluster is refused with the command that resets it; and an agent
 * killed under a running scheduler is started again, its tasks adopted.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agentStatus } from "../../src/adapters/cluster/agent/daemon.js";
import { createAdminClient } from "../../src/client/index.js";
import { runCli, shown } from "../cli/run-cli.js";
import { liveTaskIds } from "../local/agent-world.js";
import { killEverything, tempDataDir, waitFor } from "../local/local-harness.js";
import { isAlive } from "../processes.js";
import { ROOT, completedTaskIds, killSchedulers, startScheduler, taskPids } from "./scheduler-process.js";

const SIMPLE = readFileSync(join(ROOT, "examples/simple.yml"), "utf8");
const dirs: string[] = [];

afterEach(async () => {
  killSchedulers();
  for (const d of dirs.splice(0)) await killEverything(d);
});

function newDir(): string {
  const dir = tempDataDir("agentd");
  dirs.push(dir);
  return dir;
}

describe("the local agent daemon", () => {
  it("is started by the scheduler, shown and stopped by `corral agent`, and refuses a scheduler with other options", async () => {
    const dataDir = newDir();
    const first = await startScheduler(dataDir, ["--local-agents", "2"]);
    expect(first.log.find((l) => String(l["msg"]).startsWith("started the local agent"))).toMatchObject({ stateDir: join(dataDir, "agent") });
    const status = await runCli(["agent", "status", "--data-dir", dataDir]);
    expect(status.code, shown(status)).toBe(0);
    expect(status.stdout).toMatch(/local agent running: pid \d+, 2 agents/);
    expect(status.stdout).toContain(join(dataDir, "agent", "agent.sock"));

    // A second scheduler on the same agent (its own store) asking for one agent is refused.
    const other = await startScheduler(newDir(), ["--local-agents", "1", "--agent-dir", join(dataDir, "agent")]).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(other?.message).toMatch(/exited with 1 before serving/);
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    // The agent outlives the scheduler; `corral agent stop` stops it.
    const { pid } = await agentStatus(join(dataDir, "agent"));
    expect(isAlive(pid!)).toBe(true);
    const stop = await runCli(["agent", "stop", "--agent-dir", join(dataDir, "agent")]);
    expect(stop.code, shown(stop)).toBe(0);
    expect(stop.stdout).toMatch(/stopped the local agent/);
    expect(isAlive(pid!)).toBe(false);
    const none = await runCli(["agent", "status", "--data-dir", dataDir]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no local agent runs on/);
  }, 60_000);

  it("says which options differ and names `corral agent stop`", async () => {
    const dataDir = newDir();
    const first = await startScheduler(dataDir, ["--local-agents", "2"]);
    first.child.kill("SIGTERM");
    await first.exited;
    const stderr = await stderrOf(dataDir, ["--local-agents", "3"]);
    expect(stderr).toMatch(/--local-agents 2.*3|3.*--local-agents 2/s);
    expect(stderr).toContain(`corral agent stop --agent-dir ${join(dataDir, "agent")}`);
  }, 60_000);

  it("refuses a data directory of the old in-process local cluster, naming how to reset it", async () => {
    const dataDir = newDir();
    mkdirSync(join(dataDir, "local"), { recursive: true });
    writeFileSync(join(dataDir, "local", "cluster.json"), "{}");
    const stderr = await stderrOf(dataDir, []);
    expect(stderr).toMatch(/old in-process local cluster/);
    expect(stderr).toContain(`rm -rf ${dataDir}`);
  }, 30_000);

  it("is started again when it was killed under a running scheduler, and adopts its tasks", async () => {
    const dataDir = newDir();
    const s = await startScheduler(dataDir);
    const c = createAdminClient({ address: s.address, defaultDeadlineMs: 5000 });
    await c.putService({ name: "simple", spec: SIMPLE, parameters: {} });
    c.close();
    const ids = await completedTaskIds(s.address, "simple");
    const pids = taskPids(dataDir);
    const { pid } = await agentStatus(join(dataDir, "agent"));
    process.kill(pid!, "SIGKILL");
    // The task keeps running without its agent; the scheduler starts a new agent, which adopts it.
    for (const p of pids.values()) expect(isAlive(p)).toBe(true);
    const next = await waitFor("a new agent", () => {
      const line = s.log.find((l) => l["msg"] === "the local agent was gone; started it again");
      return line?.["pid"] as number | undefined;
    });
    expect(next).not.toBe(pid);
    for (const deadline = Date.now() + 20_000; (await liveTaskIds(dataDir).catch(() => [])).join() !== ids.join(); ) {
      if (Date.now() > deadline) throw new Error("the new agent did not adopt the task");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(taskPids(dataDir)).toEqual(pids);
    expect(await completedTaskIds(s.address, "simple")).toEqual(ids);
  }, 60_000);
});

/** Starts the scheduler expecting it to fail; returns what it printed on stderr. */
async function stderrOf(dataDir: string, args: readonly string[]): Promise<string> {
  const { spawn } = await import("node:child_process");
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "--listen", "127.0.0.1:0", "--data-dir", dataDir, ...args], { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.on("close", () => resolve(err));
  });
}

/**
 * The agent daemon killed under a running task (issue 14 item 6): kill -9 the daemon, the task
 * runs on (same pid); ensureAgent starts it again, the driver resubscribes with the same
 * framework ID, the task is re-adopted (RUNNING by reconciliation, no second process), and a
 * later KILL ends it. A second task that exits while the daemon is away is reported after the
 * restart with an acknowledged update and its exit code. Nothing is left running.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { agentStatus, ensureAgent, stopAgent } from "../../src/adapters/cluster/agent/daemon.js";
import { ContractFixtures, unreserved } from "../contract/cluster-driver-fixtures.js";
import { agentDriver, startHarness } from "../contract/cluster-driver-harness.js";
import type { ClusterDriverHarness } from "../contract/cluster-driver-harness.js";
import { killProcessesIn, pidAlive, processesIn } from "../contract/cluster-driver-procs.js";
import { eventually } from "../contract/eventually.js";
import { tempDir } from "../use-temp-dir.js";

const COMMAND = "sleep 1000";
/** Runs until a file named `stop` appears in its sandbox, then exits 3. */
const ENDER = "while [ ! -e stop ]; do sleep 0.05; done; exit 3";

/** Processes below the agent's state directory running the task's command. */
const sleepers = (dir: string): number[] =>
  processesIn(dir)
    .filter((p) => p.cmdline.includes(COMMAND))
    .map((p) => p.pid)
    .sort((a, b) => a - b);

describe("agent daemon restarted under a running task", () => {
  const stateDir = tempDir("agent-restart", {
    beforeRemove: async (dir) => {
      await stopAgent(dir, { killTasks: true }).catch(() => false);
      killProcessesIn(dir);
    },
  });
  let harness: ClusterDriverHarness | undefined;

  afterAll(async () => {
    await harness?.close();
  });

  it("keeps the task running, re-adopts it without a second launch, and kills it later", async () => {
    const config = { stateDir, agents: 1, heartbeatIntervalS: 1 };
    const first = await ensureAgent(config);
    expect(first.started).toBe(true);
    const h = await startHarness({
      newDriver: () => agentDriver(first.socketPath),
      time: { kind: "real", timeoutMs: 10_000 },
      realProcesses: true,
      loseAgent: () => Promise.reject(new Error("not used")),
      close: async (driver) => driver.close(),
    });
    harness = h;
    const f = new ContractFixtures(h.framework, h.frameworkId);

    // A task that runs until killed.
    const offer = await h.until("an offer", () => h.log.outstanding()[0]);
    const task = f.task(offer.agentId, unreserved(), COMMAND);
    const ender = f.task(offer.agentId, unreserved(), ENDER);
    h.log.spend([offer.id]);
    await h.driver.accept([offer.id], [f.launch([task]), f.launch([ender])], { refuseSeconds: 0 });
    for (const t of [task, ender]) {
      await h.until(`${t.taskId} RUNNING`, () => h.log.updatesOf(t.taskId).find((u) => u.status.state === "TASK_RUNNING"));
    }
    const files = h.driver.taskFiles;
    expect(files, "the driver serves the agent's task files").toBeDefined();
    const sandboxOf = (taskId: string) =>
      eventually(async () => {
        const s = await files?.sandboxOf(taskId, offer.agentId);
        return s?.pid !== undefined ? s : undefined;
      }, 5_000, `the pid of ${taskId}`);
    const sandbox = await sandboxOf(task.taskId);
    const enderSandbox = await sandboxOf(ender.taskId);
    const pid = sandbox.pid ?? 0;
    expect(pidAlive(pid)).toBe(true);
    const before = await eventually(() => (sleepers(stateDir).length > 0 ? sleepers(stateDir) : undefined), 5_000, "the task's process below the state directory");
    await h.acknowledgeAll();

    // kill -9 the daemon: the task runs on.
    process.kill(first.pid, "SIGKILL");
    await eventually(() => !pidAlive(first.pid), 5_000, "the daemon is dead");
    await h.until("the driver noticed", () => (h.log.disconnects.length > 0 ? true : undefined));
    expect(pidAlive(pid), "the task outlives its agent").toBe(true);
    expect(sleepers(stateDir)).toEqual(before);
    writeFileSync(join(enderSandbox.path, "stop"), "");
    await eventually(() => processesIn(enderSandbox.path).length === 0, 5_000, "the other task exits while the daemon is away");

    // The daemon again: the driver resubscribes by itself, with the same framework ID.
    const mark = h.log.seq;
    const second = await ensureAgent(config);
    expect(second.started).toBe(true);
    expect(second.pid).not.toBe(first.pid);
    expect(second.socketPath).toBe(first.socketPath);
    await h.until("resubscribed", () => (h.log.subscriptions.length >= 2 ? true : undefined));
    expect(h.log.subscriptions).toEqual([h.frameworkId, h.frameworkId]);
    expect(h.log.fatals).toEqual([]);

    // Re-adopted: RUNNING by reconciliation, the same process, no second one.
    await h.driver.reconcile([{ taskId: task.taskId, agentId: offer.agentId }]);
    const answer = await h.until("reconciled", () =>
      h.log.updatesOf(task.taskId, mark).find((u) => u.status.reason === "REASON_RECONCILIATION")?.status,
    );
    expect(answer).toMatchObject({ state: "TASK_RUNNING", agentId: offer.agentId });
    await h.settle();
    const states = h.log.updatesOf(task.taskId, mark).map((u) => u.status.state);
    expect(states.filter((s) => s !== "TASK_RUNNING"), "no update but RUNNING while the task runs").toEqual([]);
    expect((await files?.sandboxOf(task.taskId, offer.agentId))?.pid).toBe(pid);
    expect(pidAlive(pid)).toBe(true);
    expect(sleepers(stateDir), "no second process with the task's command").toEqual(before);

    // The task that ended meanwhile: an agent update (uuid, acknowledged) with its exit code.
    const ended = await h.until("the ended task reported", () =>
      h.log.updatesOf(ender.taskId, mark).find((u) => u.status.state !== "TASK_RUNNING")?.status,
    );
    expect(ended).toMatchObject({ state: "TASK_FAILED", agentId: offer.agentId });
    expect(ended.uuid, "an agent update, delivered at least once").toEqual(expect.any(String));
    expect(ended.message).toMatch(/\b3\b/);
    expect((await agentStatus(stateDir)).tasks).toBe(1);

    // A later KILL ends it.
    const killMark = h.log.seq;
    await h.driver.kill(task.taskId, offer.agentId);
    await h.until("KILLED", () => h.log.updatesOf(task.taskId, killMark).find((u) => u.status.state === "TASK_KILLED"));
    await eventually(() => !pidAlive(pid) && sleepers(stateDir).length === 0, 5_000, "the task's processes end");

    // Stop the daemon with its tasks: nothing left running.
    await h.close();
    harness = undefined;
    expect(await stopAgent(stateDir, { killTasks: true })).toBe(true);
    expect((await agentStatus(stateDir)).running).toBe(false);
    expect(pidAlive(second.pid)).toBe(false);
    await eventually(() => processesIn(stateDir).length === 0, 5_000, "nothing left below the state directory");
  });
});

/**
 * The agent runtime with real processes: launch, exit codes, kills, checks, adoption by a new
 * runtime on the same root, rotation, discard, files. Timers the test drives (kill grace, the
 * adoption poll) run on a FakeClock; process ends are real and waited for.
 */
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { TaskInfo } from "../../../../domain/cluster.js";
import { tempDir } from "../../../../../test/use-temp-dir.js";
import type { SimTask } from "../../sim-tasks.js";
import { procStart } from "./proc.js";
import { comm, groupMembers, killGroups, ppidOf, setup, simTask, sizeOf, until } from "./runtime-test-kit.js";
import { readRecord } from "./wrapper.js";

describe("LocalAgentRuntime with real processes", () => {
  it("reports RUNNING right after the spawn and FINISHED when the command exits 0, with no Node process between", async () => {
    const { runtime, states, root } = setup();
    // A long sleep in the background keeps the group at three members however loaded the machine.
    const task = simTask("sleep 1000 & while [ ! -f go ]; do sleep 0.02; done; kill $!; echo out; echo err >&2");
    runtime.start(task);
    expect(states(task.info.taskId)).toEqual([]);
    runtime.startQueued();
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING"]);
    const [proc] = runtime.processes();
    const wrapper = proc!.taskPid!;
    expect(proc!.taskId).toBe(task.info.taskId);
    expect(readRecord(join(root, "sandboxes", task.info.taskId))).toMatchObject({ pid: wrapper, procStart: procStart(wrapper) });
    // runtime (this Node process) → wrapper (sh) → the command's sh → sleep
    await until("the command's processes", () => groupMembers(wrapper).length >= 3);
    expect(comm(wrapper)).toBe("sh");
    expect(ppidOf(wrapper)).toBe(process.pid);
    // The command's shell is the wrapper's child; what it runs (the sleeps) is the shell's.
    const commandShell = groupMembers(wrapper).find((p) => p !== wrapper && ppidOf(p) === wrapper);
    expect(commandShell).toBeDefined();
    expect(comm(commandShell!)).toBe("sh");
    const smaps = readFileSync(`/proc/${wrapper}/smaps_rollup`, "utf8");
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(smaps)?.[1]);
    // The wrapper is a small shell, not a 10 MB Node supervisor.
    expect(kb("Private_Dirty") + kb("Private_Clean")).toBeLessThan(1024);

    writeFileSync(join(root, "sandboxes", task.info.taskId, "go"), "");
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    expect(runtime.processes()).toEqual([]);
    expect(readFileSync(join(root, "sandboxes", task.info.taskId, "stdout"), "utf8")).toBe("out\n");
    expect(readFileSync(join(root, "sandboxes", task.info.taskId, "stderr"), "utf8")).toBe("err\n");
    expect(readFileSync(join(root, "sandboxes", task.info.taskId, "exit"), "utf8")).toBe("0");
  });

  it("reports a quick exit with status 3 as RUNNING then FAILED with the code, in the task's environment", async () => {
    const { runtime, reports, states, root } = setup();
    const task = simTask('echo "$MESOS_TASK_ID $FOO $PWD"; exit 3', { command: { value: 'echo "$MESOS_TASK_ID $FOO $PWD"; exit 3', environment: { FOO: "bar" } } });
    runtime.start(task);
    runtime.startQueued();
    await until("FAILED", () => states(task.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FAILED"]);
    expect(reports[1]!.extra).toMatchObject({ reason: "REASON_COMMAND_EXECUTOR_FAILED", message: "command exited with status 3" });
    const sandbox = join(root, "sandboxes", task.info.taskId);
    expect(readFileSync(join(sandbox, "stdout"), "utf8")).toBe(`${task.info.taskId} bar ${sandbox}\n`);
  });

  it("kills with SIGTERM to the group, then SIGKILL after the grace period on the clock", async () => {
    const { runtime, reports, states, clock, root } = setup();
    const stubborn = simTask('trap "" TERM; touch trapped; while :; do sleep 0.05; done', { killGracePeriodS: 3 });
    const polite = simTask("sleep 1000");
    runtime.start(stubborn);
    runtime.start(polite);
    runtime.startQueued();
    const pidOf = (t: SimTask): number => runtime.processes().find((p) => p.taskId === t.info.taskId)!.taskPid!;
    const stubbornPid = pidOf(stubborn);
    await until("the trap", () => existsSync(join(root, "sandboxes", stubborn.info.taskId, "trapped")));
    await until("the polite command", () => groupMembers(pidOf(polite)).length >= 3); // wrapper, its shell, sleep
    runtime.kill(stubborn);
    runtime.kill(polite);
    await until("the polite task's end", () => states(polite.info.taskId).length === 2);
    expect(reports.find((r) => r.taskId === polite.info.taskId && r.state === "TASK_KILLED")?.extra).toEqual({ message: "killed by the scheduler" });
    // The stubborn one ignores SIGTERM: it runs until the grace period is over.
    expect(states(stubborn.info.taskId)).toEqual(["TASK_RUNNING"]);
    expect(procStart(stubbornPid)).toBeDefined();
    clock.advance(3000);
    await until("the stubborn task's end", () => states(stubborn.info.taskId).length === 2);
    expect(states(stubborn.info.taskId)).toEqual(["TASK_RUNNING", "TASK_KILLED"]);
    await until("its group gone", () => groupMembers(stubbornPid).length === 0);
  });

  it("kills a task not started yet during launch, and fails one whose user or sandbox is impossible", () => {
    const { runtime, reports } = setup({ canSwitchUser: true });
    const early = simTask("sleep 1000");
    const nobody = simTask("true", { command: { value: "true", environment: {}, user: "no-such-user-here" } });
    runtime.start(early);
    runtime.start(nobody);
    runtime.kill(early);
    runtime.startQueued();
    expect(reports).toEqual([
      { taskId: early.info.taskId, state: "TASK_KILLED", extra: { reason: "REASON_TASK_KILLED_DURING_LAUNCH" } },
      { taskId: nobody.info.taskId, state: "TASK_FAILED", extra: { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: "user 'no-such-user-here' does not exist on this machine" } },
    ]);
    expect(runtime.processes()).toEqual([]);

    const fileRoot = join(tempDir("agent-rt"), "a-file");
    writeFileSync(fileRoot, "");
    const broken = setup({}, fileRoot);
    const task = simTask("true");
    broken.runtime.start(task);
    broken.runtime.startQueued();
    expect(broken.reports).toEqual([{ taskId: task.info.taskId, state: "TASK_FAILED", extra: expect.objectContaining({ reason: "REASON_CONTAINER_LAUNCH_FAILED" }) }]);
  });

  it("runs the task as the user its spec names when it may switch users (root), and fails the launch when it may not", async () => {
    const root = tempDir("agent-rt", { beforeRemove: killGroups });
    chmodSync(root, 0o755); // the task's user must reach its sandbox
    const { runtime, reports, states } = setup({ canSwitchUser: true }, root);
    const task = simTask("id -u", { command: { value: "id -u", environment: {}, user: "nobody" } });
    runtime.start(task);
    runtime.startQueued();
    const sandbox = join(root, "sandboxes", task.info.taskId);
    if (process.getuid?.() === 0) {
      await until("FINISHED", () => states(task.info.taskId).length === 2);
      expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
      expect(readFileSync(join(sandbox, "stdout"), "utf8")).toBe("65534\n");
      expect(statSync(sandbox).uid).toBe(65534);
    } else {
      // Not root: neither the sandbox's chown nor the spawn as another user is allowed.
      await until("FAILED", () => states(task.info.taskId).length === 1);
      expect(reports[0]).toMatchObject({ state: "TASK_FAILED", extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED" } });
    }
  });

  it("runs a readiness check until it passes", async () => {
    const { runtime, reports, clock } = setup();
    const check = { command: "test -f ready", intervalS: 1, timeoutS: 5, delayS: 0, gracePeriodS: 0, consecutiveFailures: 3 };
    const task = simTask("touch ready; sleep 1000", { check });
    runtime.start(task);
    runtime.startQueued();
    expect(reports).toEqual([{ taskId: task.info.taskId, state: "TASK_RUNNING", extra: { checkStatus: {} } }]);
    // A check run is a real process; the clock only says when to start one.
    await until("readiness", () => {
      clock.advance(1000);
      return reports.length === 2;
    });
    expect(reports[1]).toEqual({
      taskId: task.info.taskId,
      state: "TASK_RUNNING",
      extra: { checkStatus: { exitCode: 0 }, reason: "REASON_TASK_CHECK_STATUS_UPDATED" },
    });
  });

  it("kills a task whose health check fails, as the health check's doing", async () => {
    const { runtime, reports, clock, states } = setup();
    const healthCheck = { command: "false", intervalS: 1, timeoutS: 5, delayS: 0, gracePeriodS: 0, consecutiveFailures: 1 };
    const task = simTask("sleep 1000", { healthCheck, killGracePeriodS: 1 });
    runtime.start(task);
    runtime.startQueued();
    await until("the health kill", () => {
      clock.advance(1000);
      return states(task.info.taskId).includes("TASK_KILLED");
    });
    expect(reports.map((r) => [r.state, r.extra])).toEqual([
      ["TASK_RUNNING", {}],
      ["TASK_RUNNING", { healthy: false, reason: "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED" }],
      ["TASK_KILLED", { healthy: false, reason: "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", message: "health check failed 1 times in a row" }],
    ]);
  });

  it("adopts a running task after a restart without starting it again, and reports its exit code from the wrapper's file", async () => {
    const first = setup();
    const task = simTask("while [ ! -f go ]; do sleep 0.02; done; exit 7");
    first.runtime.start(task);
    first.runtime.startQueued();
    const pid = first.runtime.processes()[0]!.taskPid!;
    first.runtime.close();

    const second = setup({}, first.root);
    task.state = "TASK_RUNNING";
    second.runtime.adopt(task);
    second.runtime.startQueued();
    expect(second.runtime.processes()).toEqual([{ taskId: task.info.taskId, taskPid: pid }]);
    expect(second.reports).toEqual([]);
    expect(readdirSync(join(first.root, "sandboxes"))).toEqual([task.info.taskId]);
    writeFileSync(join(first.root, "sandboxes", task.info.taskId, "go"), "");
    await until("the adopted task's end", () => {
      second.clock.advance(20); // the shared poll
      return second.reports.length === 1;
    });
    expect(second.reports[0]).toEqual({
      taskId: task.info.taskId,
      state: "TASK_FAILED",
      extra: { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: "command exited with status 7" },
    });
    expect(first.states(task.info.taskId)).toEqual(["TASK_RUNNING"]); // the closed runtime said nothing more
  });

  it("finishes a kill the last runtime began: the adopting one sends SIGKILL after the grace period and reports KILLED", async () => {
    const first = setup();
    const task = simTask('trap "" TERM; touch trapped; while :; do sleep 0.05; done', { killGracePeriodS: 2 });
    first.runtime.start(task);
    first.runtime.startQueued();
    const pid = first.runtime.processes()[0]!.taskPid!;
    await until("the trap", () => existsSync(join(first.root, "sandboxes", task.info.taskId, "trapped")));
    first.runtime.kill(task);
    first.runtime.close(); // before its grace period is over

    const second = setup({}, first.root);
    second.runtime.adopt(task);
    second.runtime.startQueued();
    expect(second.reports).toEqual([]);
    second.clock.advance(2000);
    await until("KILLED", () => {
      second.clock.advance(20); // the shared poll
      return second.reports.length === 1;
    });
    expect(second.reports[0]).toMatchObject({ state: "TASK_KILLED", extra: { message: "killed by the scheduler" } });
    await until("its group gone", () => groupMembers(pid).length === 0);
  });

  it("reports what ended while no runtime watched: the code from the exit file, or FAILED with the code unknown when the wrapper was killed too", async () => {
    const first = setup();
    const finished = simTask("while [ ! -f go ]; do sleep 0.02; done; exit 0");
    const killed = simTask("sleep 1000");
    const unstarted = simTask("sleep 1000");
    for (const t of [finished, killed]) first.runtime.start(t);
    first.runtime.startQueued();
    const pids = new Map(first.runtime.processes().map((p) => [p.taskId, p.taskPid!]));
    first.runtime.close();
    writeFileSync(join(first.root, "sandboxes", finished.info.taskId, "go"), "");
    process.kill(-pids.get(killed.info.taskId)!, "SIGKILL");
    await until("both ended", () => [finished, killed].every((t) => groupMembers(pids.get(t.info.taskId)!).length === 0));

    const second = setup({}, first.root);
    finished.state = "TASK_RUNNING";
    killed.state = "TASK_RUNNING";
    for (const t of [finished, killed, unstarted]) second.runtime.adopt(t);
    second.runtime.startQueued();
    expect(second.reports.map((r) => [r.taskId, r.state])).toEqual([
      [finished.info.taskId, "TASK_FINISHED"],
      [killed.info.taskId, "TASK_FAILED"],
      [unstarted.info.taskId, "TASK_RUNNING"], // no task.json: it had never started, so it starts now
    ]);
    expect(second.reports[1]!.extra).toEqual({ reason: "REASON_EXECUTOR_TERMINATED", message: expect.stringContaining("exit code is unknown") });
    expect(second.runtime.processes().map((p) => p.taskId)).toEqual([unstarted.info.taskId]);
  });

  it("adopts a wrapper the previous agent spawned but did not record (it died in between) instead of starting the task again", async () => {
    const first = setup();
    const task = simTask("sleep 1000");
    first.runtime.start(task);
    first.runtime.startQueued();
    const taskPid = first.runtime.processes()[0]!.taskPid;
    first.runtime.close();
    const sandbox = join(first.root, "sandboxes", task.info.taskId);
    rmSync(join(sandbox, "task.json")); // as if the agent died between the spawn and the record

    const second = setup({}, first.root);
    task.state = "TASK_RUNNING";
    second.runtime.adopt(task);
    second.runtime.startQueued();
    expect(second.runtime.processes()).toEqual([{ taskId: task.info.taskId, taskPid }]);
    expect(readRecord(sandbox)?.pid).toBe(taskPid);
    expect(second.reports).toEqual([]); // still running: nothing to tell
  });

  it("rotates stdout by copy-truncate, and the task's next writes land at the start of the file", async () => {
    const { runtime, states, root } = setup({ logMaxBytes: 1000 });
    const task = simTask("head -c 5000 /dev/zero; while [ ! -f go ]; do sleep 0.02; done; printf abc");
    runtime.start(task);
    runtime.startQueued();
    const sandbox = join(root, "sandboxes", task.info.taskId);
    await until("the output", () => sizeOf(join(sandbox, "stdout")) === 5000);
    await runtime.rotateLogs();
    expect(statSync(join(sandbox, "stdout.1")).size).toBe(5000);
    expect(statSync(join(sandbox, "stdout")).size).toBe(0);
    writeFileSync(join(sandbox, "go"), "");
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    expect(readFileSync(join(sandbox, "stdout"), "utf8")).toBe("abc"); // O_APPEND: no hole where the old bytes were
  });

  it("discards a task silently and removes its sandbox once it is gone; serves a live task's files", async () => {
    const { runtime, reports, root } = setup();
    const task = simTask("echo hello; sleep 1000");
    runtime.start(task);
    runtime.startQueued();
    const sandbox = join(root, "sandboxes", task.info.taskId);
    await until("the output", () => sizeOf(join(sandbox, "stdout")) > 0);
    const pid = runtime.processes()[0]!.taskPid!;
    await expect(runtime.files.sandboxOf(task.info.taskId, "agent-1")).resolves.toEqual({ path: sandbox, pid, ended: false });
    const chunk = await runtime.files.readFile(task.info.taskId, "agent-1", "stdout", 0, 100);
    expect(Buffer.from(chunk!.data).toString()).toBe("hello\n");
    await expect(runtime.files.sandboxOf("unknown-task", "agent-1")).resolves.toBeUndefined();

    runtime.discard(task);
    await until("the sandbox removed", () => !existsSync(sandbox));
    expect(reports.map((r) => r.state)).toEqual(["TASK_RUNNING"]);
    expect(groupMembers(pid)).toEqual([]);
  });

  it("removes the ended sandboxes of released namespaces only", async () => {
    const { runtime, states, root } = setup();
    const reserved = (ns: string): TaskInfo["resources"] => [
      { name: "cpus", type: "SCALAR", scalar: 0.1, reservations: [{ type: "DYNAMIC", role: "r", labels: { namespace: ns } }] },
    ];
    const gone = simTask("true", { resources: reserved("gone") });
    const kept = simTask("true", { resources: reserved("kept") });
    const live = simTask("sleep 1000", { resources: reserved("gone") });
    for (const t of [gone, kept, live]) runtime.start(t);
    runtime.startQueued();
    await until("two ended", () => states(gone.info.taskId).length === 2 && states(kept.info.taskId).length === 2);
    runtime.collectSandboxes(new Set(["gone"]));
    expect(readdirSync(join(root, "sandboxes")).sort()).toEqual([kept.info.taskId, live.info.taskId].sort());
  });
});

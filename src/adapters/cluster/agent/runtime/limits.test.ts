/**
 * rlimits and resource limits of real task processes: an rlimit shows in /proc/<pid>/limits of
 * the command, a memory and cpu limit in the task's cgroup (this machine has cgroups and the
 * tests run as root, so those assertions run here), the cgroup goes with the task, and a task
 * over its memory limit is reported as such.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cgroupSupport, taskCgroupDirs } from "./cgroups.js";
import { prlimitArgs } from "./rlimits.js";
import { tempDir } from "../../../../../test/use-temp-dir.js";
import { setup, simTask, until } from "./runtime-test-kit.js";
import { releaseGate, spawnWrapped } from "./wrapper.js";

/** The soft and hard value of one line of /proc/<pid>/limits. */
function limitOf(limits: string, what: string): [string, string] {
  const line = limits.split("\n").find((l) => l.startsWith(what));
  const [soft, hard] = (line ?? "").slice(what.length).trim().split(/\s+/);
  return [soft ?? "", hard ?? ""];
}

describe("rlimits", () => {
  it("maps Mesos rlimit types to prlimit, absent soft and hard being unlimited, and refuses what it cannot set", () => {
    expect(prlimitArgs([{ type: "RLMT_NOFILE", soft: 1024, hard: 2048 }, { type: "RLMT_CORE" }, { type: "RLMT_STACK", soft: 8388608 }])).toEqual({
      args: ["--nofile=1024:2048", "--core=unlimited:unlimited", "--stack=8388608:8388608"],
    });
    expect(prlimitArgs([{ type: "RLMT_NOFILE", soft: 10, hard: 5 }])).toEqual({ error: "rlimit RLMT_NOFILE: soft 10 is above hard 5" });
    expect(prlimitArgs([{ type: "RLMT_BOGUS" }])).toEqual({ error: "rlimit RLMT_BOGUS is not one this agent can set" });
  });

  it("applies them to the command's process before it runs", async () => {
    const { runtime, states, root } = setup();
    const command = "cat /proc/$$/limits > limits";
    const task = simTask(command, {
      container: { type: "MESOS", rlimitInfo: { rlimits: [{ type: "RLMT_NOFILE", soft: 1024, hard: 2048 }, { type: "RLMT_CORE" }] } },
    });
    runtime.start(task);
    runtime.startQueued();
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    const limits = readFileSync(join(root, "sandboxes", task.info.taskId, "limits"), "utf8");
    expect(limitOf(limits, "Max open files")).toEqual(["1024", "2048"]);
    expect(limitOf(limits, "Max core file size")).toEqual(["unlimited", "unlimited"]);
  });

  it("fails the launch of a task whose rlimits cannot be set", () => {
    const { runtime, reports } = setup();
    const task = simTask("true", { container: { type: "MESOS", rlimitInfo: { rlimits: [{ type: "RLMT_NOFILE", soft: 9, hard: 1 }] } } });
    runtime.start(task);
    runtime.startQueued();
    expect(reports).toEqual([
      { taskId: task.info.taskId, state: "TASK_FAILED", extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: "rlimit RLMT_NOFILE: soft 9 is above hard 1" } },
    ]);
  });
});

describe("resource limits in cgroups", () => {
  it("are supported for root where the memory and cpu controllers are mounted", () => {
    const mounted = existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") || existsSync("/sys/fs/cgroup/cgroup.controllers");
    if (process.getuid?.() === 0 && mounted) expect(cgroupSupport()).toEqual({ ok: true });
    else expect(cgroupSupport()).toMatchObject({ ok: false, why: expect.any(String) });
  });

  it("puts a limited task's processes into its cgroup with its limits, and removes the cgroup when it ends", async () => {
    const { runtime, states, root } = setup();
    const command = "cat /proc/$$/cgroup > cgroup; sleep 1000";
    const task = simTask(command, { limits: { mem: 64, cpus: 0.5 } });
    const unlimited = simTask("true", { limits: { mem: Infinity, cpus: Infinity } });
    runtime.start(task);
    runtime.start(unlimited);
    runtime.startQueued();
    const sandbox = join(root, "sandboxes", task.info.taskId);
    await until("the command", () => existsSync(join(sandbox, "cgroup")) && readFileSync(join(sandbox, "cgroup"), "utf8").length > 0);
    await until("the unlimited task's end", () => states(unlimited.info.taskId).length === 2);
    expect(states(unlimited.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    expect(taskCgroupDirs(unlimited.info.taskId).some((d) => existsSync(d))).toBe(false);
    const support = cgroupSupport();
    if (support.ok) {
      const [memory, cpu] = taskCgroupDirs(task.info.taskId);
      expect(readFileSync(join(memory!, "memory.limit_in_bytes"), "utf8").trim()).toBe(String(64 * 1024 * 1024));
      expect(readFileSync(join(cpu!, "cpu.cfs_quota_us"), "utf8").trim()).toBe("50000");
      expect(readFileSync(join(sandbox, "cgroup"), "utf8")).toMatch(new RegExp(`^\\d+:memory:/corral/${task.info.taskId}$`, "m"));
      // The wrapper, its shell and the sleep: the whole group is inside.
      const pid = runtime.processes()[0]!.taskPid!;
      expect(readFileSync(join(memory!, "cgroup.procs"), "utf8").split("\n")).toContain(String(pid));
    } else {
      expect(states(task.info.taskId)).toEqual(["TASK_RUNNING"]); // launched without limits
    }
    runtime.kill(task);
    await until("KILLED", () => states(task.info.taskId).length === 2);
    await until("the cgroup removed", () => taskCgroupDirs(task.info.taskId).every((d) => !existsSync(d)));
  });

  it("ends what a limited task left running outside its process group (setsid) and removes its cgroup", async () => {
    if (!cgroupSupport().ok) return;
    const { runtime, states, root } = setup();
    const marker = `1000.${process.pid}7`;
    const task = simTask(`setsid sleep ${marker} & echo $! > escaped.pid; exit 0`, { limits: { mem: 64 } });
    runtime.start(task);
    runtime.startQueued();
    await until("the end", () => states(task.info.taskId).length === 2);
    const pid = Number(readFileSync(join(root, "sandboxes", task.info.taskId, "escaped.pid"), "utf8").trim());
    await until("the escaped process killed and the cgroup removed", () => !existsSync(`/proc/${pid}/cmdline`) && taskCgroupDirs(task.info.taskId).every((d) => !existsSync(d)), 10_000);
  });

  it("reports a task the kernel killed for going over its memory limit", async () => {
    const { runtime, reports, states } = setup();
    // tail keeps a line until its end: a line of 200 MB of zeros does not fit in 16 MB.
    const task = simTask("head -c 200000000 /dev/zero | tail", { limits: { mem: 16 } });
    runtime.start(task);
    runtime.startQueued();
    await until("the end", () => states(task.info.taskId).length === 2, 30_000);
    if (cgroupSupport().ok) {
      expect(reports[1]).toEqual({
        taskId: task.info.taskId,
        state: "TASK_FAILED",
        extra: { reason: "REASON_CONTAINER_LIMITATION_MEMORY", message: "the task went over its memory limit of 16 MB and was killed" },
      });
    } else {
      expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
    }
    await until("the cgroup removed", () => taskCgroupDirs(task.info.taskId).every((d) => !existsSync(d)));
  });
});

describe("the gated wrapper", () => {
  it("runs the command only on the agent's go: without it (setup failed, or the agent died) nothing runs and no status is written", async () => {
    const dir = tempDir("agent-rt-gate");
    const exits: (number | null)[] = [];
    for (const go of [false, true]) {
      const sandbox = join(dir, String(go));
      mkdirSync(sandbox);
      const child = spawnWrapped({ command: "touch ran", sandbox, env: { PATH: "/usr/bin:/bin" }, account: undefined, gated: true });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      releaseGate(child, go);
      exits.push(await exited);
    }
    expect(exits).toEqual([125, 0]);
    expect(readdirSync(join(dir, "false")).sort()).toEqual(["stderr", "stdout"]);
    expect(readdirSync(join(dir, "true")).sort()).toEqual(["exit", "ran", "stderr", "stdout"]);
  });
});

describe("container settings the local agent has no use for", () => {
  it("leaves out what the local agent cannot do (image, networks, Linux settings, discovery) and runs the task all the same", async () => {
    const { runtime, states } = setup();
    const task = simTask("true", {
      container: {
        type: "MESOS",
        image: "alpine:3",
        networkInfos: [{ name: "dcos", portMappings: [{ hostPort: 0, containerPort: 80 }] }],
        linuxInfo: { sharePidNamespace: true, seccomp: { unconfined: true }, ipcMode: "PRIVATE", shmSize: 64 },
      },
      discovery: { visibility: "EXTERNAL", name: "t" },
    });
    runtime.start(task);
    runtime.startQueued();
    await until("FINISHED", () => states(task.info.taskId).length === 2);
    expect(states(task.info.taskId)).toEqual(["TASK_RUNNING", "TASK_FINISHED"]);
  });
});

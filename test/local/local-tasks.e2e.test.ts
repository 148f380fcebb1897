/**
 * What the local agent does to task processes: the kill grace period and the process-group
 * kill, health checks that kill, readiness checks that hold a step back, ports in the
 * environment, the task's user, and accounting that never offers more than the agents have.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lookupUser } from "../../src/adapters/cluster/agent/runtime/sandbox.js";
import { isAlive, killEverything, startLocal, tempDataDir, waitFor } from "./local-harness.js";
import type { LocalRun } from "./local-harness.js";

const runs: LocalRun[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

async function start(options: { agents?: number; canSwitchUser?: boolean } = {}): Promise<LocalRun> {
  const dir = tempDataDir();
  dirs.push(dir);
  const run = await startLocal(dir, options);
  runs.push(run);
  return run;
}

function spec(task: string, pod = ""): string {
  return `name: {{SERVICE_NAME}}\npods:\n  app:\n    count: 1\n${pod}    tasks:\n      main:\n${task}`;
}

async function deployed(run: LocalRun, name: string): Promise<void> {
  await waitFor(`${name} deployed`, () => run.scheduler.getPlan(name, "deploy").status === "COMPLETE");
}

function liveTask(run: LocalRun) {
  return waitFor("a running task with a pid", () => {
    const [t] = run.cluster.tasks();
    return t?.pid !== undefined && t.state === "TASK_RUNNING" && t;
  });
}

describe("local agent tasks", () => {
  it("kills the task's whole process group: SIGTERM first, SIGKILL after the kill grace period", async () => {
    const run = await start();
    // The shell traps TERM and stays; its background child ignores nothing and dies with the group.
    const task = `        goal: RUNNING
        cmd: |
          trap 'echo term >> got-term' TERM
          sleep 1000 &
          echo $! > child.pid
          while true; do sleep 0.1; done
        cpus: 0.1
        memory: 32
        kill-grace-period: 1
`;
    await run.scheduler.putService({ name: "trap", spec: spec(task), parameters: {} });
    await deployed(run, "trap");
    const t = await liveTask(run);
    const childPid = Number(await waitFor("child pid", () => existsSync(join(t.sandbox, "child.pid")) && readFileSync(join(t.sandbox, "child.pid"), "utf8").trim()));
    await run.cluster.driver.kill(t.taskId, t.agentId);
    await waitFor("SIGTERM seen", () => existsSync(join(t.sandbox, "got-term")));
    expect(isAlive(t.pid!)).toBe(true); // still in its grace period
    await waitFor("the group killed", () => !isAlive(t.pid!) && !isAlive(childPid));
    const killed = await waitFor("TASK_KILLED", () => run.cluster.statuses.find((s) => s.taskId === t.taskId && s.state === "TASK_KILLED"));
    expect(killed.message).toMatch(/killed/);
  });

  it("kills a task whose health check fails and the recovery plan relaunches it", async () => {
    const run = await start();
    const task = `        goal: RUNNING
        cmd: exec sleep 1000
        cpus: 0.1
        memory: 32
        health-check:
          cmd: test -f "$MESOS_SANDBOX/../healthy-flag"
          interval: 1
          grace-period: 0
          delay: 0
          timeout: 5
          max-consecutive-failures: 2
`;
    await run.scheduler.putService({ name: "sick", spec: spec(task), parameters: {} });
    await deployed(run, "sick");
    const first = await liveTask(run);
    const second = await waitFor("a relaunched task", () => {
      const [t] = run.cluster.tasks();
      return t && t.taskId !== first.taskId && t;
    });
    expect(isAlive(first.pid!)).toBe(false);
    expect(second.taskId).not.toBe(first.taskId);
    const ended = run.cluster.statuses.find((s) => s.taskId === first.taskId && s.state === "TASK_KILLED");
    expect(ended?.healthy).toBe(false);
    expect(run.scheduler.getPlan("sick", "recovery").phases.length).toBeGreaterThan(0);
  });

  it("holds a RUNNING step back until its readiness check passes", async () => {
    const run = await start();
    const task = `        goal: RUNNING
        cmd: exec sleep 1000
        cpus: 0.1
        memory: 32
        readiness-check:
          cmd: echo run >> checks; test -f ready
          interval: 1
          delay: 0
          timeout: 5
`;
    await run.scheduler.putService({ name: "slow", spec: spec(task), parameters: {} });
    const t = await liveTask(run);
    // Running, two checks have failed, and the step is not done.
    await waitFor("two readiness checks", () => existsSync(join(t.sandbox, "checks")) && readFileSync(join(t.sandbox, "checks"), "utf8").split("\n").length > 2);
    expect(run.scheduler.getPlan("slow", "deploy").status).not.toBe("COMPLETE");
    writeFileSync(join(t.sandbox, "ready"), "");
    await deployed(run, "slow");
  });

  it("gives the task its assigned port in the environment", async () => {
    const run = await start();
    const task = `        goal: RUNNING
        cmd: echo "$PORT_HTTP" > port && exec sleep 1000
        cpus: 0.1
        memory: 32
        ports:
          http:
            port: 0
`;
    await run.scheduler.putService({ name: "web", spec: spec(task), parameters: {} });
    await deployed(run, "web");
    const t = await liveTask(run);
    const port = Number(await waitFor("port file", () => existsSync(join(t.sandbox, "port")) && readFileSync(join(t.sandbox, "port"), "utf8").trim()));
    expect(port).toBeGreaterThanOrEqual(31000);
    expect(port).toBeLessThanOrEqual(31999);
    const ports = t.info.resources.find((r) => r.name === "ports");
    expect(ports?.ranges?.[0]?.begin).toBe(port);
  });

  it("runs the task as the pod's user when the scheduler is root, else as the scheduler's user", async () => {
    const root = process.getuid!() === 0;
    const run = await start({ canSwitchUser: root });
    const task = `        goal: RUNNING
        cmd: id -u > uid && exec sleep 1000
        cpus: 0.1
        memory: 32
`;
    await run.scheduler.putService({ name: "who", spec: spec(task, "    user: nobody\n"), parameters: {} });
    await deployed(run, "who");
    const t = await liveTask(run);
    const uid = Number(await waitFor("uid file", () => existsSync(join(t.sandbox, "uid")) && readFileSync(join(t.sandbox, "uid"), "utf8").trim()));
    expect(uid).toBe(root ? lookupUser("nobody")!.uid : process.getuid!());
  });

  it("never offers more than the agents have: a pod that does not fit waits, the others deploy", async () => {
    const run = await start({ agents: 2 }); // 4 cpus split: 2 each
    const task = (cpus: number) => `        goal: RUNNING
        cmd: exec sleep 1000
        cpus: ${cpus}
        memory: 32
`;
    await run.scheduler.putService({ name: "a", spec: spec(task(1.5)), parameters: {} });
    await run.scheduler.putService({ name: "b", spec: spec(task(1.5)), parameters: {} });
    await deployed(run, "a");
    await deployed(run, "b");
    const agents = new Set(run.cluster.tasks().map((t) => t.agentId));
    expect(agents.size).toBe(2); // 1.5 + 1.5 does not fit one agent of 2 cpus
    const declines = run.cluster.counts.declines;
    await run.scheduler.putService({ name: "c", spec: spec(task(1)), parameters: {} });
    await waitFor("three more offer rounds", () => run.cluster.counts.declines >= declines + 3);
    expect(run.scheduler.getPlan("c", "deploy").status).not.toBe("COMPLETE");
    expect(run.cluster.tasks()).toHaveLength(2);
  });
});

describe("users", () => {
  it("reads accounts from /etc/passwd", () => {
    expect(lookupUser("root")).toEqual({ uid: 0, gid: 0 });
    expect(lookupUser("no-such-user-here")).toBeUndefined();
  });
});

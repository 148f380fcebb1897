import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SchedulerError } from "../../../domain/errors.js";
import { tempDir } from "../../../../test/use-temp-dir.js";
import { encodeAccept } from "../mesos/json-codec-calls.js";
import type { Json } from "../mesos/json-codec.js";
import { agentStatus, ensureAgent, stopAgent } from "./daemon.js";
import { ackUntil, call, eventually, processesWith, subscribeBody, Subscription } from "./test-kit.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await stopAgent(d, { killTasks: true });
});

function stateDir(): string {
  const d = tempDir("agentd");
  dirs.push(d);
  return d;
}

describe("the agent daemon", () => {
  it("starts once per state directory, refuses other options, tells its status and stops with its tasks", async () => {
    const dir = stateDir();
    expect(await agentStatus(dir)).toMatchObject({ running: false });
    const first = await ensureAgent({ stateDir: dir, agents: 1 });
    expect(first.started).toBe(true);
    expect(first.socketPath).toBe(join(dir, "agent.sock"));
    const info = JSON.parse(readFileSync(join(dir, "agent.json"), "utf8")) as { pid: number; procStart: string; config: { agents: number } };
    expect(info.pid).toBe(first.pid);
    expect(info.config.agents).toBe(1);

    const again = await ensureAgent({ stateDir: dir, agents: 1 });
    expect(again).toEqual({ socketPath: first.socketPath, pid: first.pid, started: false });
    const refused = await ensureAgent({ stateDir: dir, agents: 3 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SchedulerError);
    expect((refused as SchedulerError).code).toBe("failed_precondition");
    expect((refused as SchedulerError).message).toMatch(/runs with --local-agents 1; this scheduler asks for 3.*corral agent stop --agent-dir/);
    const otherPorts = await ensureAgent({ stateDir: dir, agents: 1, ports: "9000-9100", preReserved: "pool:cpus=1" }).catch((e: unknown) => e);
    expect((otherPorts as SchedulerError).message).toMatch(/runs with no --agent-ports; this scheduler asks for --agent-ports '9000-9100', and runs with no --agent-pre-reserved; this scheduler asks for --agent-pre-reserved 'pool:cpus=1'/);
    expect(await ensureAgent({ stateDir: dir, agents: 1, secretsDir: join(dir, "secrets") })).toMatchObject({ started: false });

    // A second daemon on the same directory gives up: the lock is held.
    const main = new URL("./main.ts", import.meta.url).pathname;
    const second = spawnSync(process.execPath, ["--import", import.meta.resolve("tsx"), main, "--state-dir", dir, "--local-agents", "1"], { encoding: "utf8", timeout: 15_000 });
    expect(second.status).toBe(3);

    // A task, then stop with killTasks: nothing is left.
    const sub = await Subscription.open(first.socketPath, subscribeBody());
    const frameworkId = (await sub.next("subscribed")).frameworkId;
    const offer = (await sub.next("offers")).offers[0]!;
    const marker = `1000.${process.pid}9`;
    const task = { name: "t", taskId: "svc__d1", agentId: offer.agentId, resources: [{ name: "cpus", type: "SCALAR" as const, scalar: 0.1 }], command: { value: `exec sleep ${marker}`, environment: {} }, labels: {} };
    const executor = { executorId: "e", frameworkId, resources: [{ name: "mem", type: "SCALAR" as const, scalar: 32 }], labels: {} };
    await call(first.socketPath, sub.streamId, encodeAccept(frameworkId, [offer.id], [{ type: "LAUNCH_GROUP", executor, tasks: [task] }]) as Json);
    await ackUntil(sub, first.socketPath, frameworkId, "svc__d1", "TASK_RUNNING");
    await eventually(() => processesWith(marker).length === 1 || undefined, 5000, "the task");
    const status = await agentStatus(dir);
    expect(status).toMatchObject({ running: true, pid: first.pid, tasks: 1, config: { stateDir: dir, agents: 1, heartbeatIntervalS: 15 } });
    sub.close();

    expect(await stopAgent(dir, { killTasks: true })).toBe(true);
    expect(existsSync(first.socketPath)).toBe(false);
    await eventually(() => processesWith(marker).length === 0 || undefined, 5000, "the task to be killed");
    expect(await agentStatus(dir)).toMatchObject({ running: false });
    expect(await stopAgent(dir)).toBe(false);
  });
});

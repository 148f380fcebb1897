/**
 * A task group the codec refuses (what the Mesos master or its agent would refuse) ends at once
 * with the refusal's status, and nothing of it runs; the other operations of the ACCEPT apply.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Resource, TaskInfo } from "../../../domain/cluster.js";
import { tempDir } from "../../../../test/use-temp-dir.js";
import { encodeAccept } from "../mesos/json-codec-calls.js";
import type { Json } from "../mesos/json-codec.js";
import type { LocalAgent } from "./agent.js";
import { call, closeAgents, startTestAgent, subscribeBody, Subscription } from "./test-kit.js";

const running: LocalAgent[] = [];
const subs: Subscription[] = [];

afterEach(() => closeAgents(running, subs));

const unreserved = (name: string, scalar: number): Resource => ({ name, type: "SCALAR", scalar });

async function refusedStatus(task: Partial<TaskInfo>, taskId = "svc__bad-1"): Promise<{ state: string; reason?: string; message?: string; processes: number }> {
  const a = await startTestAgent(tempDir("agent"));
  running.push(a);
  const sub = await Subscription.open(a.socketPath, subscribeBody());
  subs.push(sub);
  const frameworkId = (await sub.next("subscribed")).frameworkId;
  const offer = (await sub.next("offers")).offers[0]!;
  const info: TaskInfo = {
    name: "server",
    taskId,
    agentId: offer.agentId,
    resources: [unreserved("cpus", 0.5), unreserved("mem", 64)],
    command: { value: "exec sleep 1000", environment: {} },
    labels: {},
    ...task,
  };
  const executor = { executorId: "svc__exec-1", frameworkId, resources: [unreserved("cpus", 0.1), unreserved("mem", 32), unreserved("disk", 8)], labels: {} };
  const accept = encodeAccept(frameworkId, [offer.id], [{ type: "LAUNCH_GROUP", executor, tasks: [info] }]) as Json;
  expect((await call(a.socketPath, sub.streamId, accept)).status).toBe(202);
  const update = await sub.next("update", (e) => e.status.taskId === taskId);
  return { state: update.status.state, ...(update.status.reason ? { reason: update.status.reason } : {}), ...(update.status.message ? { message: update.status.message } : {}), processes: a.processes().length };
}

describe("task groups the local agent refuses as Mesos does", () => {
  it("a limit below the request is the master's TASK_ERROR (REASON_TASK_GROUP_INVALID); nothing runs", async () => {
    const s = await refusedStatus({ limits: { cpus: 0.1 } });
    expect(s).toMatchObject({ state: "TASK_ERROR", reason: "REASON_TASK_GROUP_INVALID", processes: 0 });
    expect(s.message).toMatch(/limit/i);
  });

  it("an rlimit with soft above hard fails the launch (TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED)", async () => {
    const s = await refusedStatus({ container: { type: "MESOS", rlimitInfo: { rlimits: [{ type: "RLMT_NOFILE", soft: 200, hard: 100 }] } } });
    expect(s).toMatchObject({ state: "TASK_FAILED", reason: "REASON_CONTAINER_LAUNCH_FAILED", processes: 0 });
  });

  it("a task ID that could name a path outside the agent's directories is the master's TASK_ERROR", async () => {
    for (const id of ["../../etc", "a/b", ".."]) {
      const s = await refusedStatus({}, id);
      expect(s).toMatchObject({ state: "TASK_ERROR", reason: "REASON_TASK_GROUP_INVALID", processes: 0 });
      expect(s.message).toMatch(/invalid characters|disallowed/);
    }
  });
});

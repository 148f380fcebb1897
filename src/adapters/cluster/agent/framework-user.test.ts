/**
 * Through the agent's scheduler API: a framework that subscribed with user `nobody` gets its
 * tasks run as nobody unless a task's command names its own user (root here), as on Mesos,
 * when the agent runs as root; the task processes' real uids say so.
 */
import { readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Resource, TaskInfo } from "../../../domain/cluster.js";
import { tempDir } from "../../../../test/use-temp-dir.js";
import { encodeAccept } from "../mesos/json-codec-calls.js";
import type { Json } from "../mesos/json-codec.js";
import type { LocalAgent } from "./agent.js";
import { ackUntil, call, eventually, killTaskProcesses, processesWith, startTestAgent, subscribeBody, Subscription } from "./test-kit.js";

const isRoot = process.getuid?.() === 0;
const NOBODY_UID = 65534;
let agent: LocalAgent | undefined;
let sub: Subscription | undefined;

afterEach(async () => {
  sub?.close();
  if (agent) {
    killTaskProcesses(agent);
    await agent.close();
  }
  agent = sub = undefined;
});

const reserved = (name: string, scalar: number, id: string): Resource => ({
  name,
  type: "SCALAR",
  scalar,
  reservations: [{ type: "DYNAMIC", role: "test-role", principal: "test", labels: { resource_id: `${name}-${id}`, namespace: "svc" } }],
});

/** The real uid of a live process. */
const uidOf = (pid: number): number => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

describe("the framework's user on the local agent", () => {
  it("runs a task without a command user as the framework's user, and one naming root as root", async () => {
    const dir = tempDir("agent");
    agent = await startTestAgent(dir, { canSwitchUser: isRoot });
    const a = agent;
    const s = (sub = await Subscription.open(a.socketPath, subscribeBody(undefined, { user: "nobody" })));
    const frameworkId = (await s.next("subscribed")).frameworkId;
    const offer = (await s.next("offers")).offers[0]!;
    const markers = { plain: `1000.${process.pid}71`, asRoot: `1000.${process.pid}72` };
    const task = (taskId: string, marker: string, user?: string): TaskInfo => ({
      name: taskId,
      taskId,
      agentId: offer.agentId,
      resources: [reserved("cpus", 0.2, taskId), reserved("mem", 32, taskId)],
      // By absolute path: the agent's directories above the sandbox let the task's user pass.
      command: { value: `id -un > "$MESOS_SANDBOX/whoami"; exec sleep ${marker}`, environment: {}, ...(user !== undefined ? { user } : {}) },
      labels: {},
    });
    const tasks = [task("svc__plain", markers.plain), task("svc__root", markers.asRoot, "root")];
    const executor = { executorId: "svc-exec", frameworkId, resources: [{ name: "cpus", type: "SCALAR" as const, scalar: 0.1 }, { name: "mem", type: "SCALAR" as const, scalar: 32 }], labels: {} };
    const accept = encodeAccept(frameworkId, [offer.id], [
      { type: "RESERVE", resources: tasks.flatMap((t) => t.resources) },
      { type: "LAUNCH_GROUP", executor, tasks },
    ]) as Json;
    expect((await call(a.socketPath, s.streamId, accept)).status).toBe(202);
    await ackUntil(s, a.socketPath, frameworkId, "svc__plain", "TASK_RUNNING");
    await ackUntil(s, a.socketPath, frameworkId, "svc__root", "TASK_RUNNING");

    const [plain] = await eventually(() => (processesWith(markers.plain).length === 1 ? processesWith(markers.plain) : undefined), 5000, "the plain task");
    const [asRoot] = await eventually(() => (processesWith(markers.asRoot).length === 1 ? processesWith(markers.asRoot) : undefined), 5000, "the root task");
    expect(uidOf(plain!)).toBe(isRoot ? NOBODY_UID : process.getuid?.());
    expect(uidOf(asRoot!)).toBe(isRoot ? 0 : process.getuid?.());
    const whoami = (taskId: string): string => readFileSync(join(dir, "frameworks", frameworkId, "sandboxes", taskId, "whoami"), "utf8");
    expect(whoami("svc__plain")).toBe(`${isRoot ? "nobody" : userInfo().username}\n`);
    // Passable for the task's user, not listable; the agent's own files stay 0600.
    expect(statSync(dir).mode & 0o777).toBe(isRoot ? 0o711 : 0o700);
    expect(statSync(join(dir, "frameworks", frameworkId, "cluster.json")).mode & 0o777).toBe(0o600);
    expect(whoami("svc__root")).toBe(`${isRoot ? "root" : userInfo().username}\n`);
  });
});

/**
 * A mono scheduler's reservations carry no namespace label: when they are released, the ended
 * sandboxes of the tasks that ran on them still go (keyed by the framework-named service).
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Resource, TaskInfo } from "../../../domain/cluster.js";
import { tempDir } from "../../../../test/use-temp-dir.js";
import { encodeAccept } from "../mesos/json-codec-calls.js";
import type { Json } from "../mesos/json-codec.js";
import type { LocalAgent } from "./agent.js";
import { ackUntil, call, eventually, closeAgents, startTestAgent, subscribeBody, Subscription } from "./test-kit.js";

const running: LocalAgent[] = [];
const subs: Subscription[] = [];

afterEach(() => closeAgents(running, subs));

describe("sandboxes of unlabelled reservations", () => {
  it("go once the reservations are released", async () => {
    const dir = tempDir("agent-unlabelled");
    const a = await startTestAgent(dir);
    running.push(a);
    // A foldered framework name: its service's task IDs carry the sanitized form.
    const sub = await Subscription.open(a.socketPath, subscribeBody(undefined, { name: "/team/fw" }));
    subs.push(sub);
    const frameworkId = (await sub.next("subscribed")).frameworkId;
    const reserved = (name: string, scalar: number): Resource => ({
      name,
      type: "SCALAR",
      scalar,
      reservations: [{ type: "DYNAMIC", role: "test-role", principal: "test", labels: { resource_id: `${name}-1`, framework_id: frameworkId } }],
    });
    const offer = (await sub.next("offers")).offers[0]!;
    const taskId = "team.fw__hello-0-server__u1";
    const task: TaskInfo = { name: "hello-0-server", taskId, agentId: offer.agentId, resources: [reserved("cpus", 0.5), reserved("mem", 64)], command: { value: "true", environment: {} }, labels: {} };
    const executor = { executorId: "team.fw__hello__e1", frameworkId, resources: [{ name: "cpus", type: "SCALAR" as const, scalar: 0.1 }, { name: "mem", type: "SCALAR" as const, scalar: 32 }], labels: {} };
    const accept = encodeAccept(frameworkId, [offer.id], [{ type: "RESERVE", resources: task.resources }, { type: "LAUNCH_GROUP", executor, tasks: [task] }], { refuseSeconds: 0 });
    expect((await call(a.socketPath, sub.streamId, accept as Json)).status).toBe(202);
    await ackUntil(sub, a.socketPath, frameworkId, taskId, "TASK_FINISHED");
    const [fwDir] = readdirSync(join(dir, "frameworks"));
    const sandbox = join(dir, "frameworks", fwDir!, "sandboxes", taskId);
    expect(existsSync(sandbox)).toBe(true);

    const again = await sub.next("offers", (e) => e.offers.some((o) => o.resources.some((r) => r.reservations?.at(-1)?.labels["resource_id"] === "cpus-1")), 0, 10_000);
    const withReserved = again.offers.find((o) => o.resources.some((r) => r.reservations?.length))!;
    const ours = withReserved.resources.filter((r) => r.reservations?.at(-1)?.labels["resource_id"] !== undefined);
    const release = encodeAccept(frameworkId, [withReserved.id], [{ type: "UNRESERVE", resources: ours }]);
    expect((await call(a.socketPath, sub.streamId, release as Json)).status).toBe(202);
    await eventually(() => !existsSync(sandbox) || undefined, 5000, "the sandbox to go");
  });
});

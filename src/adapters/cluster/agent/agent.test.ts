import { rmSync, symlinkSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { Resource, TaskInfo } from "../../../domain/cluster.js";
import { tempDir } from "../../../../test/use-temp-dir.js";
import { encodeAccept, encodeKill, encodeReconcile } from "../mesos/json-codec-calls.js";
import type { Json } from "../mesos/json-codec.js";
import type { MesosOffer } from "../mesos/json-codec-events.js";
import type { LocalAgent } from "./agent.js";
import { setChaos } from "./chaos-client.js";
import { ackUntil, call, eventually, closeAgents, operator, processesWith, raw, startTestAgent, subscribeBody, Subscription } from "./test-kit.js";

const running: LocalAgent[] = [];
const subs: Subscription[] = [];

afterEach(() => closeAgents(running, subs));

async function start(dir: string, extra: Parameters<typeof startTestAgent>[1] = {}): Promise<LocalAgent> {
  const a = await startTestAgent(dir, extra);
  running.push(a);
  return a;
}

async function open(a: LocalAgent, id?: string): Promise<{ sub: Subscription; frameworkId: string }> {
  const sub = await Subscription.open(a.socketPath, subscribeBody(id));
  subs.push(sub);
  return { sub, frameworkId: (await sub.next("subscribed")).frameworkId };
}

const reserved = (name: string, scalar: number): Resource => ({
  name,
  type: "SCALAR",
  scalar,
  reservations: [{ type: "DYNAMIC", role: "test-role", principal: "test", labels: { resource_id: `${name}-1`, namespace: "svc" } }],
});

function launch(offer: MesosOffer, frameworkId: string, taskId: string, command: string): Json {
  const task: TaskInfo = {
    name: "server",
    taskId,
    agentId: offer.agentId,
    resources: [reserved("cpus", 0.5), reserved("mem", 64)],
    command: { value: command, environment: { GREETING: "hello" } },
    labels: {},
  };
  const executor = { executorId: `${taskId}-exec`, frameworkId, resources: [{ name: "cpus", type: "SCALAR" as const, scalar: 0.1 }, { name: "mem", type: "SCALAR" as const, scalar: 32 }], labels: {} };
  return encodeAccept(frameworkId, [offer.id], [
    { type: "RESERVE", resources: [reserved("cpus", 0.5), reserved("mem", 64)] },
    { type: "LAUNCH_GROUP", executor, tasks: [task] },
  ]) as Json;
}

/** Launches one task and waits for its RUNNING update (acknowledged unless `ackRunning` is false). */
async function runTask(a: LocalAgent, sub: Subscription, frameworkId: string, taskId: string, command: string, ackRunning = true): Promise<string> {
  const offers = await sub.next("offers");
  const offer = offers.offers[0]!;
  expect(offer.allocationRole).toBe("test-role");
  expect((await call(a.socketPath, sub.streamId, launch(offer, frameworkId, taskId, command))).status).toBe(202);
  // Head-of-line delivery: each update comes once the one before is acknowledged.
  const update = await ackUntil(sub, a.socketPath, frameworkId, taskId, "TASK_RUNNING", ackRunning);
  expect(Buffer.from(update.status.uuid!, "base64")).toHaveLength(16);
  expect(update.status.source).toBe("SOURCE_EXECUTOR");
  return offer.agentId;
}

describe("the local agent running tasks", () => {
  it("offers, reserves, launches a real process, reports RUNNING with a uuid, and kills it", async () => {
    const a = await start(tempDir("agent"));
    const { sub, frameworkId } = await open(a);
    const marker = `1000.${process.pid}1`;
    const agentId = await runTask(a, sub, frameworkId, "svc__t1", `echo $GREETING; exec sleep ${marker}`);
    await eventually(() => processesWith(marker).length === 1 || undefined, 5000, "the task's process");
    const pendingAfterAck = await eventually(() => (a.processes()[0]?.taskPid !== undefined ? a.processes() : undefined));
    expect(pendingAfterAck).toHaveLength(1);

    // The operator API shows the task with its pid.
    const tasks = (await operator(a.socketPath, "GET_TASKS")) as { type: string; get_tasks: { tasks: Record<string, unknown>[] } };
    expect(tasks.type).toBe("GET_TASKS");
    const t = tasks.get_tasks.tasks[0] as { task_id: { value: string }; state: string; framework_id: { value: string }; statuses: { container_status?: { executor_pid: number } }[] };
    expect(t.task_id.value).toBe("svc__t1");
    expect(t.framework_id.value).toBe(frameworkId);
    expect(t.state).toBe("TASK_RUNNING");
    const taskPid = a.processes().find((p) => p.taskId === "svc__t1")?.taskPid;
    expect(taskPid).toBeGreaterThan(0);
    expect(t.statuses.at(-1)?.container_status?.executor_pid).toBe(taskPid);

    // Files: the sandbox and its stdout.
    const dir = `/frameworks/${frameworkId}/tasks/svc__t1`;
    const browse = await raw(a.socketPath, "GET", `/files/browse?path=${encodeURIComponent(dir)}`, {});
    expect(browse.status).toBe(200);
    expect((JSON.parse(browse.body) as { path: string }[]).map((f) => f.path.split("/").at(-1))).toContain("stdout");
    const out = await eventually(async () => {
      const r = await raw(a.socketPath, "GET", `/files/read?path=${encodeURIComponent(`${dir}/stdout`)}&offset=0&length=100`, {});
      const body = JSON.parse(r.body) as { data: string; offset: number };
      return body.data.includes("hello") ? body : undefined;
    });
    expect(out.offset).toBe(0);
    const end = JSON.parse((await raw(a.socketPath, "GET", `/files/read?path=${encodeURIComponent(`${dir}/stdout`)}&offset=-1`, {})).body) as { data: string; offset: number };
    expect(end).toEqual({ data: "", offset: 6 });
    expect((await raw(a.socketPath, "GET", `/files/read?path=${encodeURIComponent(`${dir}/../../x/stdout`)}`, {})).status).toBe(404);
    expect((await raw(a.socketPath, "GET", `/files/browse?path=${encodeURIComponent("/frameworks/nope/tasks/svc__t1")}`, {})).status).toBe(404);

    // A task that swaps its stdout for a link gets nothing served.
    const sandbox = (JSON.parse(browse.body) as { path: string }[]).find((f) => f.path.endsWith("/stdout"))!.path;
    rmSync(sandbox.replace(/\/stdout$/, "/stderr"), { force: true });
    symlinkSync("/etc/hostname", sandbox.replace(/\/stdout$/, "/stderr"));
    expect((await raw(a.socketPath, "GET", `/files/read?path=${encodeURIComponent(`${dir}/stderr`)}&offset=0&length=10`, {})).status).toBe(400);

    // KILL: TASK_KILLED, the process is gone.
    const from = sub.events.length;
    await call(a.socketPath, sub.streamId, encodeKill(frameworkId, "svc__t1", agentId) as Json);
    const killed = await sub.next("update", (e) => e.status.taskId === "svc__t1" && e.status.state === "TASK_KILLED", from);
    expect(killed.status.uuid).toBeDefined();
    await eventually(() => processesWith(marker).length === 0 || undefined, 5000, "the process to end");
  });

  it("re-adopts a running task after a restart on the same state directory, without a second process", async () => {
    const dir = tempDir("agent");
    const first = await start(dir);
    const { sub, frameworkId } = await open(first);
    const marker = `1000.${process.pid}2`;
    await runTask(first, sub, frameworkId, "svc__t2", `exec sleep ${marker}`, false);
    const unacked = sub.events.find((e) => e.kind === "update" && e.status.state === "TASK_RUNNING");
    const [pid] = await eventually(() => (processesWith(marker).length === 1 ? processesWith(marker) : undefined));
    const taskPid = await eventually(() => first.processes().find((p) => p.taskId === "svc__t2")?.taskPid);
    sub.close();
    await first.close();
    running.splice(running.indexOf(first), 1);
    expect(processesWith(marker)).toEqual([pid]);

    const second = await start(dir);
    expect(second.masterId).toBe(first.masterId);
    // Not subscribed until it comes back.
    const revive = { framework_id: { value: frameworkId }, type: "REVIVE" };
    expect((await call(second.socketPath, "x", revive)).status).toBe(403);
    const again = await open(second, frameworkId);
    expect(again.frameworkId).toBe(frameworkId);
    // The unacknowledged RUNNING comes again, with its uuid, right after the resubscription.
    const resent = await again.sub.next("update", (e) => e.status.taskId === "svc__t2" && e.status.state === "TASK_RUNNING");
    expect(unacked?.kind === "update" && resent.status.uuid).toBe(unacked?.kind === "update" ? unacked.status.uuid : "none");
    await call(second.socketPath, again.sub.streamId, encodeReconcile(frameworkId, [{ taskId: "svc__t2" }]) as Json);
    const answer = await again.sub.next("update", (e) => e.status.taskId === "svc__t2" && e.status.source === "SOURCE_MASTER");
    expect(answer.status.state).toBe("TASK_RUNNING");
    expect(answer.status.reason).toBe("REASON_RECONCILIATION");
    await eventually(() => second.processes().find((p) => p.taskId === "svc__t2" && p.taskPid === taskPid), 5000, "the adopted task's pid");
    expect(processesWith(marker)).toEqual([pid]);
  });

  it("offers a removed framework's reservations to the next framework of its role", async () => {
    const a = await start(tempDir("agent"));
    const { sub, frameworkId } = await open(a);
    const offer = (await sub.next("offers")).offers[0]!;
    const reserve = encodeAccept(frameworkId, [offer.id], [{ type: "RESERVE", resources: [reserved("cpus", 0.5)] }], { refuseSeconds: 0 }) as Json;
    await call(a.socketPath, sub.streamId, reserve);
    await sub.next("offers", (o) => o.offers.some((x) => x.resources.some((r) => r.reservations?.length)), 0);
    await call(a.socketPath, sub.streamId, { framework_id: { value: frameworkId }, type: "TEARDOWN" });
    await sub.closed();
    const next = await open(a);
    expect(next.frameworkId).not.toBe(frameworkId);
    const inherited = await next.sub.next("offers");
    const cpus = inherited.offers[0]!.resources.filter((r) => r.name === "cpus" && r.reservations?.length);
    expect(cpus.map((r) => [r.scalar, r.reservations?.[0]?.labels["resource_id"]])).toEqual([[0.5, "cpus-1"]]);
  });

  it("answers the operator calls in Mesos' shapes", async () => {
    const a = await start(tempDir("agent"), { agents: 2 });
    await open(a);
    const health = await operator(a.socketPath, "GET_HEALTH");
    expect(health).toEqual({ type: "GET_HEALTH", get_health: { healthy: true } });
    const agents = (await operator(a.socketPath, "GET_AGENTS")) as { get_agents: { agents: { agent_info: { id: { value: string }; hostname: string }; active: boolean }[] } };
    expect(agents.get_agents.agents.map((x) => [x.agent_info.id.value, x.agent_info.hostname, x.active])).toEqual([
      [`${a.masterId}-S0`, "testhost-agent-0", true],
      [`${a.masterId}-S1`, "testhost-agent-1", true],
    ]);
    const fws = (await operator(a.socketPath, "GET_FRAMEWORKS")) as { get_frameworks: { frameworks: { framework_info: { id: { value: string }; roles: string[] }; connected: boolean }[] } };
    expect(fws.get_frameworks.frameworks.map((f) => [f.framework_info.id.value, f.framework_info.roles, f.connected])).toEqual([[`${a.masterId}-0000`, ["test-role"], true]]);
    const state = (await operator(a.socketPath, "GET_STATE")) as { type: string; get_state: Record<string, unknown> };
    expect(state.type).toBe("GET_STATE");
    expect(Object.keys(state.get_state).sort()).toEqual(["get_agents", "get_executors", "get_frameworks", "get_tasks"]);
  });
});

describe("chaos knobs", () => {
  it("redirects, answers 503, duplicates updates, drops streams and loses agents", async () => {
    const a = await start(tempDir("agent"), { chaos: true, listen: { host: "127.0.0.1", port: 0 } });
    expect(a.tcpPort).toBeGreaterThan(0);
    const target = { url: `http://127.0.0.1:${a.tcpPort}` };
    const body = JSON.stringify(subscribeBody());
    const post = () => raw(a.socketPath, "POST", "/api/v1/scheduler", { "Content-Type": "application/json" }, body);

    expect(await setChaos(target, { redirect: "leader.example:5050" })).toMatchObject({ redirect: "leader.example:5050" });
    const moved = await post();
    expect([moved.status, moved.headers.location]).toEqual([307, "//leader.example:5050/api/v1/scheduler"]);
    await setChaos(target, { redirect: null, unavailable: true });
    expect(await post()).toMatchObject({ status: 503, body: "Master has not finished recovery" });
    await setChaos({ socketPath: a.socketPath }, { unavailable: false, split_records: true, duplicate_updates: true });

    // Split records still decode (the test reads with the driver's decoder); duplicate updates arrive twice.
    const { sub, frameworkId } = await open(a);
    const offers = await sub.next("offers");
    const offer = offers.offers[0]!;
    const marker = `1000.${process.pid}5`;
    await call(a.socketPath, sub.streamId, launch(offer, frameworkId, "svc__t3", `exec sleep ${marker}`));
    await eventually(() => processesWith(marker).length === 1 || undefined, 5000, "the task");
    const first = await sub.next("update", (e) => e.status.taskId === "svc__t3");
    const copies = () => sub.events.filter((e) => e.kind === "update" && e.status.uuid === first.status.uuid).length;
    await eventually(() => (copies() >= 2 ? true : undefined), 2000, "the duplicate update");

    // lose_agent: its offers are rescinded and its task is gone.
    await setChaos(target, { split_records: false, duplicate_updates: false });
    const from = sub.events.length;
    await setChaos(target, { lose_agent: offer.agentId });
    const gone = await sub.next("update", (e) => e.status.taskId === "svc__t3" && e.status.state === "TASK_GONE_BY_OPERATOR", from);
    expect(gone.status.reason).toBe("REASON_AGENT_REMOVED_BY_OPERATOR");
    await eventually(() => processesWith(marker).length === 0 || undefined, 5000, "the lost agent's task to stop");

    // drop_streams: the stream ends, the framework is disconnected (403) until it resubscribes.
    await setChaos(target, { drop_streams: true });
    await sub.closed();
    await eventually(async () => ((await call(a.socketPath, sub.streamId, { framework_id: { value: frameworkId }, type: "REVIVE" })).status === 403 ? true : undefined));
    await setChaos(target, { stall: true });
    const stalled = await Subscription.open(a.socketPath, subscribeBody(frameworkId));
    subs.push(stalled);
    await new Promise((r) => setTimeout(r, 100));
    expect([stalled.status, stalled.events]).toEqual([200, []]);
    await expect(setChaos(target, { redirect: "no port" })).rejects.toThrow(/400/);
  });
});

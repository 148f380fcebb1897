import { describe, expect, it } from "vitest";
import type { ExecutorInfo, Offer, Operation, Resource, TaskInfo, TaskStatus } from "../../../domain/cluster.js";
import { fullGroup, fullTask, sidecar } from "../../../../test/fixtures/mesos/launch-group.js";
import { mesosFixture } from "../../../../test/fixtures/mesos/load.js";
import {
  encodeAccept,
  encodeAcknowledge,
  encodeDecline,
  encodeKill,
  encodeReconcile,
  encodeRevive,
  encodeSubscribe,
  encodeSuppress,
  encodeTeardown,
} from "../mesos/json-codec-calls.js";
import { decodeEvent } from "../mesos/json-codec-events.js";
import type { Json } from "../mesos/json-codec.js";
import { decodeCall, frameworkInfoProblem, frameworkRoles, type AgentCall } from "./call-codec.js";
import { encodeEvent, type AgentEvent } from "./event-codec.js";
import { bytesToUuid, uuidToBase64 } from "./uuid-bytes.js";

function call(json: Json): AgentCall {
  const d = decodeCall(json);
  if (!d.ok) throw d.error;
  return d.value;
}

const reservedDisk: Resource = {
  name: "disk",
  type: "SCALAR",
  scalar: 512,
  reservations: [{ type: "DYNAMIC", role: "r", principal: "p", labels: { resource_id: "x", namespace: "svc" } }],
  disk: { persistence: { id: "vol-1", principal: "p" }, volume: { containerPath: "data", mode: "RW" } },
};
const ports: Resource = { name: "ports", type: "RANGES", ranges: [{ begin: 31000, end: 31005 }] };
const task: TaskInfo = {
  name: "server",
  taskId: "svc__pod-0-server__1",
  agentId: "M-S0",
  resources: [{ name: "cpus", type: "SCALAR", scalar: 0.5 }, reservedDisk, ports],
  command: { value: "exec sleep 10", environment: { A: "1" }, user: "nobody" },
  labels: { goal: "RUNNING" },
  healthCheck: { command: "true", intervalS: 5, timeoutS: 2, delayS: 1, gracePeriodS: 30, consecutiveFailures: 4 },
  check: { command: "test -f ready", intervalS: 3, timeoutS: 1, delayS: 0, gracePeriodS: 0, consecutiveFailures: 1 },
  killGracePeriodS: 7.5,
};
const executor: ExecutorInfo = { executorId: "e1", frameworkId: "FID", resources: [{ name: "mem", type: "SCALAR", scalar: 32 }], labels: { a: "b" } };

describe("decodeCall reads what the driver writes", () => {
  it("round-trips every call the driver sends", () => {
    const ops: Operation[] = [
      { type: "RESERVE", resources: [reservedDisk] },
      { type: "CREATE", volumes: [reservedDisk] },
      { type: "LAUNCH_GROUP", executor, tasks: [task] },
      { type: "DESTROY", volumes: [reservedDisk] },
      { type: "UNRESERVE", resources: [ports] },
    ];
    expect(call(encodeAccept("FID", ["O1", "O2"], ops, { refuseSeconds: 30 }) as Json)).toEqual({
      type: "ACCEPT",
      frameworkId: "FID",
      offerIds: ["O1", "O2"],
      operations: ops,
      filters: { refuseSeconds: 30 },
      skipped: [],
      refused: [],
    });
    expect(call(encodeDecline("FID", ["O3"]) as Json)).toEqual({ type: "DECLINE", frameworkId: "FID", offerIds: ["O3"] });
    expect(call(encodeRevive("FID", ["r"]) as Json)).toEqual({ type: "REVIVE", frameworkId: "FID", roles: ["r"] });
    expect(call(encodeSuppress("FID", []) as Json)).toEqual({ type: "SUPPRESS", frameworkId: "FID", roles: [] });
    expect(call(encodeKill("FID", "t", "A") as Json)).toEqual({ type: "KILL", frameworkId: "FID", taskId: "t", agentId: "A" });
    const uuid = "5f0c2a9e-3b7d-4c1e-8a64-0d9b2e7f3f31";
    expect(call(encodeAcknowledge("FID", "A", "t", uuidToBase64(uuid)) as Json)).toEqual({ type: "ACKNOWLEDGE", frameworkId: "FID", agentId: "A", taskId: "t", uuid });
    expect(call(encodeReconcile("FID", [{ taskId: "t" }]) as Json)).toEqual({ type: "RECONCILE", frameworkId: "FID", tasks: [{ taskId: "t" }] });
    expect(call(encodeReconcile("FID", []) as Json)).toEqual({ type: "RECONCILE", frameworkId: "FID", tasks: [] });
    expect(call(encodeTeardown("FID") as Json)).toEqual({ type: "TEARDOWN", frameworkId: "FID" });
    const sub = call(encodeSubscribe({ name: "n", role: "r", principal: "p", frameworkId: "FID", failoverTimeoutS: 60 }, { user: "u", suppressedRoles: ["r"] }) as Json);
    expect(sub).toMatchObject({ type: "SUBSCRIBE", frameworkId: "FID", suppressedRoles: ["r"], frameworkInfo: { id: "FID", user: "u", name: "n", roles: ["r"], failoverTimeoutS: 60, checkpoint: true } });
    expect(sub.type === "SUBSCRIBE" && frameworkInfoProblem(sub.frameworkInfo)).toBeUndefined();
  });

  it("reads the documented call fixtures", () => {
    const launch = call(mesosFixture("call-accept-launch-group"));
    expect(launch.type === "ACCEPT" && launch.operations[0]?.type === "LAUNCH_GROUP" && launch.operations[0].tasks[0]?.healthCheck?.gracePeriodS).toBe(60);
    for (const name of ["call-subscribe", "call-subscribe-again", "call-decline", "call-revive", "call-suppress", "call-kill", "call-acknowledge", "call-reconcile-explicit", "call-reconcile-implicit", "call-teardown", "call-accept-reserve", "call-accept-unreserve", "call-accept-create", "call-accept-destroy", "call-acknowledge-operation-status"]) {
      expect(decodeCall(mesosFixture(name)).ok, name).toBe(true);
    }
    expect(call(mesosFixture("call-acknowledge-operation-status")).type).toBe("IGNORED");
  });

  it("ignores unknown and camelCase keys, and says which required field is missing", () => {
    expect(call({ type: "REVIVE", framework_id: { value: "F" }, frameworkId: { value: "G" }, extra: 1 } as Json)).toEqual({ type: "REVIVE", frameworkId: "F", roles: [] });
    const miss = decodeCall({ type: "KILL", framework_id: { value: "F" }, kill: { taskId: { value: "t" } } } as Json);
    expect(miss.ok ? "" : miss.error.message).toMatch(/task_id: missing/);
    const bad = decodeCall({ type: "NOPE" } as Json);
    expect(bad.ok).toBe(false);
    const uuid = decodeCall({ type: "ACKNOWLEDGE", framework_id: { value: "F" }, acknowledge: { agent_id: { value: "a" }, task_id: { value: "t" }, uuid: Buffer.alloc(15).toString("base64") } } as Json);
    expect(uuid.ok ? "" : uuid.error.message).toMatch(/16-byte/);
  });

  it("finds what is wrong with a FrameworkInfo", () => {
    const base = { roles: ["r"], failoverTimeoutS: 0, checkpoint: true, capabilities: ["MULTI_ROLE"], user: "u", name: "n" };
    expect(frameworkInfoProblem(base)).toBeUndefined();
    expect(frameworkInfoProblem({ ...base, capabilities: [] })).toMatch(/MULTI_ROLE/);
    expect(frameworkInfoProblem({ ...base, roles: ["r", "r"] })).toMatch(/duplicate/);
    const { user: _u, ...noUser } = base;
    expect(frameworkInfoProblem(noUser)).toMatch(/'user'/);
  });

  it("takes a framework with several roles (pre-reserved roles' children), the main one first", () => {
    const info = { roles: ["r", "slave_public/r"], failoverTimeoutS: 0, checkpoint: true, capabilities: ["MULTI_ROLE"], user: "u", name: "n" };
    expect(frameworkInfoProblem(info)).toBeUndefined();
    expect(frameworkRoles(info)).toStrictEqual(["r", "slave_public/r"]);
    expect(frameworkRoles({ ...info, roles: [] })).toStrictEqual(["*"]);
    const sub = call(mesosFixture("call-subscribe-roles"));
    expect(sub.type === "SUBSCRIBE" && sub.frameworkInfo.roles).toStrictEqual(["svc-role", "slave_public/svc-role"]);
  });
});

/** Deletes the field an edit names. */
const DEL = Symbol("delete");
/** A path below the fixture's `launch_group` (dots; array indexes as numbers) and the value to put there. */
type Edit = readonly [path: string, value: unknown];
const T0 = "task_group.tasks.0";
const T1 = "task_group.tasks.1";

function nodeAt(root: unknown, keys: readonly string[]): Record<string, unknown> {
  return keys.reduce((node, k) => node[k] as Record<string, unknown>, root as Record<string, unknown>);
}

/** The container fixture's `launch_group`, edited. */
function launchWith(...edits: Edit[]): Json {
  const json = structuredClone(mesosFixture("call-accept-launch-group-container"));
  for (const [path, value] of edits) {
    const keys = `accept.operations.0.launch_group.${path}`.split(".");
    const node = nodeAt(json, keys.slice(0, -1));
    const last = keys[keys.length - 1]!;
    if (value === DEL) delete node[last];
    else node[last] = value;
  }
  return json;
}

function refusalOf(json: Json): { refusal: string; message: string } | undefined {
  const c = call(json);
  if (c.type !== "ACCEPT") throw new Error(c.type);
  expect(c.operations.length + c.refused.length).toBe(1);
  const r = c.refused[0];
  return r !== undefined ? { refusal: r.refusal, message: r.message } : undefined;
}

describe("LAUNCH_GROUP with container, discovery, limits, URIs and secrets", () => {
  it("reads back every field the driver writes (TaskInfo.executor stays with the operation)", () => {
    const { executor: _e, ...sent } = fullTask;
    const c = call(encodeAccept("FID", ["O"], [fullGroup]) as Json);
    expect(c).toEqual({ type: "ACCEPT", frameworkId: "FID", offerIds: ["O"], operations: [{ ...fullGroup, tasks: [sent, sidecar] }], skipped: [], refused: [] });
    expect(call(mesosFixture("call-accept-launch-group-container"))).toEqual({ ...c, offerIds: ["MID-O118"] });
  });

  it("keeps a task's own executor when it is the operation's", () => {
    const executor = nodeAt(mesosFixture("call-accept-launch-group-container"), "accept.operations.0.launch_group.executor".split("."));
    const c = call(launchWith([`${T0}.executor`, executor]));
    expect(c.type === "ACCEPT" && c.operations[0]?.type === "LAUNCH_GROUP" && c.operations[0].tasks[0]?.executor).toEqual(fullGroup.type === "LAUNCH_GROUP" && fullGroup.executor);
  });

  it.each<[string, Edit[], RegExp]>([
    ["a SECRET variable without a secret", [[`${T0}.command.environment.variables.1.secret`, DEL]], /DB_PASSWORD' of type 'SECRET' must have a secret set/],
    ["a SECRET variable with a value", [[`${T0}.command.environment.variables.1.value`, "x"]], /must not have a value set/],
    ["a SECRET volume without a secret", [[`${T0}.container.volumes.2.source.secret`, DEL]], /'source.secret' is not set for SECRET volume/],
    ["a volume of unknown source type", [[`${T0}.container.volumes.1.source.type`, "NFS"]], /'source.type' is unknown/],
    ["a cpu limit below the request", [[`${T0}.limits.cpus.value`, 0.25]], /cpu limit must be greater than or equal to the cpu request/],
    ["a mem limit below the request", [[`${T0}.limits.mem.value`, 128]], /memory limit must be greater than or equal/],
    ["a limit without its request", [[`${T0}.resources`, [{ name: "mem", type: "SCALAR", scalar: { value: 256 } }]]], /When a CPU limit is specified, a CPU request must also be specified/],
    ["a limit on another resource", [[`${T0}.limits.disk`, { value: 10 }]], /Only cpus and mem/],
    ["limits while sharing the executor's cgroups", [[`${T0}.container.linux_info.share_cgroups`, DEL], [`${T1}.container.linux_info.share_cgroups`, DEL]], /'share_cgroups' field is set to 'false'/],
    ["tasks of one group disagreeing on share_cgroups", [[`${T1}.container`, DEL]], /must be the same for all tasks/],
    ["an image on the DEFAULT executor", [["executor.container.mesos", { image: { type: "DOCKER", docker: { name: "x" } } }]], /must not have 'container.mesos.image'/],
    ["a task whose own executor differs from the operation's", [[`${T0}.executor`, { type: "DEFAULT", executor_id: { value: "other" }, framework_id: { value: "FID" } }]], /is different from executor/],
  ])("refuses %s as the master does (TASK_ERROR)", (_name, edits, message) => {
    const r = refusalOf(launchWith(...edits));
    expect(r?.refusal).toBe("TASK_ERROR");
    expect(r?.message).toMatch(message);
  });

  it.each<[string, Edit[], RegExp]>([
    ["an rlimit of unknown type", [[`${T0}.container.rlimit_info.rlimits.0.type`, "RLMT_FROM_THE_FUTURE"]], /Unknown rlimit type/],
    ["an rlimit with soft but no hard", [[`${T0}.container.rlimit_info.rlimits.0.hard`, DEL]], /soft and hard must both be set or both unset/],
    ["an rlimit with soft above hard", [[`${T0}.container.rlimit_info.rlimits.0.soft`, 9000]], /soft 9000 is greater than hard 8192/],
    ["a relative HOST_PATH", [[`${T0}.container.volumes.1.source.host_path.path`, "etc/hello"]], /HOST_PATH volume is not absolute/],
    ["an absolute SANDBOX_PATH", [[`${T0}.container.volumes.0.source.sandbox_path.path`, "/shared"]], /SANDBOX_PATH volume is absolute/],
    ["a SANDBOX_PATH going up", [[`${T0}.container.volumes.0.source.sandbox_path.path`, "a/../../b"]], /traverses upwards/],
  ])("fails the launch of %s as the agent's isolators do", (_name, edits, message) => {
    const r = refusalOf(launchWith(...edits));
    expect(r?.refusal).toBe("LAUNCH_FAILED");
    expect(r?.message).toMatch(message);
  });

  it.each<[string, Edit[], RegExp]>([
    ["an image without its required type", [[`${T0}.container.mesos.image.type`, DEL]], /image\.type: missing/],
    ["a volume without its required mode", [[`${T0}.container.volumes.0.mode`, DEL]], /volumes\[0\]\.mode: missing/],
    ["discovery without its required visibility", [[`${T0}.discovery.visibility`, DEL]], /discovery\.visibility: missing/],
    ["a DOCKER container", [[`${T0}.container.type`, "DOCKER"]], /Docker ContainerInfo is not supported/],
    ["a secret passed by value", [[`${T0}.command.environment.variables.1.secret`, { type: "VALUE", value: { data: "c2VjcmV0" } }]], /type VALUE are not supported/],
  ])("answers 400 to %s", (_name, edits, message) => {
    const d = decodeCall(launchWith(...edits));
    expect(d.ok ? "" : d.error.message).toMatch(message);
  });

  it("takes an unset rlimit (neither soft nor hard) as unlimited, and refused groups leave the other operations in order", () => {
    const good = nodeAt(launchWith([`${T0}.container.rlimit_info.rlimits`, [{ type: "RLMT_CORE" }]]), ["accept", "operations", "0"]);
    const bad = nodeAt(launchWith([`${T0}.container.rlimit_info.rlimits`, [{ type: "RLMT_CORE", soft: 1 }]]), ["accept", "operations", "0"]);
    const json = launchWith();
    nodeAt(json, ["accept"]).operations = [{ type: "RESERVE", reserve: { resources: [] } }, bad, good];
    const c = call(json);
    if (c.type !== "ACCEPT") throw new Error(c.type);
    expect(c.operations.map((o) => o.type)).toStrictEqual(["RESERVE", "LAUNCH_GROUP"]);
    expect(c.refused.map((r) => r.refusal)).toStrictEqual(["LAUNCH_FAILED"]);
    expect(c.refused[0]!.operation.tasks.map((t) => t.taskId)).toStrictEqual(["hello__hello-0-server__7a1c", "hello__hello-0-sidecar__7a1d"]);
  });
});

describe("encodeEvent writes what the driver reads", () => {
  const decode = (e: AgentEvent) => {
    const d = decodeEvent(JSON.parse(JSON.stringify(encodeEvent(e))) as Json, 0);
    if (!d.ok) throw d.error;
    return d.value;
  };

  it("round-trips SUBSCRIBED, RESCIND, ERROR and HEARTBEAT", () => {
    expect(decode({ kind: "subscribed", frameworkId: "F", heartbeatIntervalS: 2.5, master: { id: "M", hostname: "h", port: 0 } })).toEqual({ kind: "subscribed", frameworkId: "F", heartbeatIntervalS: 2.5, masterId: "M" });
    expect(decode({ kind: "rescind", offerId: "O" })).toEqual({ kind: "rescind", offerId: "O" });
    expect(decode({ kind: "error", message: "Framework failed over" })).toEqual({ kind: "error", message: "Framework failed over" });
    expect(decode({ kind: "heartbeat" })).toEqual({ kind: "heartbeat" });
    expect(encodeEvent({ kind: "error", message: "m" })).toEqual({ type: "ERROR", error: { message: "m" } });
  });

  it("round-trips OFFERS with the role on the offer and on every resource", () => {
    const offer: Offer = { id: "O1", frameworkId: "F", agentId: "A", hostname: "h", resources: [{ name: "cpus", type: "SCALAR", scalar: 1.5 }, reservedDisk, ports], attributes: { zone: "z1", rack: "r1" } };
    const json = encodeEvent({ kind: "offers", offers: [offer], role: "r" }) as { offers: { offers: unknown[] } };
    expect(json.offers.offers).toHaveLength(1);
    const d = decode({ kind: "offers", offers: [offer], role: "r" });
    expect(d).toEqual({
      kind: "offers",
      rejected: [],
      offers: [{ ...offer, allocationRole: "r", resources: offer.resources.map((r) => ({ ...r, allocationRole: "r" })), executorIds: [], setResources: [] }],
    });
  });

  it("offers a pre-reserved role's resources (STATIC, refined or not) allocated to the offer's own role", () => {
    const role = "slave_public/r";
    const stat = { type: "STATIC" as const, role: "slave_public", labels: {} };
    const cpus: Resource = { name: "cpus", type: "SCALAR", scalar: 1, reservations: [stat] };
    const mem: Resource = { name: "mem", type: "SCALAR", scalar: 64, reservations: [stat, { type: "DYNAMIC", role, principal: "p", labels: { resource_id: "m" } }] };
    const offer = { id: "O2", frameworkId: "F", agentId: "A", hostname: "h", resources: [cpus, mem] };
    const d = decode({ kind: "offers", offers: [offer, { ...offer, id: "O3", allocationRole: role }], role: "r" });
    expect(d.kind === "offers" && d.offers.map((o) => [o.allocationRole, o.resources.map((r) => (r as { allocationRole?: string }).allocationRole)])).toEqual([
      ["r", ["r", "r"]],
      [role, [role, role]],
    ]);
    expect(d.kind === "offers" && d.offers[1]!.resources.map((r) => r.reservations)).toEqual([cpus.reservations, mem.reservations]);
  });

  it("round-trips UPDATE with the uuid as base64 of its 16 bytes", () => {
    const status: TaskStatus = {
      taskId: "t",
      state: "TASK_RUNNING",
      agentId: "A",
      uuid: "5f0c2a9e-3b7d-4c1e-8a64-0d9b2e7f3f31",
      source: "SOURCE_EXECUTOR",
      reason: "REASON_TASK_CHECK_STATUS_UPDATED",
      message: "ok",
      healthy: true,
      checkStatus: { exitCode: 0 },
      labels: { readiness_check_passed: "true" },
      timestampMs: 1_718_000_000_123,
    };
    const d = decode({ kind: "update", status });
    expect(d).toEqual({ kind: "update", status: { ...status, uuid: uuidToBase64(status.uuid!) } });
    expect(Buffer.from(uuidToBase64(status.uuid!), "base64")).toHaveLength(16);
    expect(bytesToUuid(Buffer.from(uuidToBase64(status.uuid!), "base64"))).toBe(status.uuid);
    const master = decode({ kind: "update", status: { taskId: "t", state: "TASK_LOST", source: "SOURCE_MASTER", timestampMs: 1000 } });
    expect(master.kind === "update" && master.status.uuid).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import type { ExecutorInfo, Operation, Resource, TaskInfo } from "../../../domain/cluster.js";
import type { FrameworkInfo } from "../../../engine/ports.js";
import { mesosFixture } from "../../../../test/fixtures/mesos/load.js";
import type { JsonObject } from "./json-codec.js";
import {
  encodeAccept,
  encodeAcknowledge,
  encodeAcknowledgeOperationStatus,
  encodeDecline,
  encodeKill,
  encodeReconcile,
  encodeRevive,
  encodeSubscribe,
  encodeSuppress,
  encodeTeardown,
} from "./json-codec-calls.js";

const FID = "b3d1f6a2-7c41-4e0b-9a57-2f1d8c3e6a10-0000";

/** The exact wire text, parsed back: what Mesos would see (undefined fields and key order aside). */
function wire(body: JsonObject): unknown {
  return JSON.parse(JSON.stringify(body));
}

const framework: FrameworkInfo = {
  name: "multi-svc-scheduler",
  role: "svc-role",
  principal: "multi-svc-principal",
  failoverTimeoutS: 1209600,
};

const reservation = (resourceId: string) => ({
  type: "DYNAMIC" as const,
  role: "svc-role",
  principal: "multi-svc-principal",
  labels: { resource_id: resourceId },
});

// As offered: the allocation role rides along and is echoed (MesosResource).
const cpu = { name: "cpus", type: "SCALAR", scalar: 1, allocationRole: "svc-role", reservations: [reservation("r-cpu-1")] } as const;
const disk = { name: "disk", type: "SCALAR", scalar: 4096, allocationRole: "svc-role", reservations: [reservation("r-disk-1")] } as const;
const volumeDisk = {
  persistence: { id: "kafka-prod-broker-0-data", principal: "multi-svc-principal" },
  volume: { containerPath: "data", mode: "RW" as const },
};
const volume = { ...disk, disk: volumeDisk };

describe("encodeSubscribe", () => {
  it("writes a first SUBSCRIBE without any framework id (§2)", () => {
    expect(wire(encodeSubscribe(framework, { user: "svc", suppressedRoles: [] }))).toStrictEqual(mesosFixture("call-subscribe"));
  });

  it("writes a re-SUBSCRIBE with the id at the top and in framework_info, and the suppressed roles", () => {
    const body = encodeSubscribe({ ...framework, frameworkId: FID }, { user: "svc", suppressedRoles: ["svc-role"] });
    expect(wire(body)).toStrictEqual(mesosFixture("call-subscribe-again"));
  });
});

describe("ACCEPT", () => {
  const accept = (ops: Parameters<typeof encodeAccept>[2]) => wire(encodeAccept("FID", ["MID-O117"], ops, { refuseSeconds: 5 }));

  it.each<[string, Operation]>([
    ["call-accept-reserve", { type: "RESERVE", resources: [cpu, disk] }],
    ["call-accept-unreserve", { type: "UNRESERVE", resources: [cpu] }],
    ["call-accept-create", { type: "CREATE", volumes: [volume] }],
    ["call-accept-destroy", { type: "DESTROY", volumes: [volume] }],
  ])("%s", (name, op) => {
    expect(accept([op])).toStrictEqual(mesosFixture(name));
  });

  it("puts a feedback id on a non-launch operation", () => {
    const op = { id: "reserve-kafka-0-a1", operation: { type: "RESERVE" as const, resources: [cpu] } };
    expect(accept([op])).toStrictEqual(mesosFixture("call-accept-reserve-with-id"));
  });

  it("launches a task group on the DEFAULT executor, without an operation id", () => {
    const executor: ExecutorInfo = {
      executorId: "kafka-prod__broker-0__exec-7f2a",
      frameworkId: "FID",
      resources: [
        { name: "cpus", type: "SCALAR", scalar: 0.1 },
        { name: "mem", type: "SCALAR", scalar: 32 },
        { name: "disk", type: "SCALAR", scalar: 256 },
      ],
      labels: {},
    };
    const task: TaskInfo = {
      name: "broker-0-server",
      taskId: "kafka-prod__broker-0-server__1c9e",
      agentId: "MID-S3",
      resources: [
        { name: "cpus", type: "SCALAR", scalar: 1 },
        { name: "mem", type: "SCALAR", scalar: 2048 },
        { name: "disk", type: "SCALAR", scalar: 4096, reservations: [reservation("r-disk-1")], disk: volumeDisk },
      ],
      command: { value: "./bin/kafka-server-start.sh config/server.properties", environment: { SVC: "kafka-prod" } },
      labels: { target_configuration: "cfg-9" },
      healthCheck: { command: "nc -z localhost 9092", delayS: 15, intervalS: 10, timeoutS: 20, consecutiveFailures: 3, gracePeriodS: 60 },
      check: { command: "test -f ready", delayS: 0, intervalS: 5, timeoutS: 10, consecutiveFailures: 1, gracePeriodS: 0 },
      killGracePeriodS: 30,
    };
    expect(accept([{ type: "LAUNCH_GROUP", executor, tasks: [task] }])).toStrictEqual(mesosFixture("call-accept-launch-group"));
  });

  it("leaves filters out when none are given, so Mesos applies its 5 s default", () => {
    expect(wire(encodeAccept("FID", ["MID-O117"], []))).toStrictEqual({
      framework_id: { value: "FID" },
      type: "ACCEPT",
      accept: { offer_ids: [{ value: "MID-O117" }], operations: [] },
    });
  });

  it("writes a task's user, executor labels and an empty environment as Mesos expects", () => {
    const executor: ExecutorInfo = { executorId: "e", frameworkId: "FID", resources: [], labels: { goal: "RUNNING" } };
    const task: TaskInfo = {
      name: "t",
      taskId: "t1",
      agentId: "a",
      resources: [],
      command: { value: "true", environment: {}, user: "nobody" },
      labels: {},
    };
    const body = wire(encodeAccept("FID", ["o"], [{ type: "LAUNCH_GROUP", executor, tasks: [task] }])) as {
      accept: { operations: { launch_group: { executor: unknown; task_group: { tasks: unknown[] } } }[] };
    };
    const group = body.accept.operations[0]!.launch_group;
    expect(group.executor).toStrictEqual({
      type: "DEFAULT",
      executor_id: { value: "e" },
      framework_id: { value: "FID" },
      resources: [],
      labels: { labels: [{ key: "goal", value: "RUNNING" }] },
    });
    expect(group.task_group.tasks[0]).toStrictEqual({
      name: "t",
      task_id: { value: "t1" },
      agent_id: { value: "a" },
      resources: [],
      command: { shell: true, value: "true", user: "nobody" },
    });
  });
});

describe("resources in operations", () => {
  const reserveOf = (r: Resource) =>
    (wire(encodeAccept("F", ["o"], [{ type: "RESERVE", resources: [r] }])) as { accept: { operations: { reserve: { resources: unknown[] } }[] } })
      .accept.operations[0]!.reserve.resources[0];

  it.each([
    ["rounds to 0.001 as Mesos does", 0.1 + 0.2, 0.3],
    ["rounds half away from zero", 1.0005, 1.001],
    ["keeps whole numbers", 2048, 2048],
  ])("scalar %s", (_name, value, expected) => {
    expect(reserveOf({ name: "cpus", type: "SCALAR", scalar: value })).toStrictEqual({ name: "cpus", type: "SCALAR", scalar: { value: expected } });
  });

  it("writes an infinite scalar as the string stout accepts", () => {
    expect(reserveOf({ name: "mem", type: "SCALAR", scalar: Infinity })).toStrictEqual({ name: "mem", type: "SCALAR", scalar: { value: "Infinity" } });
  });

  it("writes ports as ranges and a refined reservation stack in order", () => {
    const ports: Resource = {
      name: "ports",
      type: "RANGES",
      ranges: [{ begin: 31000, end: 31001 }, { begin: 31405, end: 31405 }],
      reservations: [
        { type: "STATIC", role: "svc-role", labels: {} },
        { type: "DYNAMIC", role: "svc-role/kafka", labels: { resource_id: "p1", namespace: "kafka" } },
      ],
    };
    expect(reserveOf(ports)).toStrictEqual({
      name: "ports",
      type: "RANGES",
      ranges: { range: [{ begin: 31000, end: 31001 }, { begin: 31405, end: 31405 }] },
      reservations: [
        { type: "STATIC", role: "svc-role" },
        { type: "DYNAMIC", role: "svc-role/kafka", labels: { labels: [{ key: "resource_id", value: "p1" }, { key: "namespace", value: "kafka" }] } },
      ],
    });
  });

  it("echoes a MOUNT disk source, which Mesos needs to match the resource", () => {
    const mount = { name: "disk", type: "SCALAR" as const, scalar: 100, diskSource: { type: "MOUNT" as const, root: "/mnt/d" } };
    expect(reserveOf(mount)).toStrictEqual({
      name: "disk",
      type: "SCALAR",
      scalar: { value: 100 },
      disk: { source: { type: "MOUNT", mount: { root: "/mnt/d" } } },
    });
  });
});

describe("the other calls", () => {
  it.each<[string, JsonObject]>([
    ["call-teardown", encodeTeardown("FID")],
    ["call-decline", encodeDecline("FID", ["MID-O117", "MID-O118"], { refuseSeconds: 30 })],
    ["call-revive", encodeRevive("FID", ["svc-role"])],
    ["call-suppress", encodeSuppress("FID", ["svc-role"])],
    ["call-kill", encodeKill("FID", "kafka__broker-0-server__1c9e", "MID-S3")],
    ["call-acknowledge", encodeAcknowledge("FID", "MID-S3", "kafka__broker-0-server__1c9e", "Xwwqnjt9TB6KZA2bLn8cMw==")],
    [
      "call-acknowledge-operation-status",
      encodeAcknowledgeOperationStatus("FID", "MID-S3", "reserve-kafka-0-a1", "no18a1pJQ4KxwPDh0sO0pQ=="),
    ],
    ["call-reconcile-explicit", encodeReconcile("FID", [{ taskId: "kafka__broker-0-server__1c9e", agentId: "MID-S3" }])],
    ["call-reconcile-implicit", encodeReconcile("FID", [])],
  ])("%s", (name, body) => {
    expect(wire(body)).toStrictEqual(mesosFixture(name));
  });

  it("kills and reconciles without an agent id when none is known", () => {
    expect(wire(encodeKill("F", "t"))).toStrictEqual({ framework_id: { value: "F" }, type: "KILL", kill: { task_id: { value: "t" } } });
    expect(wire(encodeReconcile("F", [{ taskId: "t" }]))).toStrictEqual({
      framework_id: { value: "F" },
      type: "RECONCILE",
      reconcile: { tasks: [{ task_id: { value: "t" } }] },
    });
  });

  it("revives and suppresses every role with an empty list, never with the doc's `role` key (§17.2)", () => {
    expect(wire(encodeRevive("F", []))).toStrictEqual({ framework_id: { value: "F" }, type: "REVIVE", revive: { roles: [] } });
    expect(wire(encodeSuppress("F", []))).toStrictEqual({ framework_id: { value: "F" }, type: "SUPPRESS", suppress: { roles: [] } });
  });
});

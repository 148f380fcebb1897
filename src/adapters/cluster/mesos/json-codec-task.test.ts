import { describe, expect, it } from "vitest";
import type { Resource } from "../../../domain/cluster.js";
import type { FrameworkInfo } from "../../../engine/ports.js";
import { fullGroup, podExecutor, preReserved, sidecar } from "../../../../test/fixtures/mesos/launch-group.js";
import { mesosFixture } from "../../../../test/fixtures/mesos/load.js";
import type { JsonObject } from "./json-codec.js";
import { encodeAccept, encodeSubscribe } from "./json-codec-calls.js";
import { decodeEvent } from "./json-codec-events.js";

/** The exact wire text, parsed back. */
function wire(body: JsonObject): unknown {
  return JSON.parse(JSON.stringify(body));
}

type Group = { accept: { operations: { launch_group: { task_group: { tasks: Record<string, unknown>[] } } }[] } };
const tasksOf = (body: JsonObject) => (wire(body) as Group).accept.operations[0]!.launch_group.task_group.tasks;

describe("TaskInfo with container, discovery, limits, URIs and secrets", () => {
  it("writes exactly the documented JSON (mesos.proto field names and wrappers)", () => {
    expect(wire(encodeAccept("FID", ["MID-O118"], [fullGroup]))).toStrictEqual(mesosFixture("call-accept-launch-group-container"));
  });

  it("never sends TaskInfo.executor inside a task group: the operation carries it", () => {
    expect(tasksOf(encodeAccept("F", ["o"], [fullGroup])).map((t) => "executor" in t)).toStrictEqual([false, false]);
  });

  it("gives every task of a group share_cgroups false when one has limits, and none when no task has", () => {
    const plain = tasksOf(encodeAccept("F", ["o"], [{ type: "LAUNCH_GROUP", executor: podExecutor, tasks: [sidecar] }]));
    expect(plain[0]).not.toHaveProperty("container");
    const limitedOnly = tasksOf(encodeAccept("F", ["o"], [{ type: "LAUNCH_GROUP", executor: podExecutor, tasks: [{ ...sidecar, limits: { mem: 64 } }] }]));
    expect(limitedOnly[0]).toMatchObject({ container: { type: "MESOS", linux_info: { share_cgroups: false } }, limits: { mem: { value: 64 } } });
  });

  it("writes a plain variable without a type and a secret one as a REFERENCE without a value", () => {
    const [task] = tasksOf(encodeAccept("F", ["o"], [fullGroup]));
    const variables = (task!.command as { environment: { variables: Record<string, unknown>[] } }).environment.variables;
    expect(variables[0]).toStrictEqual({ name: "SVC", value: "hello" });
    expect(variables[1]).not.toHaveProperty("value");
    expect(variables[1]).toMatchObject({ type: "SECRET", secret: { type: "REFERENCE" } });
  });

  it("writes a finite mem limit as a number and leaves out an unset one", () => {
    const task = { ...sidecar, limits: { cpus: 0.25 } };
    expect(tasksOf(encodeAccept("F", ["o"], [{ type: "LAUNCH_GROUP", executor: podExecutor, tasks: [task] }]))[0]!.limits).toStrictEqual({ cpus: { value: 0.25 } });
  });
});

describe("roles", () => {
  const framework: FrameworkInfo = { name: "multi-svc-scheduler", role: "svc-role", principal: "multi-svc-principal", failoverTimeoutS: 1209600 };

  it("subscribes with the main role first and the pre-reserved ones after it, each once", () => {
    const roles = ["slave_public/svc-role", "svc-role", "slave_public/svc-role"];
    const body = encodeSubscribe(framework, { user: "svc", suppressedRoles: ["svc-role", "slave_public/svc-role"], roles });
    expect(wire(body)).toStrictEqual(mesosFixture("call-subscribe-roles"));
  });

  it("reads STATIC reservations of a pre-reserved role, alone and refined, allocated to its child role", () => {
    const d = decodeEvent(mesosFixture("event-offers-pre-reserved"), 0);
    if (!d.ok) throw d.error;
    const role = "slave_public/svc-role";
    const resources: Resource[] = d.value.kind === "offers" ? [...d.value.offers[0]!.resources] : [];
    expect(d.value.kind === "offers" && d.value.offers[0]!.allocationRole).toBe(role);
    expect(resources).toStrictEqual([
      { name: "cpus", type: "SCALAR", scalar: 2, allocationRole: role, reservations: [{ type: "STATIC", role: "slave_public", labels: {} }] },
      {
        name: "ports",
        type: "RANGES",
        ranges: [{ begin: 80, end: 80 }, { begin: 443, end: 443 }],
        allocationRole: role,
        reservations: [{ type: "STATIC", role: "slave_public", labels: {} }],
      },
      {
        name: "mem",
        type: "SCALAR",
        scalar: 256,
        allocationRole: role,
        reservations: [
          { type: "STATIC", role: "slave_public", labels: {} },
          { type: "DYNAMIC", role, principal: "svc-principal", labels: { resource_id: "r-mem-9", namespace: "hello" } },
        ],
      },
    ]);
  });

  it("writes the refined stack back exactly as offered, STATIC first", () => {
    const mem = { name: "mem", type: "SCALAR" as const, scalar: 256, reservations: preReserved("slave_public/svc-role") };
    const body = wire(encodeAccept("F", ["o"], [{ type: "UNRESERVE", resources: [mem] }])) as { accept: { operations: { unreserve: { resources: { reservations: unknown[] }[] } }[] } };
    expect(body.accept.operations[0]!.unreserve.resources[0]!.reservations).toStrictEqual([
      { type: "STATIC", role: "slave_public" },
      { type: "DYNAMIC", role: "slave_public/svc-role", principal: "svc-principal", labels: { labels: [{ key: "resource_id", value: "r-pod-vol" }] } },
    ]);
  });
});

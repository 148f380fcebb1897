import { describe, expect, it } from "vitest";
import type { Offer, Operation, Resource } from "../cluster.js";
import { parseServiceSpec } from "../spec/parse.js";
import type { LaunchContext, LaunchRequest } from "./evaluate.js";
import { EXECUTOR_RESOURCES, evaluateOffer } from "./evaluate.js";
import { OfferPool } from "./pool.js";

const SPEC = `
name: svc
pods:
  web:
    count: 1
    tasks:
      server:
        cmd: run
        cpus: 0.5
        memory: 256
        ports:
          http: { port: 0 }
          admin: { port: 9000, env-key: ADMIN }
        volume: { path: data, type: ROOT, size: 100 }
`;

function ctx(): LaunchContext {
  let n = 0;
  return {
    service: "team/svc",
    sanitizedService: "team.svc",
    frameworkId: "fw-1",
    frameworkName: "corral",
    role: "corral-role",
    principal: "p",
    configId: "cfg-1",
    newId: () => `id-${++n}`,
  };
}

function offer(overrides: { cpus?: number; mem?: number; disk?: number; ports?: [number, number] } = {}): Offer {
  const [begin, end] = overrides.ports ?? [8000, 9100];
  return {
    id: "o1",
    frameworkId: "fw-1",
    agentId: "a1",
    hostname: "h1",
    resources: [
      { name: "cpus", type: "SCALAR", scalar: overrides.cpus ?? 2 },
      { name: "mem", type: "SCALAR", scalar: overrides.mem ?? 1024 },
      { name: "disk", type: "SCALAR", scalar: overrides.disk ?? 1000 },
      { name: "ports", type: "RANGES", ranges: [{ begin, end }] },
    ],
  };
}

function request(): LaunchRequest {
  const spec = parseServiceSpec(SPEC).spec;
  const pod = spec.pods[0]!;
  return { pod, podIndex: 0, tasks: pod.tasks };
}

function ops(op: readonly Operation[], type: Operation["type"]): Operation[] {
  return op.filter((o) => o.type === type);
}

describe("evaluateOffer", () => {
  it("reserves with resource_id, framework_id and namespace labels, creates the volume, then launches", () => {
    const result = evaluateOffer(ctx(), request(), OfferPool.of(offer()));
    if (result.kind !== "match") throw new Error(result.reason);
    expect(result.operations.map((o) => o.type)).toEqual(["RESERVE", "CREATE", "LAUNCH_GROUP"]);
    const reserve = ops(result.operations, "RESERVE")[0] as unknown as { resources: Resource[] };
    for (const r of reserve.resources) {
      const labels = r.reservations?.at(-1)?.labels ?? {};
      expect(labels["framework_id"]).toBe("fw-1");
      expect(labels["namespace"]).toBe("team/svc");
      expect(labels["resource_id"]).toMatch(/^id-/);
    }
    const task = result.tasks[0]!;
    expect(task.taskId).toMatch(/^team\.svc__web-0-server__id-/);
    expect(task.command.environment).toMatchObject({ PORT_HTTP: "8000", ADMIN: "9000", TASK_NAME: "web-0-server" });
    expect(task.labels["target_configuration"]).toBe("cfg-1");
    expect(task.resources.find((r) => r.disk?.persistence)?.disk?.volume?.containerPath).toBe("data");
  });

  it.each([
    { name: "too few cpus", o: { cpus: 0.4 }, reason: /insufficient cpus/ },
    { name: "too little memory", o: { mem: 100 }, reason: /insufficient mem/ },
    { name: "too little disk", o: { disk: 50 }, reason: /insufficient disk/ },
    { name: "fixed port not offered", o: { ports: [8000, 8999] as [number, number] }, reason: /port 9000/ },
  ])("declines: $name", ({ o, reason }) => {
    const result = evaluateOffer(ctx(), request(), OfferPool.of(offer(o)));
    expect(result.kind).toBe("no-match");
    if (result.kind === "no-match") expect(result.reason).toMatch(reason);
  });

  it("leaves the remainder for the next step and never over-commits", () => {
    const first = evaluateOffer(ctx(), request(), OfferPool.of(offer({ cpus: 0.9 })));
    if (first.kind !== "match") throw new Error("first should fit");
    const second = evaluateOffer(ctx(), request(), first.pool);
    expect(second.kind).toBe("no-match");
  });

  it("relaunches only on the same agent, from the same reservations", () => {
    const first = evaluateOffer(ctx(), request(), OfferPool.of(offer()));
    if (first.kind !== "match") throw new Error("should fit");
    const held = first.tasks[0]!.resources;
    const footprint = { agentId: "a1", resourceSets: new Map([["server-resource-set", held]]) };
    const req = { ...request(), footprint };
    expect(evaluateOffer(ctx(), req, OfferPool.of({ ...offer(), agentId: "a2" }))).toMatchObject({ kind: "no-match" });
    expect(evaluateOffer(ctx(), req, OfferPool.of(offer()))).toMatchObject({ kind: "no-match", reason: /not in offer/ });
    // The reservations alone are not enough: the executor needs its own unreserved cpus, mem and disk.
    expect(evaluateOffer(ctx(), req, OfferPool.of({ ...offer(), resources: [...held] }))).toMatchObject({ kind: "no-match", reason: /for the pod's executor/ });
    const executorShare = EXECUTOR_RESOURCES.map((r) => ({ ...r }));
    const reoffer: Offer = { ...offer(), resources: [...held, ...executorShare] };
    const again = evaluateOffer(ctx(), req, OfferPool.of(reoffer));
    if (again.kind !== "match") throw new Error(again.reason);
    expect(again.operations.map((o) => o.type)).toEqual(["LAUNCH_GROUP"]);
    const launch = again.operations[0] as { executor: { resources: readonly Resource[] } };
    expect(launch.executor.resources.map((r) => [r.name, r.scalar])).toEqual([["cpus", 0.01], ["mem", 32], ["disk", 8]]);
    expect(again.tasks[0]!.command.environment["PORT_HTTP"]).toBe("8000");
  });

  it("refits a held resource set to a changed spec on its agent: a moved fixed port is released and the new one reserved, the volume kept", () => {
    const first = evaluateOffer(ctx(), request(), OfferPool.of(offer()));
    if (first.kind !== "match") throw new Error("should fit");
    const held = first.tasks[0]!.resources;
    const base = request();
    const rs = base.pod.resourceSets[0]!;
    const moved = { ...rs, memoryMb: 128, ports: rs.ports.map((p) => (p.name === "admin" ? { ...p, port: 9001 } : p)) };
    const pod = { ...base.pod, resourceSets: [moved] };
    const req = { ...base, pod, footprint: { agentId: "a1", resourceSets: new Map([["server-resource-set", held]]) } };
    const result = evaluateOffer(ctx(), req, OfferPool.of({ ...offer(), resources: [...offer().resources, ...held] }));
    if (result.kind !== "match") throw new Error(result.reason);
    expect(result.operations.map((o) => o.type)).toEqual(["UNRESERVE", "RESERVE", "LAUNCH_GROUP"]);
    const [unreserve, reserve] = result.operations as unknown as [{ resources: Resource[] }, { resources: Resource[] }];
    expect(unreserve.resources.map((r) => [r.name, r.scalar ?? r.ranges?.[0]?.begin])).toEqual([["mem", 128], ["ports", 9000]]);
    expect(reserve.resources.map((r) => [r.name, r.ranges?.[0]?.begin])).toEqual([["ports", 9001]]);
    const task = result.tasks[0]!;
    expect(task.command.environment).toMatchObject({ PORT_HTTP: "8000", ADMIN: "9001" });
    expect(task.resources.find((r) => r.disk?.persistence)).toEqual(held.find((r) => r.disk?.persistence));
  });
});

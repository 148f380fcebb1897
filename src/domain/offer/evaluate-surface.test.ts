import { describe, expect, it } from "vitest";
import type { ExecutorInfo, Operation, Resource, TaskInfo } from "../cluster.js";
import type { LaunchRequest } from "./evaluate.js";
import { EXECUTOR_RESOURCES, evaluateOffer, executorVolumes } from "./evaluate.js";
import { OfferPool } from "./pool.js";
import { STATIC, plentyOffer, podSpec, portRange, resourceSet, scalar, taskSpec, testCtx, testOffer } from "./test-kit.js";

type Launch = Extract<Operation, { type: "LAUNCH_GROUP" }>;

function match(req: LaunchRequest, pool: OfferPool) {
  const result = evaluateOffer(testCtx(), req, pool);
  if (result.kind !== "match") throw new Error(result.reason);
  return result;
}

function reason(req: LaunchRequest, pool: OfferPool): string {
  const result = evaluateOffer(testCtx(), req, pool);
  if (result.kind !== "no-match") throw new Error("expected no match");
  return result.reason;
}

const launches = (ops: readonly Operation[]): Launch[] => ops.filter((o): o is Launch => o.type === "LAUNCH_GROUP");
const types = (ops: readonly Operation[]): string[] => ops.map((o) => o.type);

/** Two tasks sharing the pod-level volume `shared`. */
function sharedVolumePod() {
  return podSpec([taskSpec("a"), taskSpec("b")], { volumes: [{ path: "shared", type: "ROOT", sizeMb: 100 }] });
}

describe("evaluateOffer: pod-level volumes live on the executor", () => {
  it("reserves and creates the volume once, as the executor's resource, and mounts it in every task from the executor's sandbox", () => {
    const pod = sharedVolumePod();
    const result = match({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer()));
    expect(types(result.operations)).toEqual(["RESERVE", "RESERVE", "RESERVE", "CREATE", "LAUNCH_GROUP"]);
    const create = result.operations.find((o) => o.type === "CREATE") as Extract<Operation, { type: "CREATE" }>;
    expect(create.volumes).toHaveLength(1);
    const volume = create.volumes[0]!;
    expect(volume.disk).toEqual({ persistence: { id: expect.any(String) }, volume: { containerPath: "shared", mode: "RW" } });
    const [launch] = launches(result.operations);
    expect(launch!.executor.resources).toEqual([...EXECUTOR_RESOURCES, volume]);
    expect(launch!.tasks.map((t) => t.name)).toEqual(["pod-0-a", "pod-0-b"]);
    for (const t of result.tasks) {
      expect(t.executor).toBe(launch!.executor);
      expect(t.resources.some((r) => r.disk)).toBe(false);
      expect(t.container?.volumes).toEqual([{ containerPath: "shared", mode: "RW", source: { type: "SANDBOX_PATH", sandboxPath: { type: "PARENT", path: "shared" } } }]);
    }
    // The operation carries the executor; its TaskInfos do not repeat it.
    expect(launch!.tasks.every((t) => t.executor === undefined)).toBe(true);
  });

  it("relaunches in place with the same volume found by its resource_id, creating nothing", () => {
    const pod = sharedVolumePod();
    const first = match({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer()));
    const executor = first.tasks[0]!.executor!;
    const held = executorVolumes(executor);
    expect(held).toHaveLength(1);
    const resourceSets = new Map(first.tasks.map((t) => [t.labels["resource_set"]!, t.resources]));
    const footprint = { agentId: "a1", resourceSets, executorVolumes: held };
    const offered = [...first.tasks.flatMap((t) => t.resources), ...held, ...EXECUTOR_RESOURCES.map((r) => ({ ...r }))];
    const again = match({ pod, podIndex: 0, tasks: pod.tasks, footprint }, OfferPool.of(testOffer(offered)));
    expect(types(again.operations)).toEqual(["LAUNCH_GROUP"]);
    const [launch] = launches(again.operations);
    expect(launch!.executor.executorId).not.toBe(executor.executorId);
    expect(executorVolumes(launch!.executor)).toEqual(held);
    // Without the volume in the offer the pod waits for it.
    const without = offered.filter((r) => !r.disk);
    expect(reason({ pod, podIndex: 0, tasks: pod.tasks, footprint }, OfferPool.of(testOffer(without)))).toMatch(/^reserved disk of the pod's volume shared \(resource_id id-\d+\) not in offer$/);
  });

  it("needs the volume's disk besides the executor's", () => {
    const pod = sharedVolumePod();
    const small = testOffer([scalar("cpus", 4), scalar("mem", 4096), scalar("disk", 50)]);
    expect(reason({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(small))).toBe("insufficient disk for the pod's volumes: need 100, offered 42");
  });
});

describe("evaluateOffer: non-essential tasks", () => {
  it("launches the essential tasks as one group and each non-essential task as its own, in one executor whose resources are taken once", () => {
    const pod = podSpec([taskSpec("server"), taskSpec("sidecar", { essential: false }), taskSpec("logger", { essential: false }), taskSpec("db")]);
    // Exactly the tasks' share plus one executor's: a second executor share would not fit.
    const exact = testOffer([scalar("cpus", 0.41), scalar("mem", 288), scalar("disk", 8)]);
    const result = match({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(exact));
    const groups = launches(result.operations);
    expect(groups.map((g) => g.tasks.map((t) => t.name))).toEqual([["pod-0-server", "pod-0-db"], ["pod-0-sidecar"], ["pod-0-logger"]]);
    expect(new Set(groups.map((g) => g.executor)).size).toBe(1);
    expect(result.pool.available("cpus")).toBeCloseTo(0);
  });

  it("gives a step of only non-essential tasks one group each", () => {
    const pod = podSpec([taskSpec("x", { essential: false }), taskSpec("y", { essential: false })]);
    const groups = launches(match({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer())).operations);
    expect(groups.map((g) => g.tasks.map((t) => t.name))).toEqual([["pod-0-x"], ["pod-0-y"]]);
  });
});

describe("evaluateOffer: a relaunch while a sibling runs goes into its live executor", () => {
  it("reuses the ExecutorInfo exactly and takes none of its resources (nor its volumes) from the offer", () => {
    const pod = sharedVolumePod();
    const first = match({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer()));
    const live: ExecutorInfo = first.tasks[1]!.executor!;
    const a = first.tasks[0]!;
    const footprint = { agentId: "a1", resourceSets: new Map([["a-rs", a.resources]]), executorVolumes: executorVolumes(live) };
    // Only task a's reservations: the executor's share and volume are held by the live executor.
    const result = match({ pod, podIndex: 0, tasks: [pod.tasks[0]!], footprint, liveExecutor: live }, OfferPool.of(testOffer([...a.resources])));
    expect(types(result.operations)).toEqual(["LAUNCH_GROUP"]);
    const [launch] = launches(result.operations);
    expect(launch!.executor).toBe(live);
    expect(result.tasks[0]!.executor).toBe(live);
    expect(result.tasks[0]!.container?.volumes?.[0]?.source).toEqual({ type: "SANDBOX_PATH", sandboxPath: { type: "PARENT", path: "shared" } });
  });
});

describe("evaluateOffer: ports", () => {
  const withPort = (port: Partial<{ port: number; ranges: { begin: number; end: number }[] }>) =>
    podSpec([taskSpec("server")], {}, [resourceSet("server-rs", { ports: [{ name: "http", port: 0, envKey: "PORT_HTTP", ...port }] })]);

  it("takes a dynamic port from within its ranges", () => {
    const pod = withPort({ ranges: [{ begin: 20000, end: 20100 }, { begin: 31007, end: 31009 }] });
    const task = match({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer())).tasks[0]!;
    expect(task.command.environment["PORT_HTTP"]).toBe("31007");
  });

  it("says so when no offered port lies in the ranges", () => {
    const pod = withPort({ ranges: [{ begin: 40000, end: 40010 }] });
    expect(reason({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer()))).toBe("no free port for http within 40000-40010 offered by agent a1");
  });

  it("never gives a dynamic port a port another task of the pod asks for by number", () => {
    const sets = [
      resourceSet("a-rs", { ports: [{ name: "any", port: 0, envKey: "PORT_ANY" }] }),
      resourceSet("b-rs", { ports: [{ name: "fixed", port: 31000, envKey: "PORT_FIXED" }] }),
    ];
    const pod = podSpec([taskSpec("a"), taskSpec("b")], {}, sets);
    const tasks = match({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer())).tasks;
    expect(tasks.map((t) => t.command.environment["PORT_ANY"] ?? t.command.environment["PORT_FIXED"])).toEqual(["31001", "31000"]);
  });

  it("names a fixed port that is not offered and why it may not be", () => {
    const pod = withPort({ port: 9999 });
    expect(reason({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer()))).toBe(
      "port 9999 for http is not offered by agent a1 (another process holds it, or it is outside the agent's ports)",
    );
  });
});

describe("evaluateOffer: pre-reserved-role", () => {
  const R = "slave_public";
  const mixed = (agentId = "a1") =>
    testOffer(
      [
        scalar("cpus", 4), scalar("mem", 4096), scalar("disk", 1000), portRange(31000, 31010),
        scalar("cpus", 1, STATIC(R)), scalar("mem", 512, STATIC(R)), scalar("disk", 200, STATIC(R)), portRange(80, 90, STATIC(R)),
      ],
      agentId,
    );
  const pod = podSpec(
    [taskSpec("server")],
    { preReservedRole: R, volumes: [{ path: "data", type: "ROOT", sizeMb: 100 }] },
    [resourceSet("server-rs", { ports: [{ name: "http", port: 80, envKey: "PORT_HTTP" }] })],
  );

  it("reserves refined on the role's static resources only, and leaves the executor's share static to the role", () => {
    const pool = OfferPool.of(mixed());
    const result = match({ pod, podIndex: 0, tasks: pod.tasks }, pool);
    const reserved = result.operations.filter((o) => o.type === "RESERVE").flatMap((o) => (o as { resources: readonly Resource[] }).resources);
    expect(reserved.length).toBeGreaterThan(0);
    for (const r of reserved) {
      expect(r.reservations).toEqual([
        { type: "STATIC", role: R, labels: {} },
        { type: "DYNAMIC", role: `${R}/corral-role`, principal: "p", labels: { resource_id: expect.any(String), framework_id: "fw-1", namespace: "svc" } },
      ]);
    }
    const [launch] = launches(result.operations);
    const own = launch!.executor.resources.filter((r) => !r.disk);
    expect(own).toEqual(EXECUTOR_RESOURCES.map((e) => ({ ...e, reservations: [{ type: "STATIC", role: R, labels: {} }] })));
    expect(result.tasks[0]!.command.environment["PORT_HTTP"]).toBe("80");
    // The unreserved pool is untouched; the role's shrank by the task, the executor and the volume.
    expect(result.pool.available("cpus")).toBe(4);
    expect(result.pool.available("disk", { kind: "static", role: R })).toBeCloseTo(200 - 8 - 100);
  });

  it("waits, saying how to get them, when the offer has nothing pre-reserved for the role", () => {
    expect(reason({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(plentyOffer()))).toBe(
      `no resources pre-reserved for role ${R} offered (on the local agent: --agent-pre-reserved ${R}:cpus=…,mem=…; on Mesos: --pre-reserved-role ${R})`,
    );
  });

  it("never lets a pod without the role touch statically reserved resources", () => {
    const plain = podSpec([taskSpec("server")]);
    const onlyStatic = testOffer([scalar("cpus", 1, STATIC(R)), scalar("mem", 512, STATIC(R)), scalar("disk", 200, STATIC(R))]);
    expect(reason({ pod: plain, podIndex: 0, tasks: plain.tasks }, OfferPool.of(onlyStatic))).toBe("insufficient cpus: need 0.1, offered 0");
  });

  it("relaunches in place from the refined reservations, growing from the role's pool", () => {
    const first = match({ pod, podIndex: 0, tasks: pod.tasks }, OfferPool.of(mixed()));
    const info: TaskInfo = first.tasks[0]!;
    const grown = { ...pod, resourceSets: [{ ...pod.resourceSets[0]!, cpus: 0.3 }] };
    const footprint = { agentId: "a1", resourceSets: new Map([["server-rs", info.resources]]), executorVolumes: executorVolumes(info.executor) };
    const offered = testOffer([...info.resources, ...executorVolumes(info.executor), scalar("cpus", 1, STATIC(R)), scalar("mem", 512, STATIC(R)), scalar("disk", 200, STATIC(R)), scalar("cpus", 4)]);
    const again = match({ pod: grown, podIndex: 0, tasks: grown.tasks, footprint }, OfferPool.of(offered));
    expect(types(again.operations)).toEqual(["RESERVE", "LAUNCH_GROUP"]);
    const grow = (again.operations[0] as { resources: readonly Resource[] }).resources[0]!;
    expect(grow.scalar).toBeCloseTo(0.2);
    expect(grow.reservations?.[0]).toEqual({ type: "STATIC", role: R, labels: {} });
    expect(again.pool.available("cpus")).toBe(4);
  });
});

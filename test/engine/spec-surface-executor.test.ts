/**
 * The spec surface's executor-level keys through the real scheduler on the simulated cluster
 * (fake clock): a pod-level volume is reserved and created once, on the pod's executor, shared by
 * its tasks and found again by a relaunch; a non-essential task launches as its own task group
 * in the same executor, and its relaunch goes into the executor its running sibling keeps.
 */
import { describe, expect, it, vi } from "vitest";
import type { ExecutorInfo, Operation, Resource } from "../../src/domain/cluster.js";
import type { ServiceSpec } from "../../src/domain/spec/types.js";
import { createSpecServiceFactory } from "../../src/engine/service-factory.js";
import type { ServiceFactory } from "../../src/engine/service-factory.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

type Launch = Extract<Operation, { type: "LAUNCH_GROUP" }>;

const SPEC = `
name: {{SERVICE_NAME}}
pods:
  pod:
    count: 1
    tasks:
      a: { goal: RUNNING, cmd: "sleep 1000", cpus: 0.1, memory: 64 }
      b: { goal: RUNNING, cmd: "sleep 1000", cpus: 0.1, memory: 64 }
`;

const SIDECAR_SPEC = `
name: {{SERVICE_NAME}}
pods:
  pod:
    count: 1
    tasks:
      server: { goal: RUNNING, cmd: "sleep 1000", cpus: 0.1, memory: 64 }
      sidecar: { goal: RUNNING, essential: false, cmd: "sleep 1000", cpus: 0.1, memory: 64 }
`;

/**
 * The spec factory, with a pod-level volume added to every pod: the YAML key is the spec
 * parser's business, this test pins what the scheduler does with the parsed field.
 */
function withPodVolume(): ServiceFactory {
  const inner = createSpecServiceFactory();
  return {
    build(context) {
      const built = inner.build(context);
      const spec: ServiceSpec = { ...built.spec, pods: built.spec.pods.map((p) => ({ ...p, volumes: [{ path: "shared", type: "ROOT", sizeMb: 100 }] })) };
      return { ...built, spec };
    },
  };
}

/** Every operation the scheduler sends, in order. */
function recordAccepts(h: Harness): Operation[] {
  const ops: Operation[] = [];
  const accept = h.cluster.accept.bind(h.cluster);
  vi.spyOn(h.cluster, "accept").mockImplementation(async (offerIds, sent, filters) => {
    ops.push(...sent);
    return accept(offerIds, sent, filters);
  });
  return ops;
}

async function put(h: Harness, name: string, spec: string): Promise<void> {
  await h.scheduler.putService({ name, spec, parameters: {} });
  await h.settle();
  await h.deployAll([name]);
}

function running(h: Harness, name: string) {
  return h.cluster.tasks().find((t) => t.name === name && t.state === "TASK_RUNNING");
}

async function until(h: Harness, what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (done()) return;
    await h.advance(500);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const launches = (ops: readonly Operation[]): Launch[] => ops.filter((o): o is Launch => o.type === "LAUNCH_GROUP");
const volumesOf = (e: ExecutorInfo): Resource[] => e.resources.filter((r) => r.disk?.persistence);
const persistentOn = (h: Harness, path: string): Resource[] =>
  [...h.cluster.reservations().values()].flat().filter((r) => r.disk?.volume?.containerPath === path);

describe("spec surface: the pod's executor", () => {
  it("reserves a pod-level volume once for both tasks and keeps it, by the same persistence id, across a relaunch of the pod", async () => {
    const h = await createHarness({ agents: 1, deps: { factory: withPodVolume() } });
    const ops = recordAccepts(h);
    await put(h, "vol", SPEC);

    const creates = ops.filter((o) => o.type === "CREATE");
    expect(creates).toHaveLength(1);
    const [first] = launches(ops);
    expect(first!.tasks.map((t) => t.name)).toEqual(["pod-0-a", "pod-0-b"]);
    const [volume] = volumesOf(first!.executor);
    expect(volume?.disk?.volume?.containerPath).toBe("shared");
    const persistenceId = volume!.disk!.persistence!.id;
    expect(persistentOn(h, "shared").map((r) => r.disk?.persistence?.id)).toEqual([persistenceId]);
    for (const name of ["pod-0-a", "pod-0-b"]) {
      expect(running(h, name)?.info.container?.volumes).toContainEqual({
        containerPath: "shared",
        mode: "RW",
        source: { type: "SANDBOX_PATH", sandboxPath: { type: "PARENT", path: "shared" } },
      });
    }

    // a fails; the default executor ends its group (b too), and so the executor: both relaunch.
    const before = running(h, "pod-0-a")!.taskId;
    h.cluster.failTask(before, "TASK_FAILED", "exit 1");
    await until(h, "the pod to run again", () => [running(h, "pod-0-a"), running(h, "pod-0-b")].every((t) => t && t.taskId !== before));

    const relaunch = launches(ops).slice(1);
    expect(relaunch.length).toBeGreaterThan(0);
    const executor = relaunch.at(-1)!.executor;
    expect(executor.executorId).not.toBe(first!.executor.executorId);
    expect(volumesOf(executor).map((r) => r.disk?.persistence?.id)).toEqual([persistenceId]);
    expect(ops.filter((o) => o.type === "CREATE")).toHaveLength(1);
    expect(ops.filter((o) => o.type === "DESTROY" || o.type === "UNRESERVE")).toEqual([]);
    expect(persistentOn(h, "shared").map((r) => r.disk?.persistence?.id)).toEqual([persistenceId]);
    expect(h.cluster.rejectedOperations()).toEqual([]);
  });

  it("launches a non-essential task as its own task group in the pod's executor, and relaunches it into the executor its sibling keeps", async () => {
    const h = await createHarness({ agents: 1 });
    const ops = recordAccepts(h);
    await put(h, "side", SIDECAR_SPEC);

    const groups = launches(ops);
    expect(groups.map((g) => g.tasks.map((t) => t.name))).toEqual([["pod-0-server"], ["pod-0-sidecar"]]);
    expect(groups[1]!.executor).toEqual(groups[0]!.executor);

    const server = running(h, "pod-0-server")!.taskId;
    const sidecar = running(h, "pod-0-sidecar")!.taskId;
    h.cluster.failTask(sidecar, "TASK_FAILED", "exit 1");
    await h.settle();
    // Its own group: the server keeps running.
    expect(running(h, "pod-0-server")?.taskId).toBe(server);
    await until(h, "the sidecar to run again", () => (running(h, "pod-0-sidecar")?.taskId ?? sidecar) !== sidecar);

    const relaunch = launches(ops).slice(2);
    expect(relaunch.map((g) => g.tasks.map((t) => t.name))).toEqual([["pod-0-sidecar"]]);
    expect(relaunch[0]!.executor).toEqual(groups[0]!.executor);
    expect(running(h, "pod-0-server")?.taskId).toBe(server);
    expect(h.cluster.rejectedOperations()).toEqual([]);
  });
});

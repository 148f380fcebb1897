/**
 * `essential` (dcos-commons §4.2) through the real scheduler on the simulated cluster (fake
 * clock): a non-essential task is its own task group (offer/evaluate.ts), so its end leaves its
 * siblings running and recovery relaunches it alone; an essential task's end relaunches the
 * whole pod instance — recovery kills the live non-essential siblings first, then relaunches all.
 */
import { describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import type { TaskStatus } from "../../src/domain/cluster.js";
import type { ClusterDriver } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

const SPEC = `
name: {{SERVICE_NAME}}
pods:
  app:
    count: 1
    tasks:
      server: { goal: RUNNING, cmd: "sleep 1000", cpus: 0.1, memory: 64 }
      sidecar: { goal: RUNNING, essential: false, cmd: "sleep 1000", cpus: 0.1, memory: 64 }
      metrics: { goal: RUNNING, essential: false, cmd: "sleep 1000", cpus: 0.1, memory: 64 }
`;

const NAMES = ["app-0-server", "app-0-sidecar", "app-0-metrics"];

/** Task ID of the running task `name`, if any. */
function running(h: Harness, name: string): string | undefined {
  return h.cluster.tasks().find((t) => t.name === name && t.state === "TASK_RUNNING")?.taskId;
}

function runningIds(h: Harness): (string | undefined)[] {
  return NAMES.map((n) => running(h, n));
}

async function until(h: Harness, what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (done()) return;
    await h.advance(500);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The cluster, with every status it sends the scheduler kept in `seen`. */
function recording(cluster: SimulatedCluster, seen: TaskStatus[]): ClusterDriver {
  return new Proxy(cluster, {
    get(target, key, receiver) {
      if (key !== "subscribe") return Reflect.get(target, key, receiver) as unknown;
      const subscribe: ClusterDriver["subscribe"] = (info, events) =>
        target.subscribe(info, { ...events, update: (status) => (seen.push(status), events.update(status)) });
      return subscribe;
    },
  });
}

async function deployed(): Promise<{ h: Harness; seen: TaskStatus[] }> {
  const clock = new FakeClock();
  const cluster = new SimulatedCluster({ agents: 1, clock, random: new SeededRandom(99) });
  const seen: TaskStatus[] = [];
  const h = await createHarness({ clock, cluster, deps: { driver: recording(cluster, seen) } });
  await h.scheduler.putService({ name: "app", spec: SPEC, parameters: {} });
  await h.deployAll(["app"]);
  return { h, seen };
}

/** The last state the cluster reported of each task ID. */
function lastStates(seen: readonly TaskStatus[], taskIds: readonly (string | undefined)[]): string[] {
  return taskIds.map((id) => seen.filter((s) => s.taskId === id).at(-1)?.state ?? "");
}

describe("essential and non-essential tasks", () => {
  it("a non-essential task's end relaunches only it; its siblings keep running, untouched", async () => {
    const { h, seen } = await deployed();
    const [server, sidecar, metrics] = runningIds(h);
    h.cluster.failTask(sidecar!, "TASK_FAILED", "exit 1");
    await until(h, "the sidecar to run again", () => (running(h, "app-0-sidecar") ?? sidecar) !== sidecar);
    expect(running(h, "app-0-server")).toBe(server);
    expect(running(h, "app-0-metrics")).toBe(metrics);
    expect(lastStates(seen, [server, sidecar, metrics])).toEqual(["TASK_RUNNING", "TASK_FAILED", "TASK_RUNNING"]);
    expect(h.scheduler.getPlan("app", "recovery").phases.flatMap((ph) => ph.steps.map((s) => [s.name, s.status]))).toEqual([["app-0:[sidecar]", "COMPLETE"]]);
    expect(h.cluster.rejectedOperations()).toEqual([]);
  });

  it("an essential task's end kills its live non-essential siblings and relaunches the whole pod", async () => {
    const { h, seen } = await deployed();
    const before = runningIds(h);
    h.cluster.failTask(before[0]!, "TASK_FAILED", "exit 1");
    await until(h, "the whole pod to run again", () => runningIds(h).every((id, i) => id !== undefined && id !== before[i]));
    // The siblings were killed (by the scheduler: their own groups do not end with the server's).
    expect(lastStates(seen, before)).toEqual(["TASK_FAILED", "TASK_KILLED", "TASK_KILLED"]);
    const recovery = h.scheduler.getPlan("app", "recovery").phases.flatMap((ph) => ph.steps);
    expect(recovery.map((s) => [s.name, s.status])).toEqual([["app-0:[server, sidecar, metrics]", "COMPLETE"]]);
    // One recovery, one attempt: the kills it made were not taken for new failures.
    expect(recovery[0]!.message).toMatch(/^attempt 1 \(transient\): task app-0-server failed/);
    expect(h.cluster.rejectedOperations()).toEqual([]);
  });

  it("after a scheduler restart, a dead essential task still relaunches the pod whole, its live sibling killed first", async () => {
    const { h: first } = await deployed();
    const before = runningIds(first);
    await first.scheduler.stop();
    first.cluster.failTask(before[0]!, "TASK_FAILED", "exit 1");
    const h = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister });
    await until(h, "the whole pod to run again", () => runningIds(h).every((id, i) => id !== undefined && id !== before[i]));
    expect(h.scheduler.getPlan("app", "recovery").phases.flatMap((ph) => ph.steps.map((s) => [s.name, s.status]))).toEqual([
      ["app-0:[server, sidecar, metrics]", "COMPLETE"],
    ]);
  });

  it("a pod restart by the operator relaunches the pod once, whole", async () => {
    const { h } = await deployed();
    const before = runningIds(h);
    await h.scheduler.controlPod({ name: "app", pod: "app-0", action: "RESTART" });
    await until(h, "the whole pod to run again", () => runningIds(h).every((id, i) => id !== undefined && id !== before[i]));
    const steps = h.scheduler.getPlan("app", "recovery").phases.flatMap((ph) => ph.steps);
    expect(steps.map((s) => [s.name, s.status])).toEqual([["app-0:[server, sidecar, metrics]", "COMPLETE"]]);
    expect(steps[0]!.message).toMatch(/^attempt 1 \(transient\)/);
    expect(h.cluster.rejectedOperations()).toEqual([]);
  });

  it("a non-essential task that keeps failing beside a finished FINISH task is relaunched alone: the running task stays, the finished one is not re-run", async () => {
    const clock = new FakeClock();
    const cluster = new SimulatedCluster({ agents: 1, clock, random: new SeededRandom(7) });
    const seen: TaskStatus[] = [];
    const h = await createHarness({ clock, cluster, deps: { driver: recording(cluster, seen) } });
    // The simulated tasks act on these labels: init exits 0 at once, the
    // sidecar fails each time it runs.
    const spec = `
name: {{SERVICE_NAME}}
pods:
  app:
    count: 1
    tasks:
      init: { goal: FINISH, cmd: "true", cpus: 0.1, memory: 64, labels: "sim_exit_code:0" }
      server: { goal: RUNNING, cmd: "sleep 1000", cpus: 0.1, memory: 64 }
      sidecar: { goal: RUNNING, essential: false, cmd: "sleep 1000", cpus: 0.1, memory: 64, labels: "sim_exit_code:1" }
`;
    await h.scheduler.putService({ name: "app", spec, parameters: {} });
    await until(h, "the sidecar to fail twice", () => seen.filter((s) => s.state === "TASK_FAILED").length >= 2);
    const server = running(h, "app-0-server");
    expect(server).toBeDefined();
    await h.advance(20_000);
    expect(running(h, "app-0-server")).toBe(server);
    expect(seen.filter((s) => s.state === "TASK_KILLED")).toEqual([]);
    const initLaunches = new Set(seen.filter((s) => s.taskId.includes("app-0-init")).map((s) => s.taskId));
    expect(initLaunches.size).toBe(1);
  });
});

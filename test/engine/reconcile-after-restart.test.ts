/**
 * Convergence after a crash (issue 10, deliverable 5): a restarted scheduler asks the cluster
 * about every recovered service's tasks in its first reconciliation request, and a service
 * whose task was recorded but never reached the cluster (the scheduler died between storing the
 * TaskInfo and the ACCEPT) deploys in the first offer cycles after the subscription — not after
 * the 8 s reconciliation retry, and without crash-loop back-off.
 */
import { describe, expect, it } from "vitest";
import type { Filters, Operation } from "../../src/domain/cluster.js";
import type { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import type { ClusterDriver, ClusterEvents, FrameworkInfo } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";

type ReconcileArg = readonly { taskId: string; agentId?: string }[];

/**
 * The cluster as a scheduler process sees it, up to its death: once `crashAtLaunchOf` sees an
 * ACCEPT that launches a task of that service, the process is dead — that ACCEPT and every later
 * call never reach the cluster, and no event reaches the scheduler any more.
 */
class DyingDriver implements ClusterDriver {
  dead = false;
  constructor(
    private readonly cluster: SimulatedCluster,
    private readonly crashAtLaunchOf: string,
  ) {}
  subscribe(framework: FrameworkInfo, events: ClusterEvents): Promise<void> {
    const alive = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A): void => {
      if (!this.dead) fn(...a);
    };
    return this.cluster.subscribe(framework, {
      subscribed: alive(events.subscribed),
      offers: alive(events.offers),
      rescind: alive(events.rescind),
      update: alive(events.update),
      disconnected: alive(events.disconnected),
    });
  }
  async accept(offerIds: readonly string[], operations: readonly Operation[], filters?: Filters): Promise<void> {
    const launches = operations.some((op) => op.type === "LAUNCH_GROUP" && op.tasks.some((t) => t.taskId.startsWith(`${this.crashAtLaunchOf}__`)));
    if (launches) this.dead = true;
    if (!this.dead) await this.cluster.accept(offerIds, operations, filters);
  }
  private pass<T>(call: () => Promise<T>): Promise<T | undefined> {
    return this.dead ? Promise.resolve(undefined) : call();
  }
  async decline(offerIds: readonly string[], filters?: Filters): Promise<void> {
    await this.pass(() => this.cluster.decline(offerIds, filters));
  }
  async kill(taskId: string, agentId?: string): Promise<void> {
    await this.pass(() => this.cluster.kill(taskId, agentId));
  }
  async acknowledge(agentId: string, taskId: string, uuid: string): Promise<void> {
    await this.pass(() => this.cluster.acknowledge(agentId, taskId, uuid));
  }
  async reconcile(tasks: ReconcileArg): Promise<void> {
    await this.pass(() => this.cluster.reconcile(tasks));
  }
  async revive(): Promise<void> {
    await this.pass(() => this.cluster.revive());
  }
  async suppress(): Promise<void> {
    await this.pass(() => this.cluster.suppress());
  }
  async teardown(): Promise<void> {
    await this.pass(() => this.cluster.teardown());
  }
  async close(): Promise<void> {
    await this.pass(() => this.cluster.close());
  }
}

/** Records the explicit reconciliation requests a scheduler sends. */
function recordingReconciles(cluster: SimulatedCluster): { driver: ClusterDriver; requests: ReconcileArg[] } {
  const requests: ReconcileArg[] = [];
  const driver = new Proxy(cluster, {
    get(target, prop, receiver) {
      if (prop === "reconcile") {
        return (tasks: ReconcileArg) => {
          if (tasks.length > 0) requests.push(tasks);
          return target.reconcile(tasks);
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { driver, requests };
}

describe("reconciliation after a restart", () => {
  it("asks about every recovered service's tasks at once, and deploys a launch cut off by the crash within the first cycles", async () => {
    const first = await createHarness();
    for (const name of ["alpha", "bravo", "delta"]) await first.put(name, "simple.yml");
    await first.put("echo", "hello-world.yml");
    await first.deployAll(["alpha", "bravo", "delta", "echo"]);
    const before = first.cluster.tasks().map((t) => t.taskId).sort();
    await first.scheduler.stop();

    // A scheduler that dies right after storing charlie's TaskInfo, before its ACCEPT leaves.
    const dying = new DyingDriver(first.cluster, "charlie");
    const crashing = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister, deps: { driver: dying } });
    await crashing.put("charlie", "simple.yml");
    for (let i = 0; i < 20 && !dying.dead; i++) await crashing.advance(100);
    expect(dying.dead).toBe(true);
    crashing.scheduler.runner.halt();
    const recorded = (await first.persister.children("Services/charlie/Tasks")).length;
    expect(recorded).toBe(1);
    expect(first.cluster.tasks().map((t) => t.taskId).sort()).toEqual(before);

    const { driver, requests } = recordingReconciles(first.cluster);
    await first.clock.advanceAsync(1000);
    const subscribedAt = first.clock.now();
    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister, deps: { driver } });

    // Every service's tasks (and charlie's unlaunched one) are in the first request.
    expect(requests.length).toBeGreaterThanOrEqual(1);
    const asked = new Set(requests[0]!.map((t) => t.taskId.split("__")[0]));
    expect([...asked].sort()).toEqual(["alpha", "bravo", "charlie", "delta", "echo"]);
    expect(requests[0]).toHaveLength(before.length + 1);

    while (second.deployStatus("charlie") !== "COMPLETE" && second.clock.now() - subscribedAt < 10_000) await second.advance(10);
    const took = second.clock.now() - subscribedAt;
    expect(second.deployStatus("charlie")).toBe("COMPLETE");
    expect(took).toBeLessThan(1000); // 20 ms on the simulated cluster: the first cycles after the answers
    // Nothing else was relaunched; charlie has exactly one live task.
    const now = first.cluster.tasks().map((t) => t.taskId);
    expect(now.filter((id) => !id.startsWith("charlie__")).sort()).toEqual(before);
    expect(now.filter((id) => id.startsWith("charlie__"))).toHaveLength(1);
    // Only the first request was needed.
    expect(requests).toHaveLength(1);
  });

  it("a service registered while a pass waits out its back-off is asked about at once", async () => {
    const first = await createHarness();
    await first.put("alpha", "simple.yml");
    await first.put("bravo", "simple.yml");
    await first.deployAll(["alpha", "bravo"]);
    await first.scheduler.stop();
    const { driver, requests } = recordingReconciles(first.cluster);
    // The cluster never answers alpha's reconciliation: its pass keeps going with back-off.
    const silent = new Proxy(driver, {
      get(target, prop, receiver) {
        if (prop === "reconcile") {
          return (tasks: ReconcileArg) => {
            if (tasks.length > 0) requests.push(tasks);
            return Promise.resolve();
          };
        }
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const second = await createHarness({ cluster: first.cluster, clock: first.clock, persister: first.persister, deps: { driver: silent } });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.map((t) => t.taskId.split("__")[0]).sort()).toEqual(["alpha", "bravo"]);
    await second.advance(1000);
    // A later registration (what serviceAdded does for a repaired service) restarts the pass now.
    second.scheduler.runner.serviceAdded(second.scheduler.manager.get("bravo")!);
    await second.advance(10);
    expect(requests).toHaveLength(2);
    // Only the service that registered: alpha was asked about in this pass already…
    expect(requests[1]!.map((t) => t.taskId.split("__")[0]).sort()).toEqual(["bravo"]);
    // …and the pass's retry, restarted with it, asks again for everything unanswered.
    await second.advance(8000);
    expect(requests).toHaveLength(3);
    expect(requests[2]!.map((t) => t.taskId.split("__")[0]).sort()).toEqual(["alpha", "bravo"]);
  });
});

/**
 * Deploy semantics (dcos-commons §1.12, §3.6) on the simulated cluster with the fake clock: a
 * RUNNING-goal task completes its deploy step once it runs, and when it ends later — even at
 * once, its RUNNING and its end in one status batch — the recovery plan relaunches it while the
 * deploy plan stays COMPLETE. A FINISH task that fails is retried by its deploy step, backing off.
 */
import { describe, expect, it } from "vitest";
import { SimulatedCluster } from "../../src/adapters/cluster/simulated-cluster.js";
import { FakeClock, SeededRandom } from "../../src/adapters/fake-clock.js";
import { isTerminal } from "../../src/domain/cluster.js";
import type { TaskStatus } from "../../src/domain/cluster.js";
import type { ClusterDriver } from "../../src/engine/ports.js";
import { createHarness } from "../harness/harness.js";
import type { Harness } from "../harness/harness.js";

const CRASHING = `
name: {{SERVICE_NAME}}
pods:
  hello:
    count: 1
    tasks:
      server:
        goal: RUNNING
        cmd: exit 1
        cpus: 0.1
        memory: 32
`;

const FAILING_JOB = `
name: {{SERVICE_NAME}}
pods:
  job:
    count: 1
    tasks:
      once:
        goal: FINISH
        cmd: exit 1
        cpus: 0.1
        memory: 32
`;

/** The cluster, but a task's updates are held until its terminal one and then delivered in a row: one status batch. */
function batchingDriver(cluster: SimulatedCluster): ClusterDriver {
  const held: TaskStatus[] = [];
  return new Proxy(cluster, {
    get(target, key, receiver) {
      if (key !== "subscribe") return Reflect.get(target, key, receiver) as unknown;
      const subscribe: ClusterDriver["subscribe"] = (info, events) =>
        target.subscribe(info, {
          ...events,
          update: (status) => {
            held.push(status);
            if (isTerminal(status.state)) for (const s of held.splice(0)) events.update(s);
          },
        });
      return subscribe;
    },
  });
}

async function put(h: Harness, name: string, spec: string): Promise<void> {
  await h.scheduler.putService({ name, spec, parameters: {} });
  await h.settle();
}

function plan(h: Harness, service: string, name: string): { status: string; steps: { status: string; message: string }[] } {
  const p = h.scheduler.getPlan(service, name);
  return { status: p.status, steps: p.phases.flatMap((ph) => ph.steps) };
}

describe("deploy and recovery of a task that ends", () => {
  it("completes the deploy step on RUNNING; recovery relaunches a task that exits at once, backing off, and the deploy plan stays COMPLETE", async () => {
    // STARTING, RUNNING and FAILED of each launch reach the scheduler in one batch.
    const clock = new FakeClock();
    const cluster = new SimulatedCluster({ agents: 3, clock, random: new SeededRandom(99), headOfLineDelivery: false, taskScript: () => ({ exitAfterMs: 0, exitCode: 1 }) });
    const h = await createHarness({ clock, cluster, deps: { driver: batchingDriver(cluster) } });
    await put(h, "crash", CRASHING);
    await h.advance(100);
    expect(plan(h, "crash", "deploy")).toMatchObject({ status: "COMPLETE", steps: [{ status: "COMPLETE" }] });

    const launches: number[] = [];
    for (let i = 0; i < 12; i++) {
      await h.advance(1000);
      launches.push(h.cluster.counts.launches);
      expect(plan(h, "crash", "deploy").status).toBe("COMPLETE"); // never sent back
    }
    const recovery = plan(h, "crash", "recovery");
    expect(recovery.steps).toHaveLength(1);
    expect(recovery.steps[0]!.message).toMatch(/^attempt \d+ \(transient\): task hello-0-server failed: command exited with status 1; relaunching in \d+ s$/);
    // Relaunched again and again, ever further apart (crash-loop back-off).
    expect(launches.at(-1)!).toBeGreaterThan(3);
    expect(launches.at(-1)!).toBeLessThan(12);
  });

  it("relaunches a task that ran and was killed later through recovery, in place", async () => {
    const h = await createHarness();
    await h.put("simple", "simple.yml");
    await h.deployAll(["simple"]);
    const [before] = h.cluster.tasks();
    h.cluster.failTask(before!.taskId, "TASK_KILLED", "killed by the operator");
    await h.advance(100);
    const [after] = h.cluster.tasks();
    expect(after!.taskId).not.toBe(before!.taskId);
    expect(after!.agentId).toBe(before!.agentId);
    expect(plan(h, "simple", "deploy").status).toBe("COMPLETE");
    expect(plan(h, "simple", "recovery")).toMatchObject({ status: "COMPLETE", steps: [{ status: "COMPLETE" }] });
  });

  it("retries a FINISH task that fails in its deploy step, backing off, never through recovery", async () => {
    const h = await createHarness({ sim: { taskScript: () => ({ exitAfterMs: 0, exitCode: 1 }) } });
    await put(h, "job", FAILING_JOB);
    await h.advance(100);
    await h.advance(100);
    expect(plan(h, "job", "deploy")).toMatchObject({ status: "DELAYED", steps: [{ status: "DELAYED", message: expect.stringMatching(/^relaunching in 1 s: failed 2 times in a row$/) }] });
    await h.advance(30_000);
    expect(plan(h, "job", "deploy").status).not.toBe("COMPLETE");
    expect(plan(h, "job", "recovery").steps).toEqual([]);
  });
});

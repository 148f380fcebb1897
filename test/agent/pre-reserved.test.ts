/**
 * A pod with `pre-reserved-role` on the local agent (issue 15): the agent holds a pool statically
 * reserved for the role (`--pre-reserved`), the scheduler subscribes below it and deploys the pod
 * on the pool refined to its own role; UNINSTALL hands the pool back (only the refinement goes).
 */
import { afterEach, describe, expect, it } from "vitest";
import { killEverything, ROLE, startLocal, tempDataDir, waitFor } from "../local/local-harness.js";
import type { LocalRun } from "../local/local-harness.js";

const runs: LocalRun[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const run of runs.splice(0)) await run.stop().catch(() => undefined);
  for (const dir of dirs.splice(0)) await killEverything(dir);
});

const SPEC = `name: {{SERVICE_NAME}}
pods:
  app:
    count: 1
    pre-reserved-role: pool
    tasks:
      main:
        goal: RUNNING
        cmd: exec sleep 1000
        cpus: 0.5
        memory: 64
`;

describe("pre-reserved-role on the local agent", () => {
  it("deploys the pod on the role's pool, refined to the scheduler's role", async () => {
    const dir = tempDataDir("pre-reserved");
    dirs.push(dir);
    const run = await startLocal(dir, { preReserved: [{ role: "pool", cpus: 1, memMb: 512, diskMb: 1000 }] });
    runs.push(run);
    await run.scheduler.putService({ name: "pinned", spec: SPEC, parameters: {} });
    await waitFor("pinned deployed", () => run.scheduler.getPlan("pinned", "deploy").status === "COMPLETE", 30_000);
    const [task] = run.cluster.tasks();
    const cpus = task?.info.resources.find((r) => r.name === "cpus");
    expect(cpus?.reservations?.map((r) => `${r.type}:${r.role}`)).toEqual(["STATIC:pool", `DYNAMIC:pool/${ROLE}`]);
    // The executor's share comes from the pool too: everything in use is the pool's.
    const host = run.cluster.agent.frameworkHosts().find((h) => !h.removed)!;
    const used = host.sim.agentResources(run.cluster.agentIds()[0]!).used;
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((r) => r.reservations?.[0]?.role !== "pool")).toEqual([]);

    await run.scheduler.uninstallService("pinned");
    await waitFor("the refinements released", () => run.cluster.tasks().length === 0 && run.cluster.reservations().size === 0, 30_000);
    const pool = host.sim.agentResources(run.cluster.agentIds()[0]!).total.filter((r) => r.reservations);
    expect(pool.map((r) => [r.name, r.scalar, r.reservations?.map((x) => `${x.type}:${x.role}`)])).toEqual([
      ["cpus", 1, ["STATIC:pool"]],
      ["disk", 1000, ["STATIC:pool"]],
      ["mem", 512, ["STATIC:pool"]],
    ]);
  });
});

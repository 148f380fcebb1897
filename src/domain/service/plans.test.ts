/**
 * Plans resumed from task records when a pod instance is permanently failed (being replaced):
 * the deploy plan leaves it to recovery, and its reservations are nobody's to release.
 */
import { describe, expect, it } from "vitest";
import { ids, launched, offer, record, serviceState, spec } from "../../../test/fixtures/service-state.js";
import { decideService } from "./decide.js";
import { buildServicePlans, heldResourceIds } from "./plans.js";
import type { StoredTask } from "./task-record.js";
import { LABEL_PERMANENTLY_FAILED } from "./task-record.js";

const HELLO = spec(`
name: hw
pods:
  hello:
    count: 1
    allow-decommission: true
    tasks:
      server: { goal: RUNNING, cmd: hello, cpus: 0.1, memory: 256, volume: { path: data, type: ROOT, size: 25 } }
`);

function deployed(permanentlyFailed: boolean): Map<string, StoredTask> {
  const info = launched(decideService(serviceState(HELLO), [offer("o1", "a1")], 0, ids("n"))).get("hello-0-server")!;
  const labels = permanentlyFailed ? { ...info.labels, [LABEL_PERMANENTLY_FAILED]: "true" } : info.labels;
  const stored = record({ ...info, labels }, permanentlyFailed ? "TASK_KILLED" : "TASK_RUNNING");
  return new Map([["hello-0-server", { ...stored, confirmed: true }]]);
}

describe("plans resumed over a permanently failed pod", () => {
  it("a replaced pod's deploy step starts COMPLETE: the recovery plan moves it, not the deploy plan", () => {
    const plans = buildServicePlans(HELLO, "cfg-1", deployed(true), ids("p"));

    expect(plans.deploy.phases[0]!.steps[0]!.status).toBe("COMPLETE");
    // The same record, not marked and dead, keeps its deploy step to run.
    const dead = deployed(false);
    const t = dead.get("hello-0-server")!;
    dead.set("hello-0-server", { ...t, status: { ...t.status!, state: "TASK_FAILED" } });
    expect(buildServicePlans(HELLO, "cfg-1", dead, ids("q")).deploy.phases[0]!.steps[0]!.status).not.toBe("COMPLETE");
  });

  it("a permanently failed record holds no reservation a decommission would wait for", () => {
    const failed = deployed(true).get("hello-0-server")!;
    const healthy = deployed(false).get("hello-0-server")!;
    expect(heldResourceIds(healthy).length).toBeGreaterThan(0);
    expect(heldResourceIds(failed)).toEqual([]);
  });
});

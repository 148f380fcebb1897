/**
 * Test helpers for the offer tests: hand-built specs and offers (the parser is not used,
 * so these tests pin the TaskInfo shapes whatever YAML produced the spec).
 */
import type { Offer, Resource } from "../cluster.js";
import type { PodSpec, ResourceSetSpec, TaskSpec } from "../spec/types.js";
import type { LaunchContext } from "./launch-context.js";

export function testCtx(): LaunchContext {
  let n = 0;
  return {
    service: "svc",
    sanitizedService: "svc",
    frameworkId: "fw-1",
    frameworkName: "corral",
    role: "corral-role",
    principal: "p",
    configId: "cfg-1",
    newId: () => `id-${++n}`,
  };
}

export function resourceSet(id: string, extra: Partial<ResourceSetSpec> = {}): ResourceSetSpec {
  return { id, cpus: 0.1, memoryMb: 64, gpus: 0, ports: [], volumes: [], ...extra };
}

export function taskSpec(name: string, extra: Partial<TaskSpec> = {}): TaskSpec {
  return { name, goal: "RUNNING", cmd: `run-${name}`, env: {}, resourceSetId: `${name}-rs`, essential: true, killGracePeriodS: 0, ...extra };
}

/** A pod whose tasks each have their own resource set `<task>-rs` (overridable by `sets`). */
export function podSpec(tasks: readonly TaskSpec[], extra: Partial<PodSpec> = {}, sets?: readonly ResourceSetSpec[]): PodSpec {
  return {
    type: "pod",
    count: 1,
    allowDecommission: false,
    resourceSets: sets ?? tasks.map((t) => resourceSet(t.resourceSetId)),
    tasks,
    ...extra,
  };
}

export function scalar(name: string, value: number, reservations?: Resource["reservations"]): Resource {
  return { name, type: "SCALAR", scalar: value, ...(reservations ? { reservations } : {}) };
}

export function portRange(begin: number, end: number, reservations?: Resource["reservations"]): Resource {
  return { name: "ports", type: "RANGES", ranges: [{ begin, end }], ...(reservations ? { reservations } : {}) };
}

export function testOffer(resources: readonly Resource[], agentId = "a1"): Offer {
  return { id: `o-${agentId}`, frameworkId: "fw-1", agentId, hostname: `${agentId}.host`, resources };
}

/** Plenty of unreserved cpus, mem, disk and ports 31000–31010. */
export function plentyOffer(agentId = "a1"): Offer {
  return testOffer([scalar("cpus", 4), scalar("mem", 4096), scalar("disk", 10000), portRange(31000, 31010)], agentId);
}

export const STATIC = (role: string): Resource["reservations"] => [{ type: "STATIC", role, labels: {} }];

import { describe, expect, it } from "vitest";
import type { Offer, Resource } from "../cluster.js";
import { offerRemainder } from "./remainder.js";

const scalar = (name: string, value: number): Resource => ({ name, type: "SCALAR", scalar: value });
const reserved = (name: string, value: number, id: string): Resource => ({
  ...scalar(name, value),
  reservations: [{ type: "DYNAMIC", role: "r", labels: { resource_id: id, namespace: "svc" } }],
});
const offer: Offer = {
  id: "o1",
  frameworkId: "f",
  agentId: "a",
  hostname: "h",
  resources: [scalar("cpus", 2), scalar("mem", 1024), { name: "ports", type: "RANGES", ranges: [{ begin: 31000, end: 31010 }] }, reserved("disk", 100, "held")],
};

describe("offerRemainder", () => {
  it("takes what RESERVE and a launch's executor take from the unreserved resources, and the reserved ones it uses", () => {
    const rest = offerRemainder(offer, [
      { type: "RESERVE", resources: [reserved("cpus", 0.5, "c1"), reserved("mem", 256, "m1"), { name: "ports", type: "RANGES", ranges: [{ begin: 31005, end: 31005 }], reservations: [{ type: "DYNAMIC", role: "r", labels: { resource_id: "p1" } }] }] },
      {
        type: "LAUNCH_GROUP",
        executor: { executorId: "e", frameworkId: "f", resources: [scalar("cpus", 0.01), scalar("mem", 32)], labels: {} },
        tasks: [{ name: "t", taskId: "t", agentId: "a", resources: [reserved("cpus", 0.5, "c1"), reserved("disk", 100, "held")], command: { value: "x", environment: {} }, labels: {} }],
      },
    ]);
    expect(rest?.resources).toEqual([
      scalar("cpus", 1.49),
      scalar("mem", 736),
      { name: "ports", type: "RANGES", ranges: [{ begin: 31000, end: 31004 }, { begin: 31006, end: 31010 }] },
    ]);
    expect(rest?.id).toBe("o1");
  });

  it("keeps reserved resources no operation touched, and is undefined once nothing is left", () => {
    expect(offerRemainder(offer, [])?.resources).toEqual(offer.resources);
    const all = offerRemainder(offer, [{ type: "RESERVE", resources: [reserved("cpus", 2, "a"), reserved("mem", 1024, "b"), { name: "ports", type: "RANGES", ranges: [{ begin: 31000, end: 31010 }] }] }]);
    expect(all?.resources).toEqual([reserved("disk", 100, "held")]);
    expect(offerRemainder(all!, [{ type: "UNRESERVE", resources: [reserved("disk", 100, "held")] }])).toBeUndefined();
  });

  it("takes an executor's resources once however many task groups launch in it", () => {
    const executor = { executorId: "e", frameworkId: "f", resources: [scalar("cpus", 0.01), scalar("mem", 32)], labels: {} };
    const task = (name: string) => ({ name, taskId: name, agentId: "a", resources: [scalar("cpus", 0.1)], command: { value: "x", environment: {} }, labels: {} });
    const rest = offerRemainder(offer, [
      { type: "LAUNCH_GROUP", executor, tasks: [task("t1")] },
      { type: "LAUNCH_GROUP", executor, tasks: [task("t2")] },
    ]);
    expect(rest?.resources.slice(0, 2)).toEqual([scalar("cpus", 1.79), scalar("mem", 992)]);
  });

  it("counts a refined RESERVE and a pre-reserved executor against the role's static resources, not the unreserved ones", () => {
    const STATIC = [{ type: "STATIC" as const, role: "R", labels: {} }];
    const stat = (name: string, value: number): Resource => ({ ...scalar(name, value), reservations: STATIC });
    const refined = (name: string, value: number, id: string): Resource => ({
      ...scalar(name, value),
      reservations: [...STATIC, { type: "DYNAMIC", role: "R/r", labels: { resource_id: id } }],
    });
    const mixed: Offer = { ...offer, resources: [scalar("cpus", 2), stat("cpus", 1), stat("mem", 100)] };
    const rest = offerRemainder(mixed, [
      { type: "RESERVE", resources: [refined("cpus", 0.5, "c")] },
      { type: "LAUNCH_GROUP", executor: { executorId: "e", frameworkId: "f", resources: [stat("cpus", 0.01), stat("mem", 32)], labels: {} }, tasks: [] },
    ]);
    expect(rest?.resources).toEqual([scalar("cpus", 2), stat("cpus", 0.49), stat("mem", 68)]);
  });
});

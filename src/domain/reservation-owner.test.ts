import { describe, expect, it } from "vitest";
import type { Resource } from "./cluster.js";
import { evaluateOffer } from "./offer/evaluate.js";
import { OfferPool, reservationLabels } from "./offer/pool.js";
import { plentyOffer, podSpec, taskSpec, testCtx } from "./offer/test-kit.js";
import { isDefaultService, reservationOwner } from "./reservation-owner.js";

const reserved = (labels: Record<string, string> | undefined): Resource => ({
  name: "cpus",
  type: "SCALAR",
  scalar: 1,
  ...(labels ? { reservations: [{ type: "DYNAMIC" as const, role: "r", labels }] } : {}),
});

describe("reservationOwner", () => {
  it.each([
    { name: "its namespace label", labels: { resource_id: "r", namespace: "/a/b" }, def: "fw", owner: "/a/b" },
    { name: "unlabelled, ours: the default service", labels: { resource_id: "r", framework_id: "f" }, def: "fw", owner: "fw" },
    { name: "unlabelled, no framework_id (it may be another framework's): nobody", labels: { resource_id: "r" }, def: "fw", owner: undefined },
    { name: "unlabelled, another framework's: nobody", labels: { resource_id: "r", framework_id: "g" }, def: "fw", owner: undefined },
    { name: "unlabelled without a default service: nobody (left alone)", labels: { resource_id: "r" }, def: undefined, owner: undefined },
    { name: "no resource_id (not made by a scheduler): nobody", labels: { framework_id: "f" }, def: "fw", owner: undefined },
    { name: "unreserved: nobody", labels: undefined, def: "fw", owner: undefined },
  ])("$name", ({ labels, def, owner }) => {
    expect(reservationOwner(reserved(labels), "f", def)).toBe(owner);
  });
});

describe("isDefaultService", () => {
  it.each([
    ["hello", "hello", true],
    ["team/fw", "/team/fw", true],
    ["team.fw", "team/fw/", true],
    ["hello", "hello-world", false],
  ] as const)("%s for framework %s: %s", (service, framework, expected) => {
    expect(isDefaultService(service, framework)).toBe(expected);
  });
});

describe("mono launches", () => {
  it.each([
    { mono: false, namespace: "svc" },
    { mono: true, namespace: undefined },
  ])("mono=$mono: reservations carry resource_id and framework_id, namespace $namespace", ({ mono, namespace }) => {
    const ctx = { ...testCtx(), mono };
    const result = evaluateOffer(ctx, { pod: podSpec([taskSpec("server")]), podIndex: 0, tasks: [taskSpec("server")] }, OfferPool.of(plentyOffer()));
    if (result.kind === "no-match") throw new Error(result.reason);
    const labels = result.tasks.flatMap((t) => t.resources).map((r) => reservationLabels(r)!);
    expect(labels.length).toBeGreaterThan(0);
    for (const l of labels) {
      expect(l["resource_id"]).toBeDefined();
      expect(l["framework_id"]).toBe("fw-1");
      expect(l["namespace"]).toBe(namespace);
    }
  });
});

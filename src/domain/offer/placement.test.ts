/**
 * Placement evaluation, one operator at a time: which agents a constraint refuses (and why),
 * given where the other instances of the pod type run, and the order acceptable agents are tried in.
 */
import { describe, expect, it } from "vitest";
import type { Offer, TaskInfo } from "../cluster.js";
import type { PlacementConstraint } from "../spec/placement.js";
import { placementTarget } from "../spec/placement.js";
import type { AgentPlace } from "./agent-place.js";
import { placeLabels, placeOfLabels } from "./agent-place.js";
import type { PlacedInstance } from "./placement.js";
import { PlacementPass, PodPlacement, placedInstances } from "./placement.js";

function rule(field: string, operator: PlacementConstraint["operator"], param?: string | number): PlacementConstraint {
  const base = { field, target: placementTarget(field), operator };
  if (param === undefined) return base;
  return typeof param === "number" ? { ...base, count: param } : { ...base, value: param };
}

const at = (hostname: string, attributes: Record<string, string> = {}): AgentPlace => ({ hostname, attributes });
const on = (name: string, place: AgentPlace): PlacedInstance => ({ name, place });

const H1 = at("h1", { rack: "r1", zone: "z1", region: "east" });
const H2 = at("h2", { rack: "r2", zone: "z1", region: "east" });
const H3 = at("h3", { rack: "r3", zone: "z2", region: "west" });
const BARE = at("10.0.0.7");

describe("one constraint", () => {
  it.each([
    { name: "hostname:UNIQUE, free host", c: rule("hostname", "UNIQUE"), placed: [on("world-0", H1)], agent: H2, want: "ok" },
    { name: "hostname:UNIQUE, taken host", c: rule("hostname", "UNIQUE"), placed: [on("world-0", H1)], agent: H1, want: "hostname:UNIQUE, world-0 already there" },
    { name: "hostname:UNIQUE ignores the instance itself", c: rule("hostname", "UNIQUE"), placed: [on("world-1", H1)], agent: H1, want: "ok" },
    { name: "rack:UNIQUE, taken rack", c: rule("rack", "UNIQUE"), placed: [on("world-0", H1)], agent: at("h9", { rack: "r1" }), want: "rack:UNIQUE, world-0 already in attribute rack r1" },
    { name: "rack:UNIQUE, agent without rack", c: rule("rack", "UNIQUE"), placed: [], agent: BARE, want: "rack:UNIQUE, agent has no attribute rack" },
    { name: "hostname:MAX_PER:2, one there", c: rule("hostname", "MAX_PER", 2), placed: [on("world-0", H1)], agent: H1, want: "ok" },
    { name: "hostname:MAX_PER:2, two there", c: rule("hostname", "MAX_PER", 2), placed: [on("world-0", H1), on("world-2", H1)], agent: H1, want: "hostname:MAX_PER:2, world-0, world-2 already there" },
    { name: "zone:MAX_PER:1", c: rule("zone", "MAX_PER", 1), placed: [on("world-0", H1)], agent: H2, want: "zone:MAX_PER:1, world-0 already in zone z1" },
    { name: "hostname:CLUSTER:h1 on h1", c: rule("hostname", "CLUSTER", "h1"), placed: [], agent: H1, want: "ok" },
    { name: "hostname:CLUSTER:h1 on h2", c: rule("hostname", "CLUSTER", "h1"), placed: [], agent: H2, want: "hostname:CLUSTER:h1, hostname is h2" },
    { name: "rack:CLUSTER, first instance anywhere", c: rule("rack", "CLUSTER"), placed: [], agent: H2, want: "ok" },
    { name: "rack:CLUSTER, with the first", c: rule("rack", "CLUSTER"), placed: [on("world-0", H1)], agent: at("h9", { rack: "r1" }), want: "ok" },
    { name: "rack:CLUSTER, elsewhere", c: rule("rack", "CLUSTER"), placed: [on("world-0", H1)], agent: H2, want: "rack:CLUSTER, world-0 is in attribute rack r1" },
    { name: "hostname:LIKE matches the whole value", c: rule("hostname", "LIKE", "10.0.0.*"), placed: [], agent: BARE, want: "ok" },
    { name: "hostname:LIKE, a prefix is not a match", c: rule("hostname", "LIKE", "h"), placed: [], agent: H1, want: "hostname:LIKE:h, hostname h1 does not match" },
    { name: "rack:LIKE, no rack", c: rule("rack", "LIKE", "r.*"), placed: [], agent: BARE, want: "rack:LIKE:r.*, agent has no attribute rack" },
    { name: "rack:UNLIKE, matching", c: rule("rack", "UNLIKE", "r[12]"), placed: [], agent: H2, want: "rack:UNLIKE:r[12], attribute rack r2 matches" },
    { name: "rack:UNLIKE, not matching", c: rule("rack", "UNLIKE", "r[12]"), placed: [], agent: H3, want: "ok" },
    { name: "rack:UNLIKE, no rack", c: rule("rack", "UNLIKE", "r[12]"), placed: [], agent: BARE, want: "ok" },
    { name: "zone:IS:z2 on z2", c: rule("zone", "IS", "z2"), placed: [], agent: H3, want: "ok" },
    { name: "zone:IS:z2 on z1", c: rule("zone", "IS", "z2"), placed: [], agent: H1, want: "zone:IS:z2, zone is z1" },
    { name: "zone:IS, no zone", c: rule("zone", "IS", "z2"), placed: [], agent: BARE, want: "zone:IS:z2, agent has no zone" },
    { name: "@region:IS_NOT:east on east", c: rule("@region", "IS_NOT", "east"), placed: [], agent: H1, want: "@region:IS_NOT:east, region is east" },
    { name: "@region:IS_NOT:east on west", c: rule("@region", "IS_NOT", "east"), placed: [], agent: H3, want: "ok" },
    { name: "@region:IS_NOT:east, no region", c: rule("@region", "IS_NOT", "east"), placed: [], agent: BARE, want: "ok" },
    { name: "zone:GROUP_BY, a new zone", c: rule("zone", "GROUP_BY"), placed: [on("world-0", H1)], agent: H3, want: "ok" },
    { name: "zone:GROUP_BY, the only zone seen", c: rule("zone", "GROUP_BY"), placed: [on("world-0", H1)], agent: H2, want: "ok" },
    { name: "zone:GROUP_BY, a fuller zone", c: rule("zone", "GROUP_BY"), placed: [on("world-0", H1), on("world-2", H2), on("world-3", H3)], agent: H1, want: "zone:GROUP_BY, zone z1 has 2 while another has 1" },
    { name: "zone:GROUP_BY:2, the other zone first", c: rule("zone", "GROUP_BY", 2), placed: [on("world-0", H1)], agent: H2, want: "zone:GROUP_BY:2, zone z1 has 1 while 1 of 2 values have none" },
    { name: "zone:GROUP_BY, no zone", c: rule("zone", "GROUP_BY"), placed: [], agent: BARE, want: "zone:GROUP_BY, agent has no zone" },
  ])("$name", ({ c, placed, agent, want }) => {
    const verdict = new PodPlacement({ constraints: [c] }, placed).judge(agent, "world-1");
    expect(verdict.ok ? "ok" : verdict.reason).toBe(want);
  });

  it("quotes at most three instance names", () => {
    const placed = ["a", "b", "c", "d", "e"].map((n) => on(`world-${n}`, H1));
    const verdict = new PodPlacement({ constraints: [rule("hostname", "MAX_PER", 5)] }, placed).judge(H1, "world-9");
    expect(verdict).toEqual({ ok: false, reason: "hostname:MAX_PER:5, world-a, world-b, world-c and 2 more already there" });
  });
});

function offerAt(id: string, place: AgentPlace): Offer {
  return { id, frameworkId: "fw", agentId: `agent-${id}`, hostname: place.hostname, attributes: place.attributes, resources: [] };
}

describe("ranking offers", () => {
  it("every constraint must hold; refusals name the agent, at most three, then a count", () => {
    const placement = new PodPlacement({ constraints: [rule("hostname", "UNIQUE"), rule("zone", "IS", "z1")] }, [on("world-0", H1)]);
    const hosts = [H1, H2, H3, at("h4", { zone: "z2" }), at("h5", { zone: "z2" })];
    const ranked = placement.rank(hosts.map((h, i) => offerAt(`o${i}`, h)), "world-1");
    expect(ranked.order).toEqual([1]);
    expect(ranked.refused).toBe("agent h1: hostname:UNIQUE, world-0 already there; agent h3: zone:IS:z1, zone is z2; agent h4: zone:IS:z1, zone is z2; and 1 more agent");
  });

  it("GROUP_BY tries the emptiest zone first; ties keep the offers' order", () => {
    const placement = new PodPlacement({ constraints: [rule("zone", "GROUP_BY"), rule("hostname", "UNIQUE")] }, [on("world-0", H1)]);
    const offers = [offerAt("a", at("h5", { zone: "z1" })), offerAt("b", at("h6", { zone: "z3" })), offerAt("c", H3)];
    expect(placement.rank(offers, "world-1")).toEqual({ order: [1, 2, 0], refused: "" });
  });

  it("an added launch counts at once", () => {
    const placement = new PodPlacement({ constraints: [rule("hostname", "UNIQUE")] }, []);
    const offers = [offerAt("a", H1), offerAt("b", H2)];
    expect(placement.rank(offers, "world-0").order).toEqual([0, 1]);
    placement.add(on("world-0", H1));
    expect(placement.rank(offers, "world-1")).toEqual({ order: [1], refused: "agent h1: hostname:UNIQUE, world-0 already there" });
  });
});

describe("a step's pass over the offers", () => {
  const offers = [offerAt("a", H1), offerAt("b", H2), offerAt("c", H3), offerAt("d", at("h1", { zone: "z9" }))];

  it("without a ranking constraint judges offers as they are tried, so the first allowed one ends the pass", () => {
    const placement = new PodPlacement({ constraints: [rule("hostname", "UNIQUE")] }, [on("world-0", H1)]);
    const pass = new PlacementPass(placement, offers, "world-1");
    expect(pass.order).toBeUndefined();
    expect([0, 1].map((i) => pass.allows(i))).toEqual([false, true]);
    expect(pass.why("insufficient cpus")).toBe("insufficient cpus; agent h1: hostname:UNIQUE, world-0 already there");
    pass.placed(offers[1]!);
    expect(placement.judge(H2, "world-2")).toEqual({ ok: false, reason: "hostname:UNIQUE, world-1 already there" });
  });

  it("with one ranks them all first; without an allowed offer the refusals alone say why", () => {
    const placement = new PodPlacement({ constraints: [rule("hostname", "MAX_PER", 1)] }, [on("world-0", H1), on("world-2", H2), on("world-3", H3)]);
    const pass = new PlacementPass(placement, offers, "world-1");
    expect(pass.order).toEqual([]);
    expect(pass.why("no offer matched")).toBe(
      "agent h1: hostname:MAX_PER:1, world-0 already there; agent h2: hostname:MAX_PER:1, world-2 already there; agent h3: hostname:MAX_PER:1, world-3 already there; and 1 more agent",
    );
  });
});

describe("where instances run, from task records", () => {
  function info(name: string, type: string, index: number, place: AgentPlace): { info: TaskInfo } {
    const offer = offerAt("x", place);
    return {
      info: { name, taskId: `svc__${name}__1`, agentId: "a", resources: [], command: { value: "x", environment: {} }, labels: { task_type: type, index: String(index), ...placeLabels(offer) } },
    };
  }

  it("one entry per pod instance of the type", () => {
    const tasks = [
      info("world-0-a", "world", 0, H1),
      info("world-0-b", "world", 0, H1),
      info("world-1-a", "world", 1, H3),
      info("hello-0-a", "hello", 0, H2),
    ];
    expect(placedInstances(tasks, "world")).toEqual([on("world-0", H1), on("world-1", H3)]);
  });

  it("the labels keep hostname, attributes, zone and region", () => {
    const offer = offerAt("x", H3);
    expect(placeLabels(offer)).toEqual({ offer_hostname: "h3", offer_attributes: "rack:r3;region:west;zone:z2", offer_zone: "z2", offer_region: "west" });
    expect(placeOfLabels(placeLabels(offer))).toEqual(H3);
    expect(placeLabels(offerAt("y", BARE))).toEqual({ offer_hostname: "10.0.0.7", offer_attributes: "" });
  });
});

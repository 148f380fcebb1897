import { describe, expect, it } from "vitest";
import { expectViolation, specText as spec } from "../../../test/fixtures/spec-text.js";
import { parseServiceSpec } from "./parse.js";

const P = "spec.pods.hello";

/** A pod whose one set holds only ports, its task naming the set and writing inline amounts too. */
const PORTS_ONLY = spec({
  pod: [
    "resource-sets:",
    "  net:",
    "    ports:",
    "      one: {port: 17771}",
    "      two: {port: 0, env-key: TWO, ranges: [{begin: 1024, end: 5000}, {begin: 5050, end: }]}",
  ].join("\n"),
  task: "cmd: run\nresource-set: net\ncpus: 0.1\nmemory: 64\nports: {three: {port: 9}}",
});

describe("resource sets, as the reference reads them", () => {
  it("uses the named set alone and warns once per inline resource key of the task", () => {
    const { spec: parsed, warnings } = parseServiceSpec(PORTS_ONLY);
    const pod = parsed.pods[0]!;
    expect(pod.tasks[0]?.resourceSetId).toBe("net");
    expect(pod.resourceSets.map((s) => s.id)).toEqual(["net"]);
    const ignored = "ignored: the task uses resource-set net, as the reference does";
    expect(warnings).toEqual([
      { field: `${P}.tasks.server.cpus`, message: ignored },
      { field: `${P}.tasks.server.memory`, message: ignored },
      { field: `${P}.tasks.server.ports`, message: ignored },
    ]);
  });

  it("lets a named set omit cpus and memory: 0, nothing reserved", () => {
    const set = parseServiceSpec(PORTS_ONLY).spec.pods[0]!.resourceSets[0]!;
    expect(set).toMatchObject({ cpus: 0, memoryMb: 0, gpus: 0 });
    expect(set.ports.map((p) => [p.name, p.port])).toEqual([["one", 17771], ["two", 0]]);
  });

  it("lets a named set hold only memory, or only a volume", () => {
    const memOnly = parseServiceSpec(spec({ pod: "resource-sets: {rs: {memory: 64}}", task: "cmd: x\nresource-set: rs" }));
    expect(memOnly.spec.pods[0]!.resourceSets[0]).toMatchObject({ cpus: 0, memoryMb: 64 });
    const volOnly = parseServiceSpec(spec({ pod: "resource-sets: {rs: {volume: {path: d, type: ROOT, size: 5}}}", task: "cmd: x\nresource-set: rs" }));
    expect(volOnly.spec.pods[0]!.resourceSets[0]).toMatchObject({ cpus: 0, memoryMb: 0, volumes: [{ path: "d", sizeMb: 5 }] });
  });

  it("refuses a named set that defines no resource", () => {
    expectViolation(
      spec({ pod: "resource-sets: {rs: {resource-limits: {cpus: 2}}}", task: "cmd: x\nresource-set: rs" }),
      `${P}.resource-sets.rs`,
      /must define at least one resource: cpus, gpus, memory, a port or a volume/,
    );
  });

  it("still checks an amount a named set writes", () => {
    expectViolation(spec({ pod: "resource-sets: {rs: {cpus: 0, memory: 64}}", task: "cmd: x\nresource-set: rs" }), `${P}.resource-sets.rs.cpus`, /greater than 0/);
  });

  it("keeps cpus and memory required inline, as every reference spec writes them", () => {
    expectViolation(spec({ task: "cmd: x\nmemory: 64" }), `${P}.tasks.server.cpus`, /is required \(> 0\) unless the task uses a resource-set/);
    expectViolation(spec({ task: "cmd: x\ncpus: 1" }), `${P}.tasks.server.memory`, /is required/);
  });

  it("still refuses an unknown resource-set beside inline keys", () => {
    expectViolation(spec({ task: "cmd: x\nresource-set: nope\ncpus: 1" }), `${P}.tasks.server.resource-set`, /unknown resource set 'nope'/);
  });
});

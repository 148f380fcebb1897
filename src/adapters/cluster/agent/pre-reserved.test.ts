import { describe, expect, it } from "vitest";
import { agentResources } from "../sim-agent-spec.js";
import { parsePreReserved } from "./pre-reserved.js";

describe("--pre-reserved", () => {
  it("reads pools per role, ports as a list of ranges", () => {
    expect(parsePreReserved("pool:cpus=1,mem=512,disk=1000")).toEqual([{ role: "pool", cpus: 1, memMb: 512, diskMb: 1000 }]);
    expect(parsePreReserved("a/b:cpus=0.5,ports=9000-9001,9005 ; c:mem=64")).toEqual([
      { role: "a/b", cpus: 0.5, ports: [{ begin: 9000, end: 9001 }, { begin: 9005, end: 9005 }] },
      { role: "c", memMb: 64 },
    ]);
  });

  it("refuses roles that cannot hold a reservation and amounts it cannot offer", () => {
    expect(() => parsePreReserved("")).toThrow(/expects ROLE:cpus=N/);
    expect(() => parsePreReserved("*:cpus=1")).toThrow(/'\*' is not a role/);
    expect(() => parsePreReserved("a//b:cpus=1")).toThrow(/role 'a\/\/b' is not valid/);
    expect(() => parsePreReserved("pool:gpus=1")).toThrow(/got "gpus=1"/);
    expect(() => parsePreReserved("pool:cpus=0")).toThrow(/cpus must be a positive number/);
    expect(() => parsePreReserved("pool:cpus=1,cpus=2")).toThrow(/cpus is given twice/);
    expect(() => parsePreReserved("pool:cpus=1;pool:mem=1")).toThrow(/role 'pool' is given twice/);
    expect(() => parsePreReserved("pool")).toThrow(/expects ROLE:/);
  });

  it("refuses keys that are not pool fields, inherited property names included", () => {
    for (const bad of ["R:toString=1", "R:constructor=1", "R:__proto__=1", "R:gpus=1"]) expect(() => parsePreReserved(bad)).toThrow(/R:/);
  });

  it("an agent refuses two pools that name the same port", () => {
    const spec = { hostname: "h", cpus: 4, memMb: 4096, diskMb: 1000, ports: { begin: 9000, end: 9100 }, preReserved: [{ role: "a", ports: [{ begin: 9000, end: 9010 }] }, { role: "b", ports: [{ begin: 9005, end: 9015 }] }] };
    expect(() => agentResources(spec as never)).toThrow(/9005-9015 of b overlap the ports of a/);
  });
});

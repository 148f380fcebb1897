import { describe, expect, it } from "vitest";
import { localAgentSpecs } from "./local-agents.js";

const machine = { hostname: "h", cpus: 2, memMb: 24_000, diskMb: 1001, ports: { begin: 31000, end: 32000 } };

describe("localAgentSpecs", () => {
  it("offers the whole machine as one agent by default", () => {
    expect(localAgentSpecs(machine, 1)).toEqual([
      {
        hostname: "h",
        cpus: 2,
        memMb: 24_000,
        diskMb: 1001,
        ports: { begin: 31000, end: 32000 },
        attributes: { agent: "0", rack: "rack-0", zone: "zone-0", region: "local" },
      },
    ]);
  });

  it("gives several agents hostnames and racks of their own, two zones and one region", () => {
    const agents = localAgentSpecs(machine, 3);
    expect(agents.map((a) => a.hostname)).toEqual(["h-agent-0", "h-agent-1", "h-agent-2"]);
    expect(agents.map((a) => a.attributes)).toEqual([
      { agent: "0", rack: "rack-0", zone: "zone-0", region: "local" },
      { agent: "1", rack: "rack-1", zone: "zone-1", region: "local" },
      { agent: "2", rack: "rack-2", zone: "zone-0", region: "local" },
    ]);
  });

  it("splits cpus, memory, disk and ports so that the agents never add up to more than the machine", () => {
    const agents = localAgentSpecs(machine, 3);
    const sum = (f: (a: (typeof agents)[number]) => number): number => agents.reduce((n, a) => n + f(a), 0);
    expect(agents.map((a) => a.cpus)).toEqual([0.66, 0.66, 0.66]);
    expect(sum((a) => a.cpus!)).toBeLessThanOrEqual(2);
    expect(sum((a) => a.memMb!)).toBeLessThanOrEqual(24_000);
    expect(sum((a) => a.diskMb!)).toBeLessThanOrEqual(1001);
    // Port ranges are disjoint and inside the machine's range.
    const ranges = agents.map((a) => a.ports!);
    expect(ranges).toEqual([
      { begin: 31000, end: 31332 },
      { begin: 31333, end: 31665 },
      { begin: 31666, end: 31998 },
    ]);
  });

  it("splits several port ranges into equal disjoint runs, and pre-reserved pools like the rest", () => {
    const ports = [{ begin: 1024, end: 1029 }, { begin: 9999, end: 9999 }, { begin: 20000, end: 20004 }];
    const preReserved = [{ role: "pool", cpus: 1, memMb: 1000, ports: [{ begin: 1029, end: 1029 }, { begin: 20004, end: 20004 }] }];
    const agents = localAgentSpecs({ ...machine, ports, preReserved }, 3);
    expect(agents.map((a) => a.ports)).toEqual([
      { begin: 1024, end: 1027 },
      [{ begin: 1028, end: 1029 }, { begin: 9999, end: 9999 }, { begin: 20000, end: 20000 }],
      { begin: 20001, end: 20004 },
    ]);
    expect(agents.map((a) => a.preReserved)).toEqual([
      [{ role: "pool", cpus: 0.33, memMb: 333 }],
      [{ role: "pool", cpus: 0.33, memMb: 333, ports: [{ begin: 1029, end: 1029 }] }],
      [{ role: "pool", cpus: 0.33, memMb: 333, ports: [{ begin: 20004, end: 20004 }] }],
    ]);
  });

  it("refuses a count that is not a positive integer or leaves an agent without a port", () => {
    expect(() => localAgentSpecs(machine, 0)).toThrow(/positive integer/);
    expect(() => localAgentSpecs({ ...machine, ports: { begin: 1, end: 2 } }, 3)).toThrow(/cannot share 2 ports/);
    const outside = [{ role: "pool", ports: [{ begin: 30999, end: 31000 }] }];
    expect(() => localAgentSpecs({ ...machine, preReserved: outside }, 1)).toThrow(/pre-reserved ports of role 'pool' are not all among/);
  });
});

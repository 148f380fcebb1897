import { describe, expect, it } from "vitest";
import { parseAgentResources, withResources } from "./machine-resources.js";

describe("--agent-resources", () => {
  it("reads Mesos' name:value;… syntax for cpus, mem and disk and puts them over the measured machine", () => {
    expect(parseAgentResources("cpus:16;mem:65536")).toEqual({ cpus: 16, memMb: 65536 });
    expect(parseAgentResources(" disk:100000 ; cpus:0.5 ;")).toEqual({ diskMb: 100000, cpus: 0.5 });
    const machine = { hostname: "h", cpus: 2, memMb: 1000, diskMb: 50, ports: { begin: 31000, end: 32000 } };
    expect(withResources(machine, { cpus: 16 })).toEqual({ ...machine, cpus: 16 });
  });

  it("refuses what it cannot offer, saying why", () => {
    expect(() => parseAgentResources("gpus:1")).toThrow(/expects cpus:N;mem:MB;disk:MB, got "gpus:1"/);
    expect(() => parseAgentResources("cpus:0")).toThrow(/cpus must be positive/);
    expect(() => parseAgentResources("cpus:1;cpus:2")).toThrow(/cpus is given twice/);
    expect(() => parseAgentResources("cpus=4")).toThrow(/expects/);
  });
});

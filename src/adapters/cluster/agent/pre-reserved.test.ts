import { describe, expect, it } from "vitest";
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
});

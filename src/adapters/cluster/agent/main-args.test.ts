import { describe, expect, it } from "vitest";
import { agentArgv, parseAgentArgs } from "./main-args.js";

describe("the agent daemon's command line", () => {
  it("round-trips through agentArgv", () => {
    const args = { stateDir: "/s", agents: 3, heartbeatIntervalS: 0.5, listen: { host: "127.0.0.1", port: 0 }, chaos: true };
    expect(parseAgentArgs(agentArgv(args))).toEqual(args);
    expect(parseAgentArgs(["--state-dir", "/s"])).toEqual({ stateDir: "/s", agents: 1, heartbeatIntervalS: 15, chaos: false });
    const more = { stateDir: "/s", agents: 2, heartbeatIntervalS: 15, chaos: false, ports: "8000-8999,9999", preReserved: "pool:cpus=1,mem=512", secretsDir: "/x/secrets" };
    expect(parseAgentArgs(agentArgv(more))).toEqual(more);
  });

  it("refuses what it cannot run with", () => {
    expect(() => parseAgentArgs([])).toThrow(/--state-dir/);
    expect(() => parseAgentArgs(["--state-dir", "/s", "--local-agents", "1.5"])).toThrow(/positive integer/);
    expect(() => parseAgentArgs(["--state-dir", "/s", "--listen", "nowhere"])).toThrow(/host:port/);
    expect(() => parseAgentArgs(["--state-dir", "/s", "--bogus"])).toThrow(/unknown option/);
    expect(() => parseAgentArgs(["--state-dir", "/s", "--ports", "90-80"])).toThrow(/--ports expects port ranges/);
    expect(() => parseAgentArgs(["--state-dir", "/s", "--pre-reserved", "*:cpus=1"])).toThrow(/--pre-reserved '\*' is not a role/);
  });
});

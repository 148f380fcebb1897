import { describe, expect, it } from "vitest";
import { parseServiceSpec } from "./parse.js";
import { withTaskConfig } from "./task-config.js";

const SPEC = `name: cfg
pods:
  hello-world:
    count: 1
    tasks:
      server: { goal: RUNNING, cmd: "true", cpus: 0.1, memory: 32, env: { KEEP: spec, LEVEL: spec } }
  other:
    count: 1
    tasks:
      main: { goal: RUNNING, cmd: "true", cpus: 0.1, memory: 32 }
`;

describe("TASKCFG parameters", () => {
  it("TASKCFG_ALL_ reaches every task, TASKCFG_<POD>_ the pod's, over the spec's env", () => {
    const { spec } = parseServiceSpec(SPEC);
    const out = withTaskConfig(spec, { TASKCFG_ALL_LEVEL: "all", TASKCFG_HELLO_WORLD_LEVEL: "pod", TASKCFG_ALL_OUT: "x", OTHER: "y" });
    expect(out.pods[0]!.tasks[0]!.env).toEqual({ KEEP: "spec", LEVEL: "pod", OUT: "x" });
    expect(out.pods[1]!.tasks[0]!.env).toEqual({ LEVEL: "all", OUT: "x" });
  });

  it("leaves the spec as it is when no parameter is a TASKCFG one", () => {
    const { spec } = parseServiceSpec(SPEC);
    expect(withTaskConfig(spec, { A: "1", TASKCFG_ALL_: "empty name" })).toEqual(spec);
    expect(withTaskConfig(spec, { A: "1" })).toBe(spec);
  });
});

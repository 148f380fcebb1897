import { describe, expect, it } from "vitest";
import {
  PRESET,
  TASK,
  failureOf,
  loadSpec,
  shape,
  specText as spec,
} from "../../../test/fixtures/spec-text.js";
import { parseServiceSpec } from "./parse.js";
import { REFERENCE_SVC_PARAMS } from "../../../test/fixtures/reference-params.js";

describe("examples/ deploy with only the preset parameters", () => {
  it.each([
    {
      file: "hello-world.yml",
      pods: [
        ["hello", 1, ["server"]],
        ["world", 2, ["server"]],
      ],
      warnings: 0,
    },
    { file: "simple.yml", pods: [["hello", 1, ["server"]]], warnings: 0 },
    {
      file: "finish-once.yml",
      pods: [
        ["hello", 2, ["server"]],
        ["world", 1, ["init", "server", "finish"]],
      ],
      warnings: 0,
    },
    { file: "multistep.yml", pods: [["hello", 1, ["first", "second"]]], warnings: 0 },
  ])("$file", ({ file, pods, warnings }) => {
    const parsed = loadSpec(`examples/${file}`, PRESET);
    expect(parsed.spec.name).toBe("test1");
    expect(shape(parsed)).toEqual(pods);
    expect(parsed.warnings).toHaveLength(warnings);
  });

  it("hello-world carries volumes, checks and its hello pod's placement, without warnings", () => {
    const { spec: s, warnings } = loadSpec("examples/hello-world.yml", PRESET);
    const [hello, world] = s.pods;
    expect(hello?.resourceSets[0]).toMatchObject({
      cpus: 0.1,
      memoryMb: 252,
      volumes: [{ sizeMb: 25, type: "ROOT" }],
    });
    expect(hello?.tasks[0]?.healthCheck).toMatchObject({
      gracePeriodS: 30,
      maxConsecutiveFailures: 3,
    });
    expect(world?.resourceSets[0]?.volumes).toHaveLength(2);
    expect(world?.tasks[0]?.readinessCheck?.cmd).toContain("wc -c");
    expect(world?.tasks[0]?.killGracePeriodS).toBeGreaterThan(0);
    expect(hello?.placement).toEqual({
      constraints: [{ field: "hostname", target: "hostname", operator: "UNIQUE" }],
    });
    expect(warnings).toEqual([]);
  });

  it("finish-once has every goal and an explicit plan", () => {
    const { spec: s } = loadSpec("examples/finish-once.yml", PRESET);
    expect(s.pods[1]?.tasks.map((t) => t.goal)).toEqual(["ONCE", "RUNNING", "FINISH"]);
    expect(s.plans[0]?.phases.map((p) => p.name)).toEqual([
      "hello-deploy",
      "world-init-deploy",
      "world-server-deploy",
      "world-finish-deploy",
    ]);
  });

  it("multistep deploys first and second as separate steps", () => {
    const phase = loadSpec("examples/multistep.yml", PRESET).spec.plans[0]?.phases[0];
    expect(phase?.steps?.get("default")).toEqual([["first"], ["second"]]);
  });
});

describe("reference fixtures", () => {
  const params = {
    ...PRESET,
    ...REFERENCE_SVC_PARAMS,
  };

  it("svc.yml parses its placement and rlimits, with a warning (not an error) for principal", () => {
    const parsed = loadSpec("test/fixtures/reference-svc.yml", params);
    expect(shape(parsed)).toEqual([
      ["hello", 1, ["server"]],
      ["world", 2, ["server"]],
    ]);
    expect(parsed.spec.user).toBe("nobody");
    expect(parsed.spec.pods[0]?.tasks[0]?.env).toEqual({ SLEEP_DURATION: "1000" });
    expect(parsed.spec.pods[1]?.tasks[0]?.killGracePeriodS).toBe(5);
    expect(parsed.spec.pods.map((p) => p.placement?.constraints.map((c) => c.operator))).toEqual([["UNIQUE"], ["UNIQUE"]]);
    expect(parsed.spec.pods[0]?.rlimits).toEqual([{ name: "RLIMIT_NOFILE", soft: 128000, hard: 128000 }]);
    expect(parsed.warnings.map((w) => w.field)).toEqual(["spec.scheduler.principal"]);
  });

  it("svc.yml without its parameters names each missing one", () => {
    const err = failureOf(() => loadSpec("test/fixtures/reference-svc.yml", PRESET));
    expect(err.code).toBe("invalid_argument");
    expect(err.violations.map((v) => v.field)).toContain("parameters.HELLO_COUNT");
    expect(err.violations.map((v) => v.field)).toContain("parameters.WORLD_KILL_GRACE_PERIOD");
  });

  it("simple.yml parses", () => {
    const parsed = loadSpec("test/fixtures/reference-simple.yml", params);
    expect(shape(parsed)).toEqual([["hello", 1, ["server"]]]);
    expect(parsed.warnings.map((w) => w.field)).toEqual(["spec.scheduler.principal"]);
  });
});

describe("parseServiceSpec accepts", () => {
  it("numbers written as strings", () => {
    const text = spec({ task: 'cmd: run\ncpus: "0.5"\nmemory: "64"' }).replace(
      "count: 1",
      'count: "2"',
    );
    const { spec: s } = parseServiceSpec(text);
    expect(s.pods[0]?.count).toBe(2);
    expect(s.pods[0]?.resourceSets[0]).toMatchObject({
      id: "server-resource-set",
      cpus: 0.5,
      memoryMb: 64,
    });
  });

  it("the documented defaults", () => {
    const task = `${TASK}\nhealth-check: {cmd: check}\nreadiness-check: {cmd: ready}`;
    const { spec: s } = parseServiceSpec(spec({ task }));
    const parsed = s.pods[0]?.tasks[0];
    expect(parsed).toMatchObject({
      goal: "RUNNING",
      essential: true,
      killGracePeriodS: 0,
      env: {},
    });
    const defaults = {
      intervalS: 5,
      timeoutS: 10,
      delayS: 0,
      gracePeriodS: 0,
      maxConsecutiveFailures: 3,
    };
    expect(parsed?.healthCheck).toEqual({ cmd: "check", ...defaults });
    expect(parsed?.readinessCheck).toEqual({ cmd: "ready", ...defaults });
    expect(s.pods[0]).toMatchObject({
      allowDecommission: false,
      resourceSets: [{ gpus: 0, ports: [], volumes: [] }],
    });
    expect(s.plans).toEqual([]);
  });

  it.each([
    { goal: "running", want: "RUNNING" },
    { goal: "Finish", want: "FINISH" },
    { goal: "ONCE", want: "ONCE" },
  ])("goal $goal case-insensitively", ({ goal, want }) => {
    const { spec: s } = parseServiceSpec(spec({ task: `${TASK}\ngoal: ${goal}` }));
    expect(s.pods[0]?.tasks[0]?.goal).toBe(want);
  });

  it("env values verbatim and ports with default env keys", () => {
    const ports = "ports:\n  http-api: {port: 8080}\n  any: {}\n  other: {env-key: MY_PORT}";
    const { spec: s } = parseServiceSpec(
      spec({ task: `${TASK}\nenv: {VERSION: 1.10, EMPTY: }\n${ports}` }),
    );
    expect(s.pods[0]?.tasks[0]?.env).toEqual({ VERSION: "1.10", EMPTY: "" });
    expect(s.pods[0]?.resourceSets[0]?.ports).toEqual([
      { name: "http-api", port: 8080, envKey: "PORT_HTTP_API" },
      { name: "any", port: 0, envKey: "PORT_ANY" },
      { name: "other", port: 0, envKey: "MY_PORT" },
    ]);
  });

  it("resource sets shared by tasks, warning about unused ones", () => {
    const pod =
      "resource-sets:\n  shared: {cpus: 1, memory: 128, ports: {p: {port: 9999}}}\n  spare: {cpus: 1, memory: 1}";
    const tasks =
      "a: {cmd: run, resource-set: shared}\nb: {cmd: run, resource-set: shared, goal: FINISH}";
    const parsed = parseServiceSpec(spec({ pod, tasks }));
    expect(parsed.spec.pods[0]?.tasks.map((t) => t.resourceSetId)).toEqual(["shared", "shared"]);
    expect(parsed.spec.pods[0]?.resourceSets.map((r) => r.id)).toEqual(["shared", "spare"]);
    expect(parsed.warnings).toEqual([
      { field: "spec.pods.hello.resource-sets.spare", message: "not used by any task" },
    ]);
  });
});

describe("parseServiceSpec warns about, never rejects, keys it does not know", () => {
  const T = "spec.pods.hello.tasks.server";

  it("scheduler.zookeeper, which Corral's own store setting replaces", () => {
    expect(parseServiceSpec(spec({ tail: "scheduler: {zookeeper: zk}" })).warnings).toEqual([
      { field: "spec.scheduler.zookeeper", message: "ignored: Corral's own --store setting applies to every service" },
    ]);
  });

  it.each([
    { name: "top-level", text: spec({ tail: "colour: blue" }), field: "spec.colour" },
    { name: "pod", text: spec({ pod: "colour: blue" }), field: "spec.pods.hello.colour" },
    { name: "task", text: spec({ task: `${TASK}\ncolour: blue` }), field: `${T}.colour` },
    {
      name: "check",
      text: spec({ task: `${TASK}\nreadiness-check: {cmd: x, grace-period: 1}` }),
      field: `${T}.readiness-check.grace-period`,
    },
  ])("unknown $name key", ({ text, field }) => {
    expect(parseServiceSpec(text).warnings).toEqual([{ field, message: "unknown key, ignored" }]);
  });

  it("top-level user, pointing at scheduler.user", () => {
    const parsed = parseServiceSpec(spec({ tail: "user: nobody" }));
    expect(parsed.spec.user).toBeUndefined();
    expect(parsed.warnings).toEqual([
      { field: "spec.user", message: "unknown key, ignored; the service user is scheduler.user" },
    ]);
  });
});

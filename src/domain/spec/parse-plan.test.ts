import { describe, expect, it } from "vitest";
import { TASK, failureOf, indent, specText as spec } from "../../../test/fixtures/spec-text.js";
import { parseServiceSpec } from "./parse.js";

const TWO_TASKS = `first:\n${indent(TASK, 2)}\nsecond:\n${indent(TASK, 2)}`;

/** A spec whose deploy plan has one phase `p` written as `phase`. */
function plan(phase: string, tasks?: string, pod?: string): string {
  const tail = `plans:\n  deploy:\n    phases:\n      p: ${phase}`;
  return spec({
    tail,
    ...(tasks !== undefined ? { tasks } : {}),
    ...(pod !== undefined ? { pod } : {}),
  });
}

describe("plans", () => {
  it("keeps plans and phases in spec order with their strategies", () => {
    const tail =
      "plans:\n  deploy:\n    strategy: parallel\n    phases:\n      b: {pod: hello}\n      a: {pod: hello, strategy: parallel}\n  manual: {phases: {m: {pod: hello}}}";
    const { spec: s } = parseServiceSpec(spec({ tail }));
    expect(s.plans).toEqual([
      {
        name: "deploy",
        strategy: "parallel",
        phases: [
          { name: "b", pod: "hello", strategy: "serial" },
          { name: "a", pod: "hello", strategy: "parallel" },
        ],
      },
      {
        name: "manual",
        strategy: "serial",
        phases: [{ name: "m", pod: "hello", strategy: "serial" }],
      },
    ]);
  });

  it("reads steps per pod index and default", () => {
    const block = "pod: hello\nsteps:\n  - 0: [[first, second]]\n  - default: [[first], [second]]";
    const { spec: s } = parseServiceSpec(plan(`\n${indent(block, 8)}`, TWO_TASKS));
    expect([...(s.plans[0]?.phases[0]?.steps ?? [])]).toEqual([
      [0, [["first", "second"]]],
      ["default", [["first"], ["second"]]],
    ]);
  });

  it("warns about steps for an index beyond the count", () => {
    const parsed = parseServiceSpec(
      plan("{pod: hello, steps: [{default: [[server]]}, {3: [[server]]}]}"),
    );
    expect(parsed.warnings).toEqual([
      {
        field: "spec.plans.deploy.phases.p.steps[1].3",
        message: "pod index 3 is beyond count 1; not used",
      },
    ]);
  });

  it.each(["canary", "serial-canary", "parallel-canary"])("accepts %s as it is, without a warning", (strategy) => {
    const parsed = parseServiceSpec(plan(`{pod: hello, strategy: ${strategy}}`));
    expect(parsed.spec.plans[0]?.phases[0]).toEqual({ name: "p", pod: "hello", strategy });
    expect(parsed.warnings).toEqual([]);
  });
});

describe("plans rejected", () => {
  const P = "spec.plans.deploy.phases.p";
  const shared = "a: {cmd: x, resource-set: rs}\nb: {cmd: y, resource-set: rs}";
  const rs = "resource-sets: {rs: {cpus: 1, memory: 1}}";

  it.each([
    {
      name: "plan strategy canary",
      text: spec({
        tail: "plans:\n  deploy:\n    strategy: canary\n    phases: {p: {pod: hello}}",
      }),
      field: "spec.plans.deploy.strategy",
      reason: /must be one of serial, parallel, got 'canary'/,
    },
    {
      name: "plan without phases",
      text: spec({ tail: "plans:\n  deploy: {}" }),
      field: "spec.plans.deploy.phases",
      reason: /at least one phase/,
    },
    {
      name: "bad plan name",
      text: spec({ tail: "plans:\n  'my plan': {phases: {p: {pod: hello}}}" }),
      field: "spec.plans.my plan",
      reason: /plan name/,
    },
    {
      name: "phase without pod",
      text: plan("{strategy: serial}"),
      field: `${P}.pod`,
      reason: /is required/,
    },
    {
      name: "unknown pod",
      text: plan("{pod: nope}"),
      field: `${P}.pod`,
      reason: /unknown pod 'nope' \(pods: hello\)/,
    },
    {
      name: "unknown phase strategy",
      text: plan("{pod: hello, strategy: random}"),
      field: `${P}.strategy`,
      reason: /serial, parallel, canary, serial-canary, parallel-canary/,
    },
    {
      name: "unknown task in steps",
      text: plan("{pod: hello, steps: [{default: [[nope]]}]}"),
      field: `${P}.steps[0].default[0][0]`,
      reason: /unknown task 'nope' in pod hello \(tasks: server\)/,
    },
    {
      name: "step not a list of lists",
      text: plan("{pod: hello, steps: [{default: [server]}]}"),
      field: `${P}.steps[0].default[0]`,
      reason: /list of task names/,
    },
    {
      name: "empty step",
      text: plan("{pod: hello, steps: [{default: [[]]}]}"),
      field: `${P}.steps[0].default[0]`,
      reason: /at least one task/,
    },
    {
      name: "no step groups",
      text: plan("{pod: hello, steps: [{default: []}]}"),
      field: `${P}.steps[0].default`,
      reason: /at least one step/,
    },
    {
      name: "missing index without default",
      text: plan("{pod: hello, steps: [{1: [[server]]}]}"),
      field: `${P}.steps`,
      reason: /no steps for pod index 0 and no default/,
    },
    {
      name: "bad step key",
      text: plan("{pod: hello, steps: [{first: [[server]]}]}"),
      field: `${P}.steps[0].first`,
      reason: /pod index .* or default/,
    },
    {
      name: "duplicate step key",
      text: plan("{pod: hello, steps: [{0: [[server]]}, {0: [[server]]}]}"),
      field: `${P}.steps[1].0`,
      reason: /already defined/,
    },
    {
      name: "multi-key step entry",
      text: plan("{pod: hello, steps: [{0: [[server]], default: [[server]]}]}"),
      field: `${P}.steps[0]`,
      reason: /single-key/,
    },
    {
      name: "shared resource set in one step",
      text: plan("{pod: hello, steps: [{default: [[a, b]]}]}", shared, rs),
      field: `${P}.steps[0].default[0][1]`,
      reason: /tasks a and b share resource set rs/,
    },
    {
      name: "task listed twice in a step",
      text: plan("{pod: hello, steps: [{default: [[first, first]]}]}", TWO_TASKS),
      field: `${P}.steps[0].default[0][1]`,
      reason: /listed twice/,
    },
  ])("$name", ({ text, field, reason }) => {
    const err = failureOf(() => parseServiceSpec(text));
    expect(err.code).toBe("invalid_argument");
    const match = err.violations.find((v) => v.field === field);
    expect(match, JSON.stringify(err.violations)).toBeDefined();
    expect(match?.reason).toMatch(reason);
  });
});

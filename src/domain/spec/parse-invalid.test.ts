import { describe, it } from "vitest";
import { expect } from "vitest";
import { SchedulerError } from "../errors.js";
import { parseServiceSpec } from "./parse.js";
import {
  TASK,
  expectViolation,
  failureOf,
  indent,
  specText as spec,
} from "../../../test/fixtures/spec-text.js";
import { SPEC_LIMITS } from "./parse.js";

const many = (n: number, body: string): string =>
  Array.from({ length: n }, (_, i) => `t${i}: ${body}`).join("\n");
/** Nine levels of ten aliases each: 10^9 nodes if expanded. */
const BOMB = [
  "a: &a [x, x, x, x, x, x, x, x, x, x]",
  ..."bcdefghi"
    .split("")
    .map((c, i) => `${c}: &${c} [${Array(10).fill(`*${"abcdefghi"[i]}`).join(", ")}]`),
].join("\n");

const DEPTH = SPEC_LIMITS.maxYamlDepth;
/** `depth` flow lists nested inside each other under key `a`. */
const flow = (depth: number, inner = "x"): string => `a: ${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
/** A valid spec plus `tail` (top-level keys, ignored with a warning). */
const withTail = (tail: string): string => spec({ tail });

describe("parseServiceSpec rejects hostile YAML", () => {
  it.each([
    { name: "flow lists one too deep", text: flow(DEPTH + 1), reason: /^YAML nested deeper than 64 \(line 1, column \d+\) \(SPEC_LIMITS\.maxYamlDepth\)$/ },
    { name: "128,000 nested flow lists", text: flow(128_000), reason: /YAML nested deeper than 64/ },
    { name: "60,000 nested flow maps", text: `a: ${"{a: ".repeat(60_000)}`, reason: /YAML nested deeper than 64/ },
    { name: "120,000 nested block lists", text: `a:\n${"- ".repeat(120_000)}x`, reason: /YAML nested deeper than 64 \(line 2,/ },
    {
      name: "block maps one too deep",
      text: Array.from({ length: DEPTH + 1 }, (_, i) => `${" ".repeat(i)}a:`).join("\n") + " x",
      reason: /YAML nested deeper than 64/,
    },
    { name: "YAML 9.9", text: `%YAML 9.9\n---\n${spec()}`, reason: /^Unsupported YAML version 9\.9 \(line 1, column \d+\); a spec is YAML 1\.1 or 1\.2$/ },
    { name: "YAML 1.3", text: `%YAML 1.3\n---\n${spec()}`, reason: /Unsupported YAML version 1\.3/ },
    { name: "!!float", text: spec().replace("count: 1", "count: !!float 1"), reason: /^YAML tag !!float is not supported; write the value without a tag \(line 4, column \d+\)$/ },
    { name: "!!int", text: spec().replace("count: 1", "count: !!int 1"), reason: /YAML tag !!int is not supported/ },
    { name: "!!binary", text: withTail("b: !!binary AQ=="), reason: /YAML tag !!binary is not supported/ },
    { name: "!!set", text: withTail("b: !!set {x, y}"), reason: /YAML tag !!set is not supported/ },
    { name: "!!omap", text: withTail("b: !!omap [x: 1]"), reason: /YAML tag !!omap is not supported/ },
    { name: "!!map on a list", text: withTail("b: !!map [x]"), reason: /YAML tag !!map is not supported/ },
    { name: "custom tag", text: withTail("b: !mine x"), reason: /YAML tag !mine is not supported/ },
    { name: "tag from a %TAG directive", text: `%TAG !e! tag:example.com,2000:\n---\n${withTail("b: !e!x 1")}`, reason: /YAML tag tag:example\.com,2000:x is not supported/ },
    { name: "merge key", text: withTail("base: &b {x: 1}\nc:\n  <<: *b"), reason: /^YAML merge keys \(<<\) are not supported; write the keys out \(line \d+, column 3\)$/ },
    { name: "merge key under YAML 1.1", text: `%YAML 1.1\n---\n${withTail("base: &b {x: 1}\nc: {<<: *b}")}`, reason: /YAML merge keys/ },
    { name: "raw NUL", text: spec().replace("cmd: run", "cmd: r\0un"), reason: /^NUL is not allowed in a spec \(line 8, column 15\)$/ },
    { name: "escaped NUL in a value", text: spec().replace("cmd: run", 'cmd: "r\\0un"'), reason: /^NUL is not allowed in a spec \(line 8, column 14\)$/ },
    { name: "escaped NUL in an ignored key", text: withTail('"x\\x00": 1'), reason: /NUL is not allowed/ },
    { name: "control character in a key", text: withTail('"a\\u001bb": 1'), reason: /^key '"a\\u001bb"' contains a control character/ },
    { name: "tab in a key", text: spec({ task: `${TASK}\nenv: {"A\\tB": x}` }), reason: /contains a control character/ },
    { name: "C1 control in a key", text: withTail('"a\\x85": 1'), reason: /^key '"a\\u0085"' contains a control character/ },
    { name: "DEL in a key", text: withTail('"a\\x7f": 1'), reason: /^key '"a\\u007f"' contains a control character/ },
    { name: "empty second document", text: `${spec()}\n---\n`, reason: /multiple documents/ },
  ])("$name", ({ text, reason }) => expectViolation(text, "spec", reason));

  it("accepts collections nested to the limit", () => {
    const err = failureOf(() => parseServiceSpec(flow(DEPTH)));
    expect(err.violations.map((v) => v.field)).toEqual(["spec.name", "spec.pods"]);
  });

  it.each([1, 2, 5, 9, 12])("aliases chaining %i deep lists load or hit the alias limit", (links) => {
    const lines = [`a0: &a0 ${flow(DEPTH - 1).slice(3)}`];
    for (let i = 1; i <= links; i++) lines.push(`a${i}: &a${i} ${flow(DEPTH - 1, `*a${i - 1} `).slice(3)}`);
    let err: unknown;
    try {
      parseServiceSpec(withTail(lines.join("\n")));
    } catch (e) {
      err = e;
    }
    if (err === undefined) return;
    expect(err).toBeInstanceOf(SchedulerError);
    expect((err as SchedulerError).message).toMatch(/SPEC_LIMITS\.maxAliasCount/);
  });

  it("accepts an alias of its own enclosing node as data (refused by type, never followed forever)", () => {
    expectViolation(spec({ task: `${TASK}\nenv: &e {A: *e }` }), "spec.pods.hello.tasks.server.env.A", /must be a scalar value/);
  });
});

describe("parseServiceSpec rejects the document", () => {
  it.each([
    {
      name: "YAML syntax error",
      text: "name: [a\npods: 1",
      field: "spec",
      reason: /YAML syntax error: .* \(line 2, column 1\)/,
    },
    { name: "duplicate pod", text: "name: a\npods:\n  p: {}\n  p: {}", field: "spec.pods", reason: /^duplicate pods entry 'p' \(line 4, column 3\)$/ },
    { name: "duplicate plan in a flow map", text: "name: a\nplans: {k, j, 'k': 1}", field: "spec.plans", reason: /^duplicate plans entry 'k' \(line 2, column 15\)$/ },
    { name: "duplicate plan behind an anchor", text: "name: a\nplans:\n  &k d: 1\n  d: 2", field: "spec.plans", reason: /^duplicate plans entry 'd' \(line 4, column 3\)$/ },
    {
      name: "several documents",
      text: "name: a\n---\nname: b",
      field: "spec",
      reason: /multiple documents/,
    },
    { name: "alias bomb", text: BOMB, field: "spec", reason: /SPEC_LIMITS\.maxAliasCount/ },
    { name: "empty document", text: "", field: "spec", reason: /is empty/ },
    {
      name: "non-mapping document",
      text: "- a",
      field: "spec",
      reason: /must be a mapping, got a list/,
    },
    {
      name: "oversized text",
      text: `# ${"x".repeat(SPEC_LIMITS.maxSpecChars)}`,
      field: "spec",
      reason: /SPEC_LIMITS\.maxSpecChars/,
    },
    {
      name: "missing name",
      text: spec().replace("name: svc", ""),
      field: "spec.name",
      reason: /is required/,
    },
    {
      name: "uppercase name",
      text: spec().replace("name: svc", "name: Team"),
      field: "spec.name",
      reason: /lowercase/,
    },
    {
      name: "name with __",
      text: spec().replace("name: svc", "name: a__b"),
      field: "spec.name",
      reason: /must not contain '__'/,
    },
    {
      name: "no pods",
      text: "name: svc\npods: {}",
      field: "spec.pods",
      reason: /at least one pod/,
    },
    {
      name: "pods not a map",
      text: "name: svc\npods: [a]",
      field: "spec.pods",
      reason: /must be a mapping/,
    },
    {
      name: "too many pods",
      text: `name: svc\npods:\n${indent(many(101, "{}"), 2)}`,
      field: "spec.pods",
      reason: /SPEC_LIMITS\.maxPods \(at most 100, got 101\)/,
    },
    {
      name: "too many task instances",
      text: spec({ tasks: many(11, "{cmd: x, cpus: 1, memory: 1}") }).replace(
        "count: 1",
        "count: 1000",
      ),
      field: "spec.pods",
      reason: /SPEC_LIMITS\.maxTaskInstances/,
    },
  ])("$name", ({ text, field, reason }) => expectViolation(text, field, reason));
});

describe("parseServiceSpec checks keys for duplicates in linear time", () => {
  // yaml's own check compares each key with all earlier ones: 60,000 keys took ~20 s.
  const keys = Array.from({ length: 60_000 }, (_, i) => i.toString(36));
  it("one duplicate among 60,000 flow-map keys, and equal keys in different maps", { timeout: 8_000 }, () => {
    expectViolation(withTail(`plans: {${keys.join(",")},${keys[59_998]!}}`), "spec.plans", /^duplicate plans entry '.+' \(line \d+, column \d+\)$/);
    const half = keys.slice(0, 30_000).join(",");
    const err = failureOf(() => parseServiceSpec(`name: svc\nx: {${half}}\ny: {${half}}`));
    expect(err.violations.map((v) => v.field)).toEqual(["spec.pods"]);
  });
});

describe("parseServiceSpec rejects a pod", () => {
  const P = "spec.pods.hello";
  it.each([
    {
      name: "bad pod type",
      text: spec().replace("  hello:", "  Hello_1:"),
      field: "spec.pods.Hello_1",
      reason: /DNS label/,
    },
    {
      name: "missing count",
      text: spec().replace("count: 1", ""),
      field: `${P}.count`,
      reason: /is required/,
    },
    {
      name: "negative count",
      text: spec().replace("count: 1", "count: -1"),
      field: `${P}.count`,
      reason: /at least 0/,
    },
    {
      name: "count not a number",
      text: spec().replace("count: 1", "count: two"),
      field: `${P}.count`,
      reason: /must be an integer, got 'two'/,
    },
    {
      name: "fractional count",
      text: spec().replace("count: 1", "count: 1.5"),
      field: `${P}.count`,
      reason: /must be an integer/,
    },
    {
      name: "count over limit",
      text: spec().replace("count: 1", "count: 1001"),
      field: `${P}.count`,
      reason: /SPEC_LIMITS\.maxPodCount/,
    },
    {
      name: "allow-decommission not a boolean",
      text: spec({ pod: "allow-decommission: sure" }),
      field: `${P}.allow-decommission`,
      reason: /true or false/,
    },
    {
      name: "no tasks",
      text: spec({ tasks: "" }),
      field: `${P}.tasks`,
      reason: /at least one task/,
    },
    {
      name: "too many tasks",
      text: spec({ tasks: many(101, "{}") }),
      field: `${P}.tasks`,
      reason: /SPEC_LIMITS\.maxTasksPerPod/,
    },
    {
      name: "bad task name",
      text: spec({ tasks: `ser_ver:\n${indent(TASK, 2)}` }),
      field: `${P}.tasks.ser_ver`,
      reason: /DNS label/,
    },
    {
      name: "resource set of no resource",
      text: spec({ pod: "resource-sets: {rs: {gpus: 0, ports: {}}}", task: "cmd: x\nresource-set: rs" }),
      field: `${P}.resource-sets.rs`,
      reason: /must define at least one resource: cpus, gpus, memory, a port or a volume/,
    },
    {
      name: "inline set id collides",
      text: spec({ pod: "resource-sets: {server-resource-set: {cpus: 1, memory: 1}}" }),
      field: `${P}.tasks.server`,
      reason: /which resource-sets also defines/,
    },
    {
      name: "duplicate static port",
      text: spec({
        tasks: `a:\n${indent(`${TASK}\nports: {x: {port: 80}}`, 2)}\nb:\n${indent(`${TASK}\nports: {y: {port: 80}}`, 2)}`,
      }),
      field: `${P}.tasks.b.ports.y.port`,
      reason: /port 80 is already used by spec\.pods\.hello\.tasks\.a\.ports\.x\.port/,
    },
  ])("$name", ({ text, field, reason }) => expectViolation(text, field, reason));
});

import { describe, it } from "vitest";
import {
  TASK,
  expectViolation,
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

describe("parseServiceSpec rejects the document", () => {
  it.each([
    {
      name: "YAML syntax error",
      text: "name: [a\npods: 1",
      field: "spec",
      reason: /YAML syntax error: .* \(line 2, column 1\)/,
    },
    {
      name: "duplicate key",
      text: "name: a\nname: b",
      field: "spec",
      reason: /unique \(line 2, column 1\)/,
    },
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
      text: spec({ tasks: `Server:\n${indent(TASK, 2)}` }),
      field: `${P}.tasks.Server`,
      reason: /DNS label/,
    },
    {
      name: "resource set without memory",
      text: spec({ pod: "resource-sets: {rs: {cpus: 1}}", task: "cmd: x\nresource-set: rs" }),
      field: `${P}.resource-sets.rs.memory`,
      reason: /is required/,
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

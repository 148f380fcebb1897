import { describe, expect, it } from "vitest";
import { indentFlowContinuations } from "./yaml-flow-indent.js";
import { loadYaml } from "./yaml-load.js";
import { failureOf } from "../../../test/fixtures/spec-text.js";

/** Loads `text` as the spec loader does, Maps turned into objects for comparison. */
function load(text: string): unknown {
  const tree = loadYaml(text, []);
  return JSON.parse(JSON.stringify(tree, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v)));
}

describe("flow collections continued on shallow lines, as SnakeYAML reads them", () => {
  // Expected values: what PyYAML (whose scanner SnakeYAML ports) reads with its base loader.
  it.each([
    ["a step list under a sequence item", "steps:\n  - default: [[server],\n    [other]]\n", { steps: [{ default: [["server"], ["other"]] }] }],
    ["a sequence under a compact mapping", "x:\n  - a: [b,\n   c]\n", { x: [{ a: ["b", "c"] }] }],
    ["a mapping at column 0", "x: {a: 1,\nb: 2}\n", { x: { a: "1", b: "2" } }],
    ["a mapping as a sequence item", "x:\n  - {a: 1,\n  b: 2}\n", { x: [{ a: "1", b: "2" }] }],
    ["a quoted scalar with brackets", "x:\n  - a: ['[b', \"c]\",\n    d]\n", { x: [{ a: ["[b", "c]", "d"] }] }],
  ])("%s", (_name, text, expected) => {
    expect(load(text)).toEqual(expected);
  });

  it("leaves block scalars, comments and plain text with brackets alone", () => {
    const text = "cmd: |\n  [ -f x ] && echo {\nmore: echo [x # [\nlist: [a,\nb]\n";
    expect(indentFlowContinuations(text)).toBe("cmd: |\n  [ -f x ] && echo {\nmore: echo [x # [\nlist: [a,\n       b]\n");
    expect(load(text)).toEqual({ cmd: "[ -f x ] && echo {\n", more: "echo [x", list: ["a", "b"] });
  });

  it("keeps a line and column for a flow collection that never closes", () => {
    const err = failureOf(() => loadYaml("x:\n  - a: [b,\n   c\ny: 1\n", []));
    expect(err.violations[0]?.reason).toMatch(/^YAML syntax error: .*\(line \d+, column \d+\)$/);
  });
});

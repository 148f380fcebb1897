/**
 * `pods.<type>.placement` in both of the reference's syntaxes, every operator, and the
 * violations a malformed constraint gives (INVALID_ARGUMENT naming the pod and the operator).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SchedulerError } from "../errors.js";
import { podsEquivalent } from "./config-update.js";
import { escapedSplit } from "./placement-parse.js";
import { matchesWhole, regexProblem } from "./placement-regex.js";
import { parseServiceSpec } from "./parse.js";
import type { PlacementConstraint } from "./placement.js";

/** A one-pod spec whose pod `world` has `placement` written as the YAML text given. */
function specWith(placement: string): string {
  return `
name: svc
pods:
  world:
    count: 2
    placement: ${placement}
    tasks:
      server: { goal: RUNNING, cmd: sleep 1, cpus: 0.1, memory: 32 }
`;
}

function constraintsOf(placement: string): readonly PlacementConstraint[] | undefined {
  return parseServiceSpec(specWith(placement)).spec.pods[0]?.placement?.constraints;
}

function violationsOf(placement: string): { field: string; reason: string }[] {
  try {
    parseServiceSpec(specWith(placement));
  } catch (err) {
    if (err instanceof SchedulerError && err.code === "invalid_argument") return err.violations.map((v) => ({ ...v }));
    throw err;
  }
  throw new Error(`placement ${placement} was accepted`);
}

const host = (operator: PlacementConstraint["operator"], extra: Partial<PlacementConstraint> = {}): PlacementConstraint => ({
  field: "hostname",
  target: "hostname",
  operator,
  ...extra,
});

describe("placement: both syntaxes, every operator", () => {
  it.each([
    { name: "JSON rows", yaml: `'[["hostname","UNIQUE"]]'`, want: [host("UNIQUE")] },
    { name: "JSON rows with spaces", yaml: `'[["hostname", "UNIQUE"]]'`, want: [host("UNIQUE")] },
    { name: "Marathon string", yaml: "hostname:UNIQUE", want: [host("UNIQUE")] },
    { name: "operator in any case", yaml: "hostname:unique", want: [host("UNIQUE")] },
    { name: "JSON flat row", yaml: `'["hostname","UNIQUE"]'`, want: [host("UNIQUE")] },
    { name: "YAML list of rows", yaml: "[[hostname, UNIQUE]]", want: [host("UNIQUE")] },
    { name: "JSON MAX_PER", yaml: `'[["hostname","MAX_PER","2"]]'`, want: [host("MAX_PER", { count: 2 })] },
    { name: "JSON MAX_PER as a JSON number", yaml: `'[["hostname","MAX_PER",2]]'`, want: [host("MAX_PER", { count: 2 })] },
    { name: "string MAX_PER", yaml: "hostname:MAX_PER:3", want: [host("MAX_PER", { count: 3 })] },
    { name: "LIKE", yaml: "hostname:LIKE:10.0.0.*", want: [host("LIKE", { value: "10.0.0.*" })] },
    { name: "UNLIKE", yaml: `'[["hostname","UNLIKE","bad-.*"]]'`, want: [host("UNLIKE", { value: "bad-.*" })] },
    { name: "CLUSTER with a value", yaml: "hostname:CLUSTER:h1", want: [host("CLUSTER", { value: "h1" })] },
    { name: "CLUSTER alone: with the others", yaml: "rack:CLUSTER", want: [{ field: "rack", target: "attribute", operator: "CLUSTER" }] },
    { name: "IS", yaml: "rack:IS:r1", want: [{ field: "rack", target: "attribute", operator: "IS", value: "r1" }] },
    { name: "IS_NOT", yaml: "rack:IS_NOT:r1", want: [{ field: "rack", target: "attribute", operator: "IS_NOT", value: "r1" }] },
    { name: "GROUP_BY", yaml: "zone:GROUP_BY", want: [{ field: "zone", target: "zone", operator: "GROUP_BY" }] },
    { name: "GROUP_BY over 3", yaml: `'[["@zone","GROUP_BY","3"]]'`, want: [{ field: "@zone", target: "zone", operator: "GROUP_BY", count: 3 }] },
    { name: "region", yaml: "'@region:IS:us-east'", want: [{ field: "@region", target: "region", operator: "IS", value: "us-east" }] },
    {
      name: "several, Marathon string",
      yaml: "'hostname:UNIQUE, rack_id:LIKE:rack-[1-3]'",
      want: [host("UNIQUE"), { field: "rack_id", target: "attribute", operator: "LIKE", value: "rack-[1-3]" }],
    },
    {
      name: "several, JSON",
      yaml: `'[["hostname","MAX_PER","2"],["zone","GROUP_BY","2"]]'`,
      want: [host("MAX_PER", { count: 2 }), { field: "zone", target: "zone", operator: "GROUP_BY", count: 2 }],
    },
    { name: "escaped separators", yaml: "'rack:LIKE:r\\,x{1\\,2}'", want: [{ field: "rack", target: "attribute", operator: "LIKE", value: "r,x{1,2}" }] },
  ])("$name", ({ yaml, want }) => {
    expect(constraintsOf(yaml)).toEqual(want);
  });

  it.each([
    { name: "empty string", yaml: "''" },
    { name: "empty JSON list", yaml: "'[]'" },
    { name: "null", yaml: "~" },
  ])("$name: no placement", ({ yaml }) => {
    expect(constraintsOf(yaml)).toBeUndefined();
  });

  it("warns about it no more", () => {
    expect(parseServiceSpec(specWith("hostname:UNIQUE")).warnings).toEqual([]);
  });
});

describe("placement: a malformed constraint is INVALID_ARGUMENT naming the pod and the operator", () => {
  const FIELD = "spec.pods.world.placement";
  it.each([
    { name: "MAX_PER without a number", yaml: "hostname:MAX_PER", reason: /MAX_PER needs the most instances per value, a whole number/ },
    { name: "MAX_PER with a word", yaml: `'[["hostname","MAX_PER","two"]]'`, reason: /constraint 'hostname:MAX_PER:two': MAX_PER needs .* got 'two'/ },
    { name: "MAX_PER 0", yaml: "hostname:MAX_PER:0", reason: /MAX_PER needs .* from 1 to/ },
    { name: "GROUP_BY with a fraction", yaml: "zone:GROUP_BY:1.5", reason: /GROUP_BY needs how many values to spread over/ },
    { name: "UNIQUE with a parameter", yaml: "hostname:UNIQUE:1", reason: /UNIQUE takes no parameter/ },
    { name: "LIKE without a regex", yaml: "hostname:LIKE", reason: /LIKE needs a regular expression/ },
    { name: "LIKE with a broken regex", yaml: "'hostname:LIKE:rack-[1-3'", reason: /LIKE parameter 'rack-\[1-3' is not a valid regular expression/ },
    { name: "LIKE with nested repetition", yaml: "'hostname:LIKE:(a+)+$'", reason: /LIKE parameter .* a repeated group may not contain a repetition/ },
    { name: "UNLIKE with a backreference", yaml: "'hostname:UNLIKE:(a)\\1'", reason: /UNLIKE parameter .* may not use backreferences/ },
    { name: "LIKE too long", yaml: `'hostname:LIKE:${"a".repeat(300)}'`, reason: /LIKE parameter .* longer than 256 characters/ },
    { name: "IS without a value", yaml: "rack:IS", reason: /IS needs a value/ },
    { name: "IS_NOT without a value", yaml: "rack:IS_NOT", reason: /IS_NOT needs a value/ },
    { name: "unknown operator", yaml: "hostname:UNIQE", reason: /unknown operator 'UNIQE'; expected one of UNIQUE, CLUSTER, GROUP_BY, LIKE, UNLIKE, MAX_PER, IS, IS_NOT/ },
    { name: "one part", yaml: "hostname", reason: /must be field:OPERATOR .* got 1 part/ },
    { name: "four parts", yaml: "a:IS:b:c", reason: /got 4 parts/ },
    { name: "no field", yaml: "':UNIQUE'", reason: /names no field/ },
    { name: "bad JSON", yaml: `'[["hostname","UNIQUE"]'`, reason: /is not a valid JSON list of constraints/ },
    { name: "JSON rows of objects", yaml: `'[{"hostname":"UNIQUE"}]'`, reason: /each a list of strings/ },
    { name: "a mapping", yaml: "{ hostname: UNIQUE }", reason: /must be a constraint string or list, got a mapping/ },
  ])("$name", ({ yaml, reason }) => {
    const found = violationsOf(yaml);
    expect(found).toHaveLength(1);
    expect(found[0]!.field).toBe(FIELD);
    expect(found[0]!.reason).toMatch(reason);
  });

  it("names which of several constraints is wrong, and reports each", () => {
    const found = violationsOf("'hostname:UNIQUE,rack:MAX_PER:x,zone:LIKE'");
    expect(found.map((v) => v.reason)).toEqual([
      expect.stringMatching(/^constraint 2 'rack:MAX_PER:x': MAX_PER needs/),
      expect.stringMatching(/^constraint 3 'zone:LIKE': LIKE needs a regular expression/),
    ]);
  });

  it("refuses more than 16 constraints", () => {
    const many = Array.from({ length: 17 }, (_, i) => `a${i}:UNIQUE`).join(",");
    expect(violationsOf(`'${many}'`)[0]!.reason).toMatch(/has 17 constraints, at most 16/);
  });
});

describe("placement regular expressions", () => {
  it.each(["rack-[1-3]", "10\\.0\\.0\\..*", "(a|b)c", "[ab]*", "(ab)+", "a{1,3}(x)?", ".*-prod-.*"])("accepts %s", (pattern) => {
    expect(regexProblem(pattern)).toBeUndefined();
  });

  it.each(["(a+)+", "(a|aa)*", "(a*){2,}", "((ab)*c)+", "(\\d+x?)*", "(?:a|b)+"])("refuses %s (exponential backtracking)", (pattern) => {
    expect(regexProblem(pattern)).toMatch(/repeated group/);
  });

  it.each([
    { pattern: ".*.*.*.*x", reason: /has 4 repetitions .* at most 3/ },
    { pattern: "(a|a)(a|a)(a|a)(a|a)(a|a)", reason: /has 32 ways through its alternatives, at most 16/ },
  ])("refuses $pattern (polynomial or branching blow-up)", ({ pattern, reason }) => {
    expect(regexProblem(pattern)).toMatch(reason);
  });

  it("any pattern it accepts matches a hostname-sized value in milliseconds", () => {
    // Pieces that overlap on the values below, so that backtracking has every chance to explode.
    const piece = fc.constantFrom(".*", "a*", "a+", "[ab]*", "(a|a)", "(a|ab)", "(?:a|b)", "a{2,}", "a", "x", "(", ")", "|", "*");
    const adversarial = ["a".repeat(80) + "!", "ab".repeat(40) + "!", "a".repeat(80)];
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const pattern = pieces.join("");
        if (regexProblem(pattern) !== undefined) return;
        const started = performance.now();
        for (const value of adversarial) matchesWhole(pattern, value);
        expect(performance.now() - started).toBeLessThan(100);
      }),
      { numRuns: 1000, seed: 13 },
    );
  });

  it("splits at separators not escaped, keeping other backslashes", () => {
    expect(escapedSplit("a\\,b, c\\d ,", ",")).toEqual(["a,b", "c\\d", ""]);
  });
});

describe("a placement change", () => {
  it("leaves the pod equivalent: running instances stay where they are", () => {
    const [a] = parseServiceSpec(specWith("hostname:UNIQUE")).spec.pods;
    const [b] = parseServiceSpec(specWith("zone:GROUP_BY:3")).spec.pods;
    expect(podsEquivalent(a!, b!)).toBe(true);
  });
});

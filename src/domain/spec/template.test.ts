import { describe, expect, it } from "vitest";
import { failureOf as failure } from "../../../test/fixtures/spec-text.js";
import { SPEC_LIMITS } from "./limits.js";
import { renderTemplate } from "./template.js";

const nest = (depth: number, inner: string, open = "{{#A}}", close = "{{/A}}"): string =>
  open.repeat(depth) + inner + close.repeat(depth);
const DEPTH = SPEC_LIMITS.maxTemplateSectionDepth;


describe("renderTemplate", () => {
  it.each([
    { name: "escaped tag is not HTML-escaped", template: "v: {{X}}", want: `v: a&b<"'>` },
    { name: "triple mustache", template: "v: {{{X}}}", want: `v: a&b<"'>` },
    { name: "ampersand tag", template: "v: {{&X}}", want: `v: a&b<"'>` },
    { name: "set section renders", template: "{{#X}}on{{/X}}", want: "on" },
    { name: "unset section is skipped", template: "{{#OPT}}x: {{MISSING}}{{/OPT}}", want: "" },
    { name: "unset inverted section renders", template: "{{^OPT}}off{{/OPT}}", want: "off" },
    { name: "empty value is set", template: "[{{EMPTY}}]", want: "[]" },
    { name: "comment", template: "a{{! ignored }}b", want: "ab" },
    { name: "changed delimiters", template: "{{=<% %>=}}<% X %>", want: `a&b<"'>` },
    { name: "no tags", template: "name: x", want: "name: x" },
    { name: "no tags keeps a lone brace", template: "a: {b}\n  c: }}", want: "a: {b}\n  c: }}" },
    { name: "dot inside a section is its value", template: "{{#X}}[{{.}}]{{/X}}", want: `[a&b<"'>]` },
    { name: "dot section inside a section", template: "{{#X}}{{#.}}on{{/.}}{{^.}}off{{/.}}{{/X}}", want: "on" },
    { name: "dot inside an inverted section in a section", template: "{{#X}}{{^OFF}}{{{.}}}{{/OFF}}{{/X}}", want: `a&b<"'>` },
    { name: "standalone section lines are dropped", template: "a\n{{#X}}\nb\n{{/X}}\nc", want: "a\nb\nc" },
    { name: "sections nested to the limit", template: nest(DEPTH, "x", "{{#X}}", "{{/X}}"), want: "x" },
    { name: "output of exactly the rendered limit", template: `${"x".repeat(SPEC_LIMITS.maxSpecChars - 7)}{{X}}`, want: `${"x".repeat(SPEC_LIMITS.maxSpecChars - 7)}a&b<"'>` },
    {
      name: "a parameter named like an Object method",
      template: "{{hasOwnProperty}}{{X}}{{#hasOwnProperty}}{{X}}{{/hasOwnProperty}}",
      want: `1a&b<"'>a&b<"'>`,
    },
  ])("$name", ({ template, want }) => {
    expect(renderTemplate(template, { X: `a&b<"'>`, EMPTY: "", hasOwnProperty: "1" })).toBe(want);
  });

  it("lists every unset variable once, in template order", () => {
    const err = failure(() => renderTemplate("{{A}} {{{B}}} {{&C}} {{A}} {{SET}}", { SET: "1" }));
    expect(err.code).toBe("invalid_argument");
    expect(err.violations).toEqual([
      { field: "parameters.A", reason: "template variable A is not set" },
      { field: "parameters.B", reason: "template variable B is not set" },
      { field: "parameters.C", reason: "template variable C is not set" },
    ]);
  });

  it.each([
    { name: "inside a set section", template: "{{#ON}}{{INNER}}{{/ON}}", params: { ON: "yes" } },
    { name: "inside an unset inverted section", template: "{{^OFF}}{{INNER}}{{/OFF}}", params: {} },
    {
      name: "inside an empty-valued inverted section",
      template: "{{^E}}{{INNER}}{{/E}}",
      params: { E: "" },
    },
  ])("requires variables $name", ({ template, params }) => {
    const err = failure(() => renderTemplate(template, params));
    expect(err.violations.map((v) => v.field)).toEqual(["parameters.INNER"]);
  });

  it("does not find names on Object.prototype", () => {
    const err = failure(() => renderTemplate("{{constructor}} {{toString}}", {}));
    expect(err.violations.map((v) => v.field)).toEqual([
      "parameters.constructor",
      "parameters.toString",
    ]);
  });

  it.each([
    {
      name: "unclosed section",
      template: "{{#A}} x",
      reason: /template syntax error: Unclosed section "A"/,
    },
    { name: "unclosed tag", template: "v: {{A", reason: /template syntax error: Unclosed tag/ },
    { name: "mismatched section", template: "{{#A}}{{/B}}", reason: /template syntax error/ },
    { name: "partial", template: "{{>other}}", reason: /partials are not supported/ },
    { name: "dotted name", template: "{{a.b}}", reason: /dotted names are not supported/ },
    { name: "dot at top level", template: "x\n{{.}}", reason: /^\{\{\.\}\} outside a \{\{#section\}\} has no value \(line 2\)$/ },
    { name: "triple dot at top level", template: "{{{.}}}", reason: /\{\{\.\}\} outside a \{\{#section\}\}/ },
    { name: "dot in a top-level inverted section", template: "{{^B}}{{.}}{{/B}}", reason: /\{\{\.\}\} outside/ },
    { name: "dot section at top level", template: "{{#.}}x{{/.}}", reason: /\{\{\.\}\} outside/ },
    { name: "empty tag", template: "a\nb {{ }}", reason: /^empty tag at line 2$/ },
    { name: "empty section", template: "{{#}}x{{/}}", reason: /^empty tag at line 1$/ },
    { name: "bad delimiters", template: "{{= =}}", reason: /template syntax error: Invalid tags/ },
    {
      name: "syntax error line",
      template: "a: 1\nb: {{#A}}\n",
      reason: /^template syntax error: Unclosed section "A" at line 3$/,
    },
    {
      name: "long section name, abbreviated",
      template: `{{#${"N".repeat(5000)}}}`,
      reason: /^template syntax error: Unclosed section "N{64}…\(5000 chars\)" at line 1$/,
    },
    {
      name: "3000 nested set sections",
      template: nest(3000, "x"),
      reason: new RegExp(`^sections nested deeper than ${DEPTH} at line 1 \\(SPEC_LIMITS\\.maxTemplateSectionDepth\\)$`),
    },
    { name: "one section too deep", template: nest(DEPTH + 1, "x"), reason: /sections nested deeper than/ },
    { name: "20,000 nested unset sections around text", template: nest(20_000, "", "{{#B}}x\n", "{{/B}}"), reason: new RegExp(`deeper than ${DEPTH} at line ${DEPTH + 1} `) },
    { name: "80,000 unclosed sections", template: "{{#A}}".repeat(80_000), reason: /Unclosed section "A"/ },
    { name: "80,000 unopened sections", template: "{{/A}}".repeat(80_000), reason: /Unopened section "A" at line 1/ },
    {
      name: "100,000 tags of a 500,000-character value (output stopped at the limit)",
      template: "{{V}}".repeat(100_000),
      reason: new RegExp(`^exceeds SPEC_LIMITS\\.maxSpecChars \\(at most ${SPEC_LIMITS.maxSpecChars}, got at least \\d+\\)$`),
    },
    { name: "text and tags one past the rendered limit", template: `${"x".repeat(SPEC_LIMITS.maxSpecChars)}{{A}}`, reason: /maxSpecChars \(at most \d+, got at least 262145\)/ },
    {
      name: "oversized template",
      template: "x".repeat(SPEC_LIMITS.maxTemplateChars + 1),
      reason: /SPEC_LIMITS\.maxTemplateChars/,
    },
  ])("rejects $name with field spec", ({ template, reason }) => {
    const err = failure(() => renderTemplate(template, { A: "1", B: "", V: "x".repeat(500_000) }));
    expect(err.code).toBe("invalid_argument");
    expect(err.violations).toHaveLength(1);
    expect(err.violations[0]?.field).toBe("spec");
    expect(err.violations[0]?.reason).toMatch(reason);
  });

  it("quotes a long unset variable name abbreviated", () => {
    const name = "V".repeat(10_000);
    const err = failure(() => renderTemplate(`{{${name}}}`, {}));
    expect(err.violations).toEqual([
      { field: `parameters.${"V".repeat(64)}…(10000 chars)`, reason: `template variable ${"V".repeat(64)}…(10000 chars) is not set` },
    ]);
  });

  it("reports each of 40,000 unset variables once", () => {
    const template = Array.from({ length: 40_000 }, (_, i) => `{{V${i % 20_000}}}`).join("\n");
    expect(failure(() => renderTemplate(template, {})).violations).toHaveLength(20_000);
  });
});

import { describe, expect, it } from "vitest";
import { failureOf as failure } from "../../../test/fixtures/spec-text.js";
import { renderTemplate } from "./template.js";


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
  ])("$name", ({ template, want }) => {
    expect(renderTemplate(template, { X: `a&b<"'>`, EMPTY: "" })).toBe(want);
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
  ])("rejects $name with field spec", ({ template, reason }) => {
    const err = failure(() => renderTemplate(template, { A: "1" }));
    expect(err.code).toBe("invalid_argument");
    expect(err.violations).toHaveLength(1);
    expect(err.violations[0]?.field).toBe("spec");
    expect(err.violations[0]?.reason).toMatch(reason);
  });
});
